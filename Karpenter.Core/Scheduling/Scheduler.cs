using System.Diagnostics;
using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Scheduling;

/// <summary>
/// Simulates where pending pods go: onto existing nodes and in-flight NodeClaims first (first fit), then onto new
/// NodeClaims from NodePools by weight, honouring requirements, taints, topology spread, pod (anti-)affinity, host
/// ports, volume topology, DaemonSet overhead and NodePool limits, relaxing preferences one step at a time as upstream
/// Karpenter does. Pods are taken largest first; each goes where it adds the least cost (a planned NodeClaim it fits
/// without a larger instance type, else the cheapest of growing a recent NodeClaim or opening a new one). An
/// improvement step then tries, within its time budget, to empty the cheapest NodeClaims into the slack of others.
/// It never throws for bad input: a pod that cannot be placed is reported with one reason per NodePool.
/// Disruption uses the same entry point to simulate rescheduling (see <see cref="SchedulingOptions.MaxNewNodeClaims"/>).
/// </summary>
public sealed class Scheduler(TimeProvider timeProvider)
{
    public Scheduler()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Runs one simulation. Cancellation stops it early with the placements made so far.</summary>
    public SchedulingResult Solve(SchedulingInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var options = input.Options;
        var plain = new Solver(input, timeProvider, cancellationToken, hinted: false).Run();
        if (!(options.LpGuidedPacking || options.PatternGuidedPacking) || options.MaxNewNodeClaims is not null || input.Pods.Count > options.LpGuidedMaxPods ||
            cancellationToken.IsCancellationRequested)
        {
            return plain;
        }

        // Deterministic strategies, the cheapest plan kept (ties to the earlier): the pattern-guided packing wins where
        // whole pods must fill small nodes exactly (most mixes on the real catalog), the LP-guided one on some mixes of
        // memory- and CPU-heavy pods, plain best fit elsewhere.
        var candidates = new List<(string Name, SchedulingResult Result)> { ("plain", plain) };
        if (options.PatternGuidedPacking)
        {
            candidates.Add(("patterned", new Solver(input, timeProvider, cancellationToken, patterned: true).Run()));
        }

        if (options.LpGuidedPacking && !cancellationToken.IsCancellationRequested)
        {
            candidates.Add(("guided", new Solver(input, timeProvider, cancellationToken, hinted: true).Run()));
        }

        var phases = new Dictionary<string, double>(plain.Phases, StringComparer.Ordinal);
        foreach (var (name, result) in candidates.Skip(1))
        {
            foreach (var (phase, ms) in result.Phases)
            {
                phases[name + " " + phase] = ms;
            }
        }

        var best = candidates.MinBy(c => (c.Result.PodErrors.Count, c.Result.Price));
        return new SchedulingResult
        {
            NewNodeClaims = best.Result.NewNodeClaims,
            ExistingNodes = best.Result.ExistingNodes,
            PodErrors = best.Result.PodErrors,
            GreedyPrice = plain.GreedyPrice,
            Phases = phases,
            LpGuided = best.Name == "guided",
            PatternGuided = best.Name == "patterned",
        };
    }

    /// <summary>Label keys every cloud provider defines on its nodes (a NodeClaim may leave them undefined).</summary>
    public static IReadOnlySet<string> CoreWellKnownLabels { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        Labels.NodePool, Labels.TopologyZone, Labels.TopologyRegion, Labels.InstanceType, Labels.Arch, Labels.Os,
        Labels.CapacityType, Labels.WindowsBuild,
    };
}

internal sealed partial class Solver
{
    private const int RecentClaims = 16;
    private const int MaxVisited = 512;
    private const int BestFitCandidates = 4;

    private readonly SchedulingInput _input;
    private readonly SchedulingOptions _options;
    private readonly TimeProvider _time;
    private readonly CancellationToken _cancellation;
    private readonly HashSet<string> _wellKnown;
    private readonly List<Template> _templates = [];
    private readonly List<Bin> _bins = [];
    private readonly Dictionary<string, Shape> _shapes = new(StringComparer.Ordinal);
    private readonly List<Shape> _shapeList = [];
    private readonly Dictionary<string, TopologyGroup> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _reqIds = new(StringComparer.Ordinal);
    private readonly List<Requirements> _reqs = [];
    private readonly Dictionary<(int Req, int Shape, bool Existing), (int Req, string? Error)> _compat = [];
    private readonly Dictionary<string, SortedSet<string>> _universe = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Bin> _nodesByName = new(StringComparer.Ordinal);
    private readonly Queue<Bin> _recent = new();
    private readonly Dictionary<string, double> _phases = new(StringComparer.Ordinal);
    private BinTree _existingTree = new(0);
    private readonly SlackIndex _slack = new();
    private int _existingCount;
    private int _newClaims;
    private bool _groupsFrozen;

    private readonly bool _hinted;
    private readonly bool _patterned;

    public Solver(SchedulingInput input, TimeProvider time, CancellationToken cancellation, bool hinted = false, bool patterned = false)
    {
        _hinted = hinted;
        _patterned = patterned;
        _input = input;
        _options = input.Options;
        _time = time;
        _cancellation = cancellation;
        _wellKnown = new HashSet<string>(Scheduler.CoreWellKnownLabels, StringComparer.Ordinal);
        foreach (var key in _options.WellKnownLabels ?? new HashSet<string>())
        {
            _wellKnown.Add(key);
        }

        foreach (var pool in input.NodePools)
        {
            foreach (var type in pool.InstanceTypes)
            {
                _wellKnown.UnionWith(type.Requirements.Keys);
            }
        }
    }

    public SchedulingResult Run()
    {
        var start = _time.GetTimestamp();
        var errors = new List<PodSchedulingError>();
        var pods = Prepare(errors);
        Lap("prepare", ref start);

        pods = PlaceOnPreferredNodes(pods);

        if (_hinted)
        {
            AssignTypeHints(pods);
            Lap("hints", ref start);
        }

        if (_patterned)
        {
            pods = PlacePatterns(pods);
            Lap("patterns", ref start);
        }

        var failed = Schedule(pods);
        Lap("greedy", ref start);

        var greedyPrice = _bins.Where(b => !b.Existing && b.Pods.Count > 0).Sum(b => b.Template!.Prices[b.Cur]);
        Improve();
        Lap("improve", ref start);

        var claims = Finalize(errors);
        foreach (var pod in failed)
        {
            errors.Add(new PodSchedulingError(pod.Pod, pod.Reasons));
        }

        Lap("finalize", ref start);
        return new SchedulingResult
        {
            NewNodeClaims = claims,
            ExistingNodes = [.. _bins.Where(b => b.Existing && b.Pods.Count > 0).Select(b => new ExistingNodePlacement(b.Node!, [.. b.Pods.Select(p => p.Pod)]))],
            PodErrors = errors,
            GreedyPrice = greedyPrice,
            Phases = _phases,
        };
    }

    private void Lap(string phase, ref long start)
    {
        var now = _time.GetTimestamp();
        _phases[phase] = _time.GetElapsedTime(start, now).TotalMilliseconds;
        start = now;
    }

    // ---------------------------------------------------------------- preparation

    private List<PodState> Prepare(List<PodSchedulingError> errors)
    {
        foreach (var node in _input.ExistingNodes)
        {
            var bin = new Bin(_bins.Count)
            {
                Existing = true,
                Node = node,
                Taints = node.Taints,
                Hostname = node.Requirements.Get(Labels.Hostname).Any() ?? node.Name,
                Cap = node.Allocatable - node.Requested,
            };
            bin.Ports.AddRange(node.HostPortsInUse);
            bin.ReqId = Intern(node.Requirements);
            _bins.Add(bin);
            _nodesByName.TryAdd(node.Name, bin);
            foreach (var req in node.Requirements.Values)
            {
                if (!req.Complement && req.Values.Count == 1)
                {
                    Universe(req.Key).Add(req.Values[0]);
                }
            }
        }

        _existingCount = _bins.Count;
        _existingTree = new BinTree(Math.Max(1, _existingCount));
        foreach (var bin in _bins)
        {
            _existingTree.Set(bin.Id, bin.Cap);
        }

        foreach (var pool in _input.NodePools.OrderByDescending(p => p.Weight).ThenBy(p => p.Name, StringComparer.Ordinal))
        {
            _templates.Add(new Template(this, pool, _templates.Count));
        }

        // Every pod's constraints create the topology groups before anything is counted, so counts are complete.
        var pods = new List<PodState>(_input.Pods.Count);
        foreach (var pod in _input.Pods)
        {
            if (pod?.Spec is null)
            {
                if (pod is not null)
                {
                    errors.Add(new PodSchedulingError(pod, new Dictionary<string, string> { ["*"] = "pod has no spec" }));
                }

                continue;
            }

            var problems = new List<string>();
            var requests = PodResources.Requests(pod, problems);
            var volumes = VolumeTopology.Requirements(pod, _input.Volumes, problems);
            if (problems.Count > 0)
            {
                errors.Add(new PodSchedulingError(pod, new Dictionary<string, string> { ["*"] = string.Join("; ", problems) }));
                continue;
            }

            var constraints = new PodConstraints(pod, _options.PreferencePolicy, volumes);
            pods.Add(new PodState(pod, requests, constraints, ShapeOf(constraints)));
        }

        foreach (var bound in _input.BoundPods)
        {
            var c = new PodConstraints(bound.Pod, PreferencePolicy.Respect, new Requirements());
            foreach (var term in c.RequiredAntiAffinity)
            {
                GroupFor(TopologyType.AntiAffinity, term, c, inverse: true);
            }
        }

        _groupsFrozen = true;
        foreach (var group in _groups.Values)
        {
            group.Domains = group.IsHostname ? [] : [.. Universe(group.Key)];
        }

        foreach (var shape in _shapeList)
        {
            shape.Link(_groups.Values);
        }

        CountBoundPods();
        pods.Sort(PodState.Order);
        return pods;
    }

    private SortedSet<string> Universe(string key)
    {
        if (!_universe.TryGetValue(key, out var set))
        {
            _universe[key] = set = new SortedSet<string>(StringComparer.Ordinal);
        }

        return set;
    }

    private int Intern(Requirements requirements)
    {
        var key = requirements.CanonicalKey;
        if (!_reqIds.TryGetValue(key, out var id))
        {
            id = _reqs.Count;
            _reqIds[key] = id;
            _reqs.Add(requirements);
        }

        return id;
    }

    private Shape ShapeOf(PodConstraints constraints)
    {
        var key = constraints.ShapeKey();
        if (_shapes.TryGetValue(key, out var shape))
        {
            return shape;
        }

        shape = new Shape(_shapeList.Count, constraints, this);
        _shapes[key] = shape;
        _shapeList.Add(shape);
        if (_groupsFrozen)
        {
            shape.Link(_groups.Values);
        }

        return shape;
    }

    internal TopologyGroup GroupFor(TopologyType type, V1PodAffinityTerm term, PodConstraints owner, bool inverse = false)
    {
        var namespaces = Namespaces(term, owner.Namespace);
        var key = $"{(inverse ? "I" : type == TopologyType.Affinity ? "A" : "N")}|{PodConstraints.TermKey(term)}|{(namespaces is null ? "*" : string.Join(",", namespaces.Order(StringComparer.Ordinal)))}";
        if (_groups.TryGetValue(key, out var group))
        {
            return group;
        }

        group = new TopologyGroup
        {
            Id = _groups.Count,
            Type = type,
            Key = Requirements.NormalizeKey(term.TopologyKey ?? string.Empty),
            IsHostname = term.TopologyKey == Labels.Hostname,
            Inverse = inverse,
            Namespaces = namespaces,
            Selector = LabelSelector.From(term.LabelSelector),
        };
        return AddGroup(key, group);
    }

    internal TopologyGroup SpreadGroupFor(V1TopologySpreadConstraint c, PodConstraints owner)
    {
        var honorAffinity = !string.Equals(c.NodeAffinityPolicy, "Ignore", StringComparison.Ordinal);
        var honorTaints = string.Equals(c.NodeTaintsPolicy, "Honor", StringComparison.Ordinal);
        var filter = honorAffinity ? owner.NodeAffinityAlternatives() : null;
        if (filter is { Count: 1 } && filter[0].Count == 0)
        {
            filter = null;
        }

        var key = $"S|{PodConstraints.SpreadKey(c, owner)}|{owner.Namespace}|{(filter is null ? "-" : string.Join("/", filter.Select(f => f.CanonicalKey)))}|" +
                  (honorTaints ? string.Join(",", owner.Tolerations.Select(t => $"{t.Key}:{t.OperatorProperty}:{t.Value}:{t.Effect}")) : "-");
        if (_groups.TryGetValue(key, out var group))
        {
            return group;
        }

        group = new TopologyGroup
        {
            Id = _groups.Count,
            Type = TopologyType.Spread,
            Key = Requirements.NormalizeKey(c.TopologyKey ?? string.Empty),
            IsHostname = c.TopologyKey == Labels.Hostname,
            Namespaces = new HashSet<string>(StringComparer.Ordinal) { owner.Namespace },
            Selector = LabelSelector.From(c.LabelSelector, PodConstraints.MatchLabelKeyValues(c, owner)),
            MaxSkew = Math.Max(1, c.MaxSkew),
            MinDomains = c.MinDomains,
            NodeFilter = filter,
            TaintFilter = honorTaints ? owner.Tolerations : null,
        };
        return AddGroup(key, group);
    }

    private TopologyGroup AddGroup(string key, TopologyGroup group)
    {
        if (_groupsFrozen)
        {
            // Relaxation only removes terms, so a group first seen now selects nothing counted so far: keep it
            // consistent by counting what is already placed.
            group.Domains = group.IsHostname ? [] : [.. Universe(group.Key)];
            _groups[key] = group;
            RecountGroup(group);
            return group;
        }

        _groups[key] = group;
        return group;
    }

    private HashSet<string>? Namespaces(V1PodAffinityTerm term, string ownerNamespace)
    {
        var set = new HashSet<string>(term.Namespaces ?? [], StringComparer.Ordinal);
        if (term.NamespaceSelector is { } nsSelector)
        {
            var selector = LabelSelector.From(nsSelector);
            if ((nsSelector.MatchLabels?.Count ?? 0) == 0 && (nsSelector.MatchExpressions?.Count ?? 0) == 0)
            {
                return null; // {} selects every namespace
            }

            foreach (var (ns, labels) in _input.NamespaceLabels)
            {
                if (selector.Matches(labels))
                {
                    set.Add(ns);
                }
            }

            return set;
        }

        if (set.Count == 0)
        {
            set.Add(ownerNamespace);
        }

        return set;
    }

    private void CountBoundPods()
    {
        foreach (var bound in _input.BoundPods)
        {
            if (!_nodesByName.TryGetValue(bound.NodeName, out var bin))
            {
                continue;
            }

            var ns = bound.Pod.Metadata?.NamespaceProperty ?? "default";
            var labels = bound.Pod.Metadata?.Labels ?? new Dictionary<string, string>();
            foreach (var group in _groups.Values)
            {
                if (!group.Inverse && group.Selects(ns, labels))
                {
                    RecordInto(group, bin, anyDomain: group.Type == TopologyType.AntiAffinity);
                }
            }

            var c = new PodConstraints(bound.Pod, PreferencePolicy.Respect, new Requirements());
            foreach (var term in c.RequiredAntiAffinity)
            {
                RecordInto(GroupFor(TopologyType.AntiAffinity, term, c, inverse: true), bin, anyDomain: true);
            }
        }
    }

    private void RecountGroup(TopologyGroup group)
    {
        foreach (var bin in _bins)
        {
            foreach (var pod in bin.Pods)
            {
                if (group.Selects(pod.Constraints.Namespace, pod.Constraints.Labels))
                {
                    RecordInto(group, bin, anyDomain: group.Type == TopologyType.AntiAffinity);
                }
            }
        }
    }

    // ---------------------------------------------------------------- the greedy loop

    /// <summary>
    /// Puts each pod, in queue order, back onto the node or in-flight NodeClaim it was last nominated to
    /// (<see cref="SchedulingInput.PreferredNodes"/>) when it still fits there; returns the others, in order.
    /// </summary>
    private List<PodState> PlaceOnPreferredNodes(List<PodState> pods)
    {
        if (_input.PreferredNodes.Count == 0)
        {
            return pods;
        }

        var plan = new Plan();
        var rest = new List<PodState>(pods.Count);
        foreach (var pod in pods)
        {
            if (_input.PreferredNodes.TryGetValue(SchedulingInput.PodKey(pod.Pod), out var name) && _nodesByName.TryGetValue(name, out var bin) &&
                bin.Existing && CanAdd(bin, pod, plan) is null)
            {
                Commit(bin, pod, plan);
                continue;
            }

            rest.Add(pod);
        }

        return rest;
    }

    private List<PodState> Schedule(List<PodState> queue)
    {
        while (queue.Count > 0)
        {
            var next = new List<PodState>();
            var progress = false;
            foreach (var pod in queue)
            {
                if (_cancellation.IsCancellationRequested)
                {
                    pod.Reasons["*"] = "the scheduling simulation was cancelled before this pod was considered";
                    next.Add(pod);
                    continue;
                }

                if (TryPlace(pod))
                {
                    progress = true;
                    continue;
                }

                next.Add(pod);
            }

            if (_cancellation.IsCancellationRequested)
            {
                return next;
            }

            if (!progress)
            {
                // Nothing placed in a whole pass: give up one preference of each failing pod and try again.
                var relaxed = false;
                foreach (var pod in next)
                {
                    var step = pod.Constraints.Relax(_templates.SelectMany(t => t.Pool.Taints).Concat(_bins.Where(b => b.Existing).SelectMany(b => b.Taints)));
                    if (step is not null)
                    {
                        relaxed = true;
                        pod.Shape = ShapeOf(pod.Constraints);
                    }
                }

                if (!relaxed)
                {
                    return next;
                }
            }

            queue = next;
            queue.Sort(PodState.Order);
        }

        return queue;
    }

    private bool TryPlace(PodState pod)
    {
        pod.Reasons.Clear();
        var plan = new Plan();

        // 1. Existing nodes and in-flight NodeClaims, first fit.
        var r = pod.Requests;
        for (var i = _existingTree.FindFirst(0, r); i >= 0; i = _existingTree.FindFirst(i + 1, r))
        {
            if (CanAdd(_bins[i], pod, plan) is null)
            {
                Commit(_bins[i], pod, plan);
                return true;
            }
        }

        // 2. Planned NodeClaims it fits without a larger instance type: the tightest of the first few that accept it.
        Bin? bestUpgrade = null;
        var bestUpgradePlan = new Plan();
        var bestDelta = decimal.MaxValue;
        Bin? bestFit = null;
        var bestFitPlan = new Plan();
        var bestScore = double.MaxValue;
        Bin? bestOther = null;
        var bestOtherPlan = new Plan();
        var visited = 0;
        var fits = 0;
        foreach (var id in _slack.WithRoomFor(r))
        {
            if (++visited > MaxVisited || fits >= BestFitCandidates)
            {
                break;
            }

            var bin = _bins[id];
            var takes = bin.TakesHint(pod);
            if ((!takes && (bestFit is not null || bestOther is not null)) || CanAdd(bin, pod, plan) is not null)
            {
                continue;
            }

            if (!takes)
            {
                if (plan.Delta == 0)
                {
                    bestOther = bin;
                    bestOtherPlan.CopyFrom(plan);
                }

                continue;
            }

            if (plan.Delta == 0)
            {
                fits++;
                var avail = bin.Template!.Avail[plan.Target >= 0 ? plan.Target : plan.Cur];
                var left = avail - bin.Used - r;
                var score = Math.Max(left.CpuMilli / (double)Math.Max(1, avail.CpuMilli), left.Memory / (double)Math.Max(1, avail.Memory));
                if (score < bestScore)
                {
                    (bestScore, bestFit) = (score, bin);
                    bestFitPlan.CopyFrom(plan);
                }
            }
            else if (plan.Delta < bestDelta && (pod.Hint < 0 || bin.Hint < 0))
            {
                (bestDelta, bestUpgrade) = (plan.Delta, bin);
                bestUpgradePlan.CopyFrom(plan);
            }
        }

        if (bestFit is not null)
        {
            Commit(bestFit, pod, bestFitPlan);
            return true;
        }

        if (bestOther is not null)
        {
            // No NodeClaim of the pod's hinted type has room: the tightest of another type takes it for free.
            Commit(bestOther, pod, bestOtherPlan);
            return true;
        }

        // 3. Growing a planned NodeClaim onto a larger instance type: a recent one, or one of those with the most room.
        foreach (var bin in _recent.Concat(_slack.Roomiest(RecentClaims).Select(id => _bins[id])))
        {
            if ((pod.Hint < 0 || bin.Hint < 0) && CanAdd(bin, pod, plan) is null && plan.Delta < bestDelta)
            {
                (bestDelta, bestUpgrade) = (plan.Delta, bin);
                bestUpgradePlan.CopyFrom(plan);
            }
        }

        // 4. A new NodeClaim from the first NodePool (by weight) that can take it, unless growing one is cheaper.
        Template? chosen = null;
        var newPlan = new Plan();
        if (_options.MaxNewNodeClaims is not { } max || _newClaims < max)
        {
            foreach (var template in _templates)
            {
                var reason = template.TryNew(pod, newPlan);
                if (reason is null)
                {
                    chosen = template;
                    break;
                }

                pod.Reasons[template.Pool.Name] = reason;
            }
        }
        else
        {
            pod.Reasons["*"] = $"no more than {max} new NodeClaims may be created";
        }

        if (bestUpgrade is not null && (chosen is null || bestDelta <= newPlan.Delta))
        {
            Commit(bestUpgrade, pod, bestUpgradePlan);
            return true;
        }

        if (chosen is not null)
        {
            var bin = chosen.Create(newPlan);
            Commit(bin, pod, newPlan);
            if (!pod.Shape.OpensNode && newPlan.Mask is { } mask)
            {
                // Sized for the type the LP gives the pod, or else the type that holds such pods most cheaply;
                // shrunk to what it gets once packing ends.
                var hint = pod.HintTemplate == chosen ? pod.Hint : -1;
                if (hint >= 0 && (mask[hint >> 6] & (1UL << (hint & 63))) != 0 && bin.Used.FitsIn(chosen.Avail[hint]))
                {
                    bin.Hint = hint;
                    bin.Target = hint != bin.Cur && !chosen.Avail[hint].FitsIn(chosen.Avail[bin.Cur]) ? hint : -1;
                }
                else
                {
                    bin.Target = chosen.EfficientTarget(bin.ReqId, mask, pod.Requests, bin.Cur);
                }

                UpdateTree(bin);
            }

            return true;
        }

        if (_templates.Count == 0 && !pod.Reasons.ContainsKey("*"))
        {
            pod.Reasons["*"] = _existingCount == 0 ? "no NodePool is ready to launch capacity" : "no existing node fits it and no NodePool is ready";
        }

        return false;
    }

    /// <summary>Null when <paramref name="pod"/> can join <paramref name="bin"/>, with the result in <paramref name="plan"/>; else why not.</summary>
    internal string? CanAdd(Bin bin, PodState pod, Plan plan)
    {
        var shape = pod.Shape;
        var c = pod.Constraints;

        // Taints.
        if (bin.Existing)
        {
            if (Tolerations.FirstUntolerated(bin.Taints, c.Tolerations, c.IgnorePreferNoSchedule) is { } taint)
            {
                return $"did not tolerate taint {Tolerations.Describe(taint)}";
            }
        }
        else
        {
            var ts = bin.Template!.ForShape(shape);
            if (ts.TaintError is not null)
            {
                return ts.TaintError;
            }
        }

        // Requirements (the placeholder hostname of a planned NodeClaim is checked on its own).
        if (!bin.Existing && shape.HostnameRequirement is { } host && !host.Has(bin.Hostname))
        {
            return "requires a specific hostname";
        }

        var (reqId, error) = Merge(bin, shape);
        if (error is not null)
        {
            return error;
        }

        // Topology spread and pod (anti-)affinity narrow the domains, last.
        error = NarrowTopology(bin, pod, ref reqId);
        if (error is not null)
        {
            return error;
        }

        // Host ports.
        foreach (var port in c.HostPorts)
        {
            foreach (var used in bin.Ports)
            {
                if (port.ConflictsWith(used))
                {
                    return $"host port {port.Protocol}/{port.Port} is already in use";
                }
            }
        }

        var used2 = bin.Used + pod.Requests;
        if (bin.Existing)
        {
            if (!used2.FitsIn(bin.Cap + bin.Used))
            {
                return $"does not fit: needs {pod.Requests}";
            }

            plan.Set(reqId, null, 0, 0);
            return null;
        }

        return bin.Template!.Fit(bin, shape, reqId, used2, plan);
    }

    private (int ReqId, string? Error) Merge(Bin bin, Shape shape)
    {
        var key = (bin.ReqId, shape.Id, bin.Existing);
        if (_compat.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var existing = _reqs[bin.ReqId];
        var incoming = bin.Existing ? shape.NodeRequirements : shape.NodeRequirementsWithoutHostname;
        var error = shape.RequirementError ?? existing.Compatible(incoming, bin.Existing ? null : _wellKnown);
        var result = error is not null ? (-1, error) : (Intern(existing.Intersect(incoming)), (string?)null);
        if (result.Item1 >= 0 && _reqs[result.Item1].IsUnsatisfiable)
        {
            result = (-1, "requirements cannot be satisfied together");
        }

        _compat[key] = result;
        return result;
    }

    private string? NarrowTopology(Bin bin, PodState pod, ref int reqId)
    {
        var shape = pod.Shape;
        foreach (var (group, self) in shape.Owned)
        {
            if (group.IsHostname)
            {
                var count = group.BinCount(bin.Id);
                var ok = group.Type switch
                {
                    TopologyType.Spread => count + (self ? 1 : 0) <= group.MaxSkew,
                    TopologyType.Affinity => count > 0 || (group.Total == 0 && self),
                    _ => count == 0,
                };
                if (!ok)
                {
                    return $"would violate {group.Describe()}";
                }

                continue;
            }

            if (group.Domains.Length == 0)
            {
                if (group.Type == TopologyType.AntiAffinity)
                {
                    continue; // no node carries the key: no domain can hold a conflicting pod
                }

                return $"no node or instance type defines topology key {group.Key}";
            }

            var reqs = _reqs[reqId];
            var nodeDomains = reqs.Get(group.Key);
            List<string>? allowed = null;
            switch (group.Type)
            {
                case TopologyType.Spread:
                    {
                        var podDomains = shape.NodeRequirements.Get(group.Key);
                        var min = int.MaxValue;
                        var eligible = 0;
                        foreach (var d in group.Domains)
                        {
                            if (podDomains.Has(d))
                            {
                                eligible++;
                                min = Math.Min(min, group.Count(d));
                            }
                        }

                        if (group.MinDomains is { } minDomains && eligible < minDomains)
                        {
                            min = 0;
                        }

                        // Pods already on an undecided NodeClaim are counted in the domain it is narrowed to.
                        var undecided = UncountedOn(bin, group, _reqs[bin.ReqId].Get(group.Key));
                        string? best = null;
                        var bestCount = int.MaxValue;
                        foreach (var d in group.Domains)
                        {
                            if (!nodeDomains.Has(d))
                            {
                                continue;
                            }

                            var count = group.Count(d) + undecided + (self ? 1 : 0);
                            if (count - min <= group.MaxSkew && count < bestCount)
                            {
                                (best, bestCount) = (d, count);
                            }
                        }

                        if (best is not null)
                        {
                            allowed = [best];
                        }

                        break;
                    }

                case TopologyType.Affinity:
                    {
                        allowed = [.. group.Domains.Where(d => group.Count(d) > 0 && nodeDomains.Has(d))];
                        if (allowed.Count == 0 && self && !group.Domains.Any(d => group.Count(d) > 0 && shape.NodeRequirements.Get(group.Key).Has(d)))
                        {
                            // The first pod of the group: a domain every other owner can follow it to, if there is one.
                            var first = group.Domains.FirstOrDefault(d => nodeDomains.Has(d) && group.OwnersReach(d)) ?? group.Domains.FirstOrDefault(nodeDomains.Has);
                            allowed = first is null ? [] : [first];
                        }

                        break;
                    }

                default:
                    allowed = [.. group.Domains.Where(d => group.Count(d) == 0 && nodeDomains.Has(d))];
                    break;
            }

            if (allowed is null || allowed.Count == 0)
            {
                return $"would violate {group.Describe()}";
            }

            reqId = NarrowTo(reqId, group.Key, group.Domains, allowed);
        }

        foreach (var group in shape.InverseSelecting)
        {
            if (group.IsHostname)
            {
                if (group.BinCount(bin.Id) > 0)
                {
                    return $"would violate the {group.Describe()} of a pod already there";
                }

                continue;
            }

            if (group.Domains.Length == 0)
            {
                continue;
            }

            var nodeDomains = _reqs[reqId].Get(group.Key);
            var allowed = group.Domains.Where(d => group.Count(d) == 0 && nodeDomains.Has(d)).ToList();
            var possible = group.Domains.Count(nodeDomains.Has);
            if (allowed.Count == 0 && possible > 0)
            {
                return $"would violate the {group.Describe()} of a pod already there";
            }

            if (possible > 0)
            {
                reqId = NarrowTo(reqId, group.Key, group.Domains, allowed);
            }
        }

        DecideCountedDomains(shape, ref reqId);
        return null;
    }

    /// <summary>
    /// A pod that a spread constraint over a non-hostname key counts goes to a NodeClaim whose domain of that key is
    /// decided now (the least counted one it allows), so that every count later spread pods are checked against is
    /// the count kube-scheduler will see whatever order the pods bind in; an undecided NodeClaim's pods would be
    /// counted only once it is narrowed, after spread pods were placed against counts without them.
    /// Likewise a pod that a pod affinity over a non-hostname key selects: uncounted, it is invisible to the pods that
    /// need it, and a self-affinity pod placed later would take a domain of its own while this one may end in another
    /// (upstream counts only decided domains and has this flaw). Its domain is the one every owner of the affinity can
    /// reach, then the one holding most of the selected pods.
    /// </summary>
    private void DecideCountedDomains(Shape shape, ref int reqId)
    {
        DecideAffinityDomains(shape, ref reqId);
        foreach (var group in shape.SelectedBy)
        {
            if (group.Type != TopologyType.Spread || group.IsHostname || group.Domains.Length < 2)
            {
                continue;
            }

            var nodeDomains = _reqs[reqId].Get(group.Key);
            string? best = null;
            var bestCount = int.MaxValue;
            var possible = 0;
            foreach (var d in group.Domains)
            {
                if (!nodeDomains.Has(d))
                {
                    continue;
                }

                possible++;
                var count = 0;
                foreach (var g in shape.SelectedBy)
                {
                    if (g.Type == TopologyType.Spread && string.Equals(g.Key, group.Key, StringComparison.Ordinal))
                    {
                        count += g.Count(d);
                    }
                }

                if (count < bestCount)
                {
                    (best, bestCount) = (d, count);
                }
            }

            if (possible > 1 && best is not null)
            {
                reqId = NarrowTo(reqId, group.Key, group.Domains, [best]);
            }
        }
    }

    private void DecideAffinityDomains(Shape shape, ref int reqId)
    {
        foreach (var group in shape.SelectedBy)
        {
            if (group.Type != TopologyType.Affinity || group.IsHostname || group.Domains.Length < 2)
            {
                continue;
            }

            var nodeDomains = _reqs[reqId].Get(group.Key);
            string? best = null;
            var bestScore = (Reach: false, Count: -1);
            var possible = 0;
            foreach (var d in group.Domains)
            {
                if (!nodeDomains.Has(d))
                {
                    continue;
                }

                possible++;
                var score = (Reach: group.OwnersReach(d), Count: group.Count(d));
                if (best is null || (score.Reach && !bestScore.Reach) || (score.Reach == bestScore.Reach && score.Count > bestScore.Count))
                {
                    (best, bestScore) = (d, score);
                }
            }

            if (possible > 1 && best is not null)
            {
                reqId = NarrowTo(reqId, group.Key, group.Domains, [best]);
            }
        }
    }

    /// <summary>The pods on <paramref name="bin"/> that <paramref name="group"/> selects but does not count yet (its domain is undecided).</summary>
    private static int UncountedOn(Bin bin, TopologyGroup group, Requirement nodeDomains)
    {
        if (bin.Pods.Count == 0)
        {
            return 0;
        }

        var possible = 0;
        foreach (var d in group.Domains)
        {
            if (nodeDomains.Has(d) && ++possible > 1)
            {
                break;
            }
        }

        if (possible <= 1)
        {
            return 0;
        }

        var n = 0;
        foreach (var p in bin.Pods)
        {
            if (p.Shape.SelectedBy.Contains(group))
            {
                n++;
            }
        }

        return n;
    }

    private int NarrowTo(int reqId, string key, string[] domains, List<string> allowed)
    {
        var current = _reqs[reqId].Get(key);
        var narrower = false;
        foreach (var d in domains)
        {
            if (current.Has(d) && !allowed.Contains(d))
            {
                narrower = true;
                break;
            }
        }

        return narrower ? Intern(_reqs[reqId].Clone().Add(Requirement.In(key, allowed))) : reqId;
    }

    private void Commit(Bin bin, PodState pod, Plan plan)
    {
        if (bin.ReqId != plan.ReqId && bin.Pods.Count > 0)
        {
            // Narrowing a NodeClaim to one domain decides the domain of the pods already on it: count them there
            // (upstream leaves them uncounted, which lets later spread pods skew the domain they joined).
            foreach (var p in bin.Pods)
            {
                Record(bin, p, -1);
            }

            bin.ReqId = plan.ReqId;
            foreach (var p in bin.Pods)
            {
                Record(bin, p, +1);
            }
        }

        bin.ReqId = plan.ReqId;
        if (!bin.Existing)
        {
            if (plan.Mask is not null && !plan.Mask.AsSpan().SequenceEqual(bin.Mask))
            {
                bin.Mask = [.. plan.Mask];
            }

            bin.Cur = plan.Cur;
            bin.Target = plan.Target;
        }

        bin.Used += pod.Requests;
        bin.Pods.Add(pod);
        bin.Ports.AddRange(pod.Constraints.HostPorts);
        pod.Bin = bin;
        Record(bin, pod, +1);
        UpdateTree(bin);
    }

    internal void UpdateTree(Bin bin)
    {
        if (bin.Existing)
        {
            _existingTree.Set(bin.Id, bin.Cap + default(Resources) - bin.Used);
        }
        else
        {
            _slack.Set(bin.Id, bin.Pods.Count == 0 ? default : bin.Template!.Avail[bin.Room] - bin.Used, bin.Pods.Count > 0);
        }
    }

    private void Record(Bin bin, PodState pod, int delta)
    {
        var shape = pod.Shape;
        foreach (var group in shape.SelectedBy)
        {
            if (group.Type == TopologyType.Spread && !NodeFilterMatches(group, bin))
            {
                continue;
            }

            RecordInto(group, bin, group.Type == TopologyType.AntiAffinity, delta);
        }

        foreach (var group in shape.InverseOwned)
        {
            RecordInto(group, bin, anyDomain: true, delta);
        }
    }

    private void RecordInto(TopologyGroup group, Bin bin, bool anyDomain, int delta = 1)
    {
        if (group.IsHostname)
        {
            group.AddBinCount(bin.Id, delta);
            return;
        }

        var domains = _reqs[bin.ReqId].Get(group.Key);
        if (anyDomain)
        {
            foreach (var d in group.Domains)
            {
                if (domains.Has(d))
                {
                    group.AddCount(d, delta);
                }
            }

            return;
        }

        string? single = null;
        foreach (var d in group.Domains)
        {
            if (domains.Has(d))
            {
                if (single is not null)
                {
                    return; // the domain is not decided yet: upstream counts only a known domain
                }

                single = d;
            }
        }

        if (single is not null)
        {
            group.AddCount(single, delta);
        }
    }

    private bool NodeFilterMatches(TopologyGroup group, Bin bin)
    {
        if (group.TaintFilter is not null && Tolerations.FirstUntolerated(bin.Taints, group.TaintFilter) is not null)
        {
            return false;
        }

        if (group.NodeFilter is null)
        {
            return true;
        }

        var reqs = _reqs[bin.ReqId];
        foreach (var alternative in group.NodeFilter)
        {
            if (reqs.Compatible(alternative, bin.Existing ? null : _wellKnown) is null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Takes a pod out of a planned NodeClaim, recomputing the NodeClaim's cheapest instance type.</summary>
    private void Remove(Bin bin, PodState pod)
    {
        bin.Pods.Remove(pod);
        bin.Used -= pod.Requests;
        foreach (var port in pod.Constraints.HostPorts)
        {
            bin.Ports.Remove(port);
        }

        Record(bin, pod, -1);
        if (!bin.Existing)
        {
            bin.Cur = bin.Template!.Cheapest(bin.Mask, bin.Used, 0);
        }

        UpdateTree(bin);
    }

    // ---------------------------------------------------------------- results

    private List<PlannedNodeClaim> Finalize(List<PodSchedulingError> errors)
    {
        var claims = new List<PlannedNodeClaim>();
        foreach (var bin in _bins)
        {
            if (bin.Existing || bin.Pods.Count == 0)
            {
                continue;
            }

            var claim = bin.Template!.Finalize(bin, _reqs[bin.ReqId], out var error);
            if (claim is null)
            {
                foreach (var pod in bin.Pods)
                {
                    errors.Add(new PodSchedulingError(pod.Pod, new Dictionary<string, string> { [bin.Template.Pool.Name] = error! }));
                }

                continue;
            }

            claims.Add(claim);
        }

        return claims;
    }

    internal int InternRequirements(Requirements r) => Intern(r);

    internal Requirements RequirementsOf(int id) => _reqs[id];

    internal IReadOnlySet<string> WellKnown => _wellKnown;

    internal IReadOnlyList<V1Pod> DaemonSetPods => _input.DaemonSetPods;

    internal SchedulingOptions Options => _options;

    internal IEnumerable<string> TopologyKeys => _groups.Values.Where(g => !g.IsHostname).Select(g => g.Key).Distinct();

    internal void AddUniverse(string key, IEnumerable<string> values) => Universe(key).UnionWith(values);

    internal Bin NewBin(Template template)
    {
        var bin = new Bin(_bins.Count) { Template = template, Hostname = $"hostname-placeholder-{_bins.Count - _existingCount:D4}", Taints = template.Pool.Taints };
        _bins.Add(bin);
        _newClaims++;
        _recent.Enqueue(bin);
        if (_recent.Count > RecentClaims)
        {
            _recent.Dequeue();
        }

        return bin;
    }

    /// <summary>A dry-run bin for "what if a new NodeClaim took this pod"; its id is the next free one.</summary>
    internal Bin ProbeBin(Template template, int reqId, ulong[] mask) =>
        new(_bins.Count) { Template = template, Hostname = "hostname-placeholder-probe", Taints = template.Pool.Taints, ReqId = reqId, Mask = mask, Cur = 0 };
}
