using System.Numerics;
using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Scheduling;

/// <summary>A pod in the queue, with its current (possibly relaxed) constraints.</summary>
internal sealed class PodState(V1Pod pod, Resources requests, PodConstraints constraints, Shape shape)
{
    public V1Pod Pod { get; } = pod;

    public Resources Requests { get; } = requests;

    public PodConstraints Constraints { get; } = constraints;

    public Shape Shape { get; set; } = shape;

    public Bin? Bin { get; set; }

    /// <summary>The instance type (index in <see cref="HintTemplate"/>) the LP-guided packing gives this pod, or -1.</summary>
    public int Hint { get; set; } = -1;

    public Template? HintTemplate { get; set; }

    public Dictionary<string, string> Reasons { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Pods that need a node of their own (hostname anti-affinity among themselves) first, so every node that must
    /// exist is open before the rest fill them; then upstream's order: CPU descending, memory descending, creation
    /// time and UID.
    /// </summary>
    public static int Order(PodState a, PodState b)
    {
        var c = b.Shape.OpensNode.CompareTo(a.Shape.OpensNode);
        if (c != 0)
        {
            return c;
        }


        c = b.Requests.CpuMilli.CompareTo(a.Requests.CpuMilli);
        if (c != 0)
        {
            return c;
        }

        c = b.Requests.Memory.CompareTo(a.Requests.Memory);
        if (c != 0)
        {
            return c;
        }

        c = Nullable.Compare(a.Pod.Metadata?.CreationTimestamp, b.Pod.Metadata?.CreationTimestamp);
        return c != 0 ? c : string.CompareOrdinal(a.Pod.Metadata?.Uid, b.Pod.Metadata?.Uid);
    }
}

/// <summary>What identical pods share: their requirements, tolerations, topology groups and ports.</summary>
internal sealed class Shape
{
    public Shape(int id, PodConstraints constraints, Solver solver)
    {
        Id = id;
        Constraints = constraints;
        var errors = new List<string>();
        NodeRequirements = constraints.NodeRequirements(errors);
        if (NodeRequirements.IsUnsatisfiable)
        {
            errors.Add($"its node requirements contradict each other ({NodeRequirements})");
        }

        NodeRequirementsWithoutHostname = NodeRequirements.Clone().Remove(Labels.Hostname);
        HostnameRequirement = NodeRequirements.TryGet(Labels.Hostname, out var host) ? host : null;

        foreach (var c in constraints.Spread)
        {
            if (c.MaxSkew < 1 || string.IsNullOrEmpty(c.TopologyKey) || c.WhenUnsatisfiable is not ("DoNotSchedule" or "ScheduleAnyway"))
            {
                errors.Add($"invalid topology spread constraint (topologyKey '{c.TopologyKey}', maxSkew {c.MaxSkew}, whenUnsatisfiable '{c.WhenUnsatisfiable}')");
                continue;
            }

            var group = solver.SpreadGroupFor(c, constraints);
            Owned.Add((group, group.Selects(constraints.Namespace, constraints.Labels)));
        }

        foreach (var term in constraints.AffinityTerms)
        {
            var group = solver.GroupFor(TopologyType.Affinity, term, constraints);
            Owned.Add((group, group.Selects(constraints.Namespace, constraints.Labels)));
            if (!group.IsHostname && NodeRequirements.Get(group.Key) is { } domains && !group.OwnerDomains.Contains(domains))
            {
                group.OwnerDomains.Add(domains);
            }
        }

        foreach (var term in constraints.AntiAffinityTerms)
        {
            var group = solver.GroupFor(TopologyType.AntiAffinity, term, constraints);
            Owned.Add((group, group.Selects(constraints.Namespace, constraints.Labels)));
            InverseOwned.Add(solver.GroupFor(TopologyType.AntiAffinity, term, constraints, inverse: true));
        }

        foreach (var (group, _) in Owned)
        {
            if (string.IsNullOrEmpty(group.Key))
            {
                errors.Add("a pod affinity term has an empty topologyKey");
            }
            else if (group.Selector.Error is { } selectorError)
            {
                errors.Add(selectorError);
            }
        }

        RequirementError = errors.Count > 0 ? string.Join("; ", errors) : null;
        OpensNode = Owned.Any(o => o.Group.IsHostname && o.Group.Type == TopologyType.AntiAffinity && o.SelfSelecting);
    }

    /// <summary>No two pods of this shape share a node (required hostname anti-affinity that selects themselves).</summary>
    public bool OpensNode { get; }

    public int Id { get; }

    public PodConstraints Constraints { get; }

    public Requirements NodeRequirements { get; }

    public Requirements NodeRequirementsWithoutHostname { get; }

    public Requirement? HostnameRequirement { get; }

    /// <summary>Why no node can ever take pods of this shape (malformed constraints), or null.</summary>
    public string? RequirementError { get; }

    public List<(TopologyGroup Group, bool SelfSelecting)> Owned { get; } = [];

    public List<TopologyGroup> InverseOwned { get; } = [];

    public List<TopologyGroup> SelectedBy { get; } = [];

    public List<TopologyGroup> InverseSelecting { get; } = [];

    /// <summary>True when a hostname-keyed group counts these pods or they own one (moving them changes per-node counts).</summary>
    public bool TouchesHostname => Owned.Any(o => o.Group.IsHostname) || SelectedBy.Any(g => g.IsHostname) || InverseOwned.Any(g => g.IsHostname) || InverseSelecting.Any(g => g.IsHostname);

    /// <summary>The non-hostname keys of every group these pods own or are counted by.</summary>
    public IReadOnlyList<string> TopologyKeys => _topologyKeys ??= [.. Owned.Select(o => o.Group).Concat(SelectedBy).Concat(InverseOwned).Concat(InverseSelecting)
        .Where(g => !g.IsHostname).Select(g => g.Key).Distinct(StringComparer.Ordinal)];

    private string[]? _topologyKeys;

    public bool Owns(TopologyGroup group) => Owned.Any(o => ReferenceEquals(o.Group, group));

    public void Link(IEnumerable<TopologyGroup> groups)
    {
        _topologyKeys = null;
        SelectedBy.Clear();
        InverseSelecting.Clear();
        foreach (var g in groups)
        {
            if (g.Selects(Constraints.Namespace, Constraints.Labels))
            {
                (g.Inverse ? InverseSelecting : SelectedBy).Add(g);
            }
        }
    }
}

/// <summary>A node the pods can go to: an existing node or in-flight NodeClaim, or a NodeClaim planned in this solve.</summary>
internal sealed class Bin(int id)
{
    public int Id { get; } = id;

    public bool Existing { get; init; }

    public ExistingNode? Node { get; init; }

    public Template? Template { get; init; }

    public int ReqId { get; set; }

    public IReadOnlyList<V1Taint> Taints { get; init; } = [];

    public required string Hostname { get; init; }

    /// <summary>Existing nodes: what is free before this solve.</summary>
    public Resources Cap { get; init; }

    public Resources Used { get; set; }

    /// <summary>Planned NodeClaims: the instance types still possible (bit per template type, cheapest first).</summary>
    public ulong[] Mask { get; set; } = [];

    /// <summary>Planned NodeClaims: the cheapest instance type that fits what is placed.</summary>
    public int Cur { get; set; }

    /// <summary>
    /// Planned NodeClaims of a NodePool with limits: what this NodeClaim holds of them (the largest instance type it
    /// could become when it was opened, which narrowed its <see cref="Mask"/> to what the limits then left).
    /// </summary>
    public Resources Reserved { get; set; }

    /// <summary>
    /// Planned NodeClaims opened during the greedy pass: an instance type, at least as large as <see cref="Cur"/>, whose
    /// room later pods may fill at no extra cost (the NodeClaim is sized for an efficient type, then shrunk to the
    /// cheapest type that fits what it got); -1 for none.
    /// </summary>
    public int Target { get; set; } = -1;

    /// <summary>The room pods may fill without a larger instance type being chosen.</summary>
    public int Room => Target >= 0 ? Target : Cur;

    public List<PodState> Pods { get; } = [];

    public List<HostPort> Ports { get; } = [];

    /// <summary>Planned NodeClaims opened for an LP-hinted pod: that pod's hinted type, which its other pods share; -1 for none.</summary>
    public int Hint { get; set; } = -1;

    /// <summary>Whether a pod with <paramref name="pod"/>'s hint may join while packing (hints of other types keep out).</summary>
    public bool TakesHint(PodState pod) => Hint < 0 || pod.Hint < 0 || pod.HintTemplate != Template || pod.Hint == Hint;
}

/// <summary>The outcome of a successful <c>CanAdd</c>: narrowed requirements, remaining instance types and the cost step.</summary>
internal sealed class Plan
{
    private ulong[] _mask = [];

    public int ReqId { get; private set; }

    public ulong[]? Mask { get; private set; }

    public int Cur { get; private set; }

    public decimal Delta { get; private set; }

    public int Target { get; private set; } = -1;

    public void Set(int reqId, ReadOnlySpan<ulong> mask, int cur, decimal delta, bool hasMask = true, int target = -1)
    {
        ReqId = reqId;
        Cur = cur;
        Delta = delta;
        Target = target;
        if (!hasMask)
        {
            Mask = null;
            return;
        }

        if (_mask.Length != mask.Length)
        {
            _mask = new ulong[mask.Length];
        }

        mask.CopyTo(_mask);
        Mask = _mask;
    }

    public void Set(int reqId, ulong[]? mask, int cur, decimal delta, int target = -1) => Set(reqId, mask ?? [], cur, delta, mask is not null, target);

    public void CopyFrom(Plan other) => Set(other.ReqId, other.Mask, other.Cur, other.Delta, other.Target);
}

/// <summary>
/// A max segment tree over bins' free CPU, memory and pod slots: finds the first bin (in creation order) with room
/// for a request without visiting the bins that have none, so a pod's search does not grow with the batch.
/// </summary>
internal sealed class BinTree
{
    private readonly long[] _cpu;
    private readonly long[] _mem;
    private readonly long[] _pods;

    public BinTree(int capacity)
    {
        Capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, capacity));
        _cpu = new long[2 * Capacity];
        _mem = new long[2 * Capacity];
        _pods = new long[2 * Capacity];
        Array.Fill(_cpu, -1);
        Array.Fill(_mem, -1);
        Array.Fill(_pods, -1);
    }

    public int Capacity { get; }

    public void Set(int index, Resources free)
    {
        var i = index + Capacity;
        _cpu[i] = free.CpuMilli;
        _mem[i] = free.Memory;
        _pods[i] = free.Pods;
        for (i >>= 1; i >= 1; i >>= 1)
        {
            _cpu[i] = Math.Max(_cpu[2 * i], _cpu[(2 * i) + 1]);
            _mem[i] = Math.Max(_mem[2 * i], _mem[(2 * i) + 1]);
            _pods[i] = Math.Max(_pods[2 * i], _pods[(2 * i) + 1]);
        }
    }

    /// <summary>The first index at or after <paramref name="from"/> whose free resources cover <paramref name="r"/>, or -1.</summary>
    public int FindFirst(int from, Resources r) => from >= Capacity ? -1 : Find(1, 0, Capacity, from, r);

    private int Find(int node, int lo, int hi, int from, Resources r)
    {
        if (hi <= from || _cpu[node] < r.CpuMilli || _mem[node] < r.Memory || _pods[node] < r.Pods)
        {
            return -1;
        }

        if (hi - lo == 1)
        {
            return lo;
        }

        var mid = (lo + hi) / 2;
        var left = Find(2 * node, lo, mid, from, r);
        return left >= 0 ? left : Find((2 * node) + 1, mid, hi, from, r);
    }
}

/// <summary>Requirements a pod's volumes impose: the zone of a bound volume, the allowed topologies of a storage class.</summary>
internal static class VolumeTopology
{
    public static Requirements Requirements(V1Pod pod, VolumeCatalog catalog, ICollection<string> problems)
    {
        var result = new Requirements();
        var ns = pod.Metadata?.NamespaceProperty ?? "default";
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            string? claimName = null;
            string? ephemeralClass = null;
            if (volume.PersistentVolumeClaim is { } pvc)
            {
                claimName = pvc.ClaimName;
            }
            else if (volume.Ephemeral is { } ephemeral)
            {
                claimName = $"{pod.Metadata?.Name}-{volume.Name}";
                ephemeralClass = ephemeral.VolumeClaimTemplate?.Spec?.StorageClassName;
            }

            if (claimName is null)
            {
                continue;
            }

            string? storageClass;
            if (catalog.Claims.TryGetValue($"{ns}/{claimName}", out var claim))
            {
                if (!string.IsNullOrEmpty(claim.Spec?.VolumeName))
                {
                    if (!catalog.Volumes.TryGetValue(claim.Spec.VolumeName, out var pv))
                    {
                        problems.Add($"persistentvolume {claim.Spec.VolumeName} of claim {ns}/{claimName} not found");
                        continue;
                    }

                    var terms = pv.Spec?.NodeAffinity?.Required?.NodeSelectorTerms;
                    if (terms is { Count: > 0 })
                    {
                        // Terms are ORed; like upstream, the first one is used.
                        result.Add(Scheduling.Requirements.FromNodeSelector(terms[0].MatchExpressions, problems));
                    }

                    continue;
                }

                storageClass = claim.Spec?.StorageClassName;
            }
            else if (volume.Ephemeral is not null)
            {
                storageClass = ephemeralClass;
            }
            else
            {
                problems.Add($"persistentvolumeclaim {ns}/{claimName} not found");
                continue;
            }

            if (string.IsNullOrEmpty(storageClass))
            {
                continue;
            }

            if (!catalog.StorageClasses.TryGetValue(storageClass, out var sc))
            {
                problems.Add($"storageclass {storageClass} of claim {ns}/{claimName} not found");
                continue;
            }

            var topology = sc.AllowedTopologies?.FirstOrDefault();
            foreach (var expression in topology?.MatchLabelExpressions ?? [])
            {
                result.Add(Requirement.In(Scheduling.Requirements.NormalizeKey(expression.Key), expression.Values ?? []));
            }
        }

        return result;
    }
}

/// <summary>Per-template view of one shape: which instance types its requirements allow, and whether it tolerates the taints.</summary>
internal sealed class TemplateShape
{
    public required ulong[] Mask { get; init; }

    public string? TaintError { get; init; }
}

/// <summary>One NodePool as a NodeClaim template for this solve: its instance types cheapest first, with their room.</summary>
internal sealed class Template
{
    private readonly Solver _solver;
    private readonly Dictionary<int, TemplateShape> _shapes = [];
    private readonly Dictionary<int, ulong[]> _reqMasks = [];
    private readonly Requirements _requirements;
    private readonly string? _error;
    private readonly (string Key, int Min)[] _minValues;
    private int _baseReqId = -1;
    private ulong[]? _limitMask;

    public Template(Solver solver, SchedulingNodePool pool, int index)
    {
        _solver = solver;
        Pool = pool;
        Index = index;
        _requirements = pool.Requirements.Clone().Add(Requirement.In(Labels.NodePool, pool.Name));
        foreach (var (k, v) in pool.Labels)
        {
            _requirements.Add(Requirement.In(Requirements.NormalizeKey(k), v));
        }

        _minValues = [.. _requirements.Values.Where(r => r.MinValues is > 0).Select(r => (r.Key, r.MinValues!.Value))];
        var candidates = new List<(InstanceType Type, decimal Price)>();
        if (_requirements.IsUnsatisfiable)
        {
            _error = $"its requirements cannot be satisfied ({_requirements})";
        }
        else
        {
            foreach (var type in pool.InstanceTypes)
            {
                if (type.Requirements.Intersects(_requirements) is not null)
                {
                    continue;
                }

                if (type.CheapestOffering(_requirements) is { } offering)
                {
                    candidates.Add((type, offering.Price));
                }
            }

            if (candidates.Count == 0)
            {
                _error = pool.InstanceTypes.Count == 0
                    ? "the cloud provider offers no instance types for it"
                    : "no instance type with an available offering matches its requirements";
            }
        }

        candidates.Sort((a, b) => a.Price != b.Price ? a.Price.CompareTo(b.Price) : string.CompareOrdinal(a.Type.Name, b.Type.Name));
        Types = [.. candidates.Select(c => c.Type)];
        Prices = [.. candidates.Select(c => c.Price)];
        Words = Math.Max(1, (Types.Length + 63) / 64);
        FullMask = new ulong[Words];
        for (var t = 0; t < Types.Length; t++)
        {
            FullMask[t >> 6] |= 1UL << (t & 63);
        }

        Daemon = new Resources[Types.Length];
        Avail = new Resources[Types.Length];
        for (var t = 0; t < Types.Length; t++)
        {
            var nodeReqs = _requirements.Intersect(Types[t].Requirements);
            foreach (var daemon in solver.DaemonSetPods)
            {
                if (DaemonRunsOn(daemon, nodeReqs))
                {
                    Daemon[t] += PodResources.Requests(daemon);
                }
            }

            Avail[t] = Types[t].Allocatable - Daemon[t];
            foreach (var req in Types[t].Requirements.Values)
            {
                if (!req.Complement)
                {
                    solver.AddUniverse(req.Key, req.Values);
                }
            }
        }

        foreach (var req in _requirements.Values)
        {
            if (!req.Complement && req.Values.Count > 0)
            {
                solver.AddUniverse(req.Key, req.Values);
            }
        }

        if (pool.Limits is { } limits)
        {
            Remaining = limits - pool.Usage;
        }
    }

    public SchedulingNodePool Pool { get; }

    public int Index { get; }

    public InstanceType[] Types { get; }

    public decimal[] Prices { get; }

    public Resources[] Avail { get; }

    public Resources[] Daemon { get; }

    public int Words { get; }

    public ulong[] FullMask { get; }

    /// <summary>Limits minus usage minus what planned NodeClaims reserve; null without limits.</summary>
    public Resources? Remaining { get; private set; }

    private bool DaemonRunsOn(V1Pod daemon, Requirements nodeRequirements)
    {
        if (Tolerations.FirstUntolerated(Pool.Taints.Where(t => t.Effect != Taints.EffectPreferNoSchedule), daemon.Spec?.Tolerations) is not null)
        {
            return false;
        }

        var c = new PodConstraints(daemon, PreferencePolicy.Ignore, new Requirements());
        return nodeRequirements.Compatible(c.NodeRequirements([]), _solver.WellKnown) is null;
    }

    public TemplateShape ForShape(Shape shape)
    {
        if (_shapes.TryGetValue(shape.Id, out var ts))
        {
            return ts;
        }

        var mask = new ulong[Words];
        for (var t = 0; t < Types.Length; t++)
        {
            if (Types[t].Requirements.Intersects(shape.NodeRequirementsWithoutHostname) is null)
            {
                mask[t >> 6] |= 1UL << (t & 63);
            }
        }

        var taint = Tolerations.FirstUntolerated(Pool.Taints, shape.Constraints.Tolerations, shape.Constraints.IgnorePreferNoSchedule);
        ts = new TemplateShape { Mask = mask, TaintError = taint is null ? null : $"did not tolerate taint {Tolerations.Describe(taint)}" };
        _shapes[shape.Id] = ts;
        return ts;
    }

    private ulong[] ReqMask(int reqId)
    {
        if (_reqMasks.TryGetValue(reqId, out var mask))
        {
            return mask;
        }

        var reqs = _solver.RequirementsOf(reqId);
        mask = new ulong[Words];
        for (var t = 0; t < Types.Length; t++)
        {
            if (Types[t].Requirements.Intersects(reqs) is null && Types[t].CheapestOffering(reqs) is not null)
            {
                mask[t >> 6] |= 1UL << (t & 63);
            }
        }

        _reqMasks[reqId] = mask;
        return mask;
    }

    /// <summary>The cheapest instance type at or after <paramref name="start"/> in <paramref name="mask"/> that fits <paramref name="used"/>, or -1.</summary>
    public int Cheapest(ReadOnlySpan<ulong> mask, Resources used, int start)
    {
        for (var w = start >> 6; w < mask.Length; w++)
        {
            var bits = mask[w];
            if (w == start >> 6)
            {
                bits &= ulong.MaxValue << (start & 63);
            }

            while (bits != 0)
            {
                var t = (w << 6) + BitOperations.TrailingZeroCount(bits);
                if (used.FitsIn(Avail[t]))
                {
                    return t;
                }

                bits &= bits - 1;
            }
        }

        return -1;
    }

    /// <summary>Fits <paramref name="used"/> into <paramref name="bin"/> after narrowing to <paramref name="reqId"/>; fills <paramref name="plan"/>.</summary>
    public string? Fit(Bin bin, Shape shape, int reqId, Resources used, Plan plan)
    {
        Span<ulong> mask = stackalloc ulong[Words];
        var shapeMask = ForShape(shape).Mask;
        var reqMask = ReqMask(reqId);
        var any = false;
        for (var w = 0; w < Words; w++)
        {
            mask[w] = bin.Mask[w] & shapeMask[w] & reqMask[w];
            any |= mask[w] != 0;
        }

        if (!any)
        {
            return "no instance type satisfies the requirements of the NodePool, the pod and its topology";
        }

        var start = bin.Pods.Count == 0 ? 0 : bin.Cur;
        var cur = Cheapest(mask, used, start);
        if (cur < 0)
        {
            return bin.Pods.Count == 0
                ? $"no instance type has enough allocatable resources for {used.WithPods(used.Pods)} plus DaemonSet overhead"
                : "no instance type fits it together with the pods already planned";
        }

        foreach (var (key, min) in _minValues)
        {
            var values = new HashSet<string>(StringComparer.Ordinal);
            for (var t = cur; t < Types.Length; t++)
            {
                if ((mask[t >> 6] & (1UL << (t & 63))) != 0 && used.FitsIn(Avail[t]))
                {
                    values.UnionWith(Types[t].Requirements.Get(key).Values);
                }
            }

            if (values.Count < min && _solver.Options.MinValuesPolicy == MinValuesPolicy.Strict)
            {
                return $"minValues requirement is not met for {key} ({values.Count} < {min})";
            }
        }

        var target = bin.Target >= 0 && (mask[bin.Target >> 6] & (1UL << (bin.Target & 63))) != 0 && used.FitsIn(Avail[bin.Target]) ? bin.Target : -1;
        var delta = bin.Pods.Count == 0 ? Prices[cur] : target >= 0 ? 0 : Prices[cur] - Prices[bin.Cur];
        plan.Set(reqId, mask, cur, delta, true, target);
        return null;
    }

    private readonly Dictionary<(int ReqId, Resources Requests), int> _targets = [];

    /// <summary>The price of type <paramref name="t"/> shared by as many copies of a pod as it holds (fractionally).</summary>
    public decimal PerPodCost(int t, Resources requests)
    {
        var a = Avail[t];
        var copies = Math.Min(
            Math.Min(requests.CpuMilli > 0 ? a.CpuMilli / (decimal)requests.CpuMilli : decimal.MaxValue, requests.Memory > 0 ? a.Memory / (decimal)requests.Memory : decimal.MaxValue),
            requests.Pods > 0 ? a.Pods / (decimal)requests.Pods : decimal.MaxValue);
        return copies >= 1 ? Prices[t] / Math.Min(copies, 1_000_000_000m) : Prices[t];
    }

    /// <summary>
    /// The instance type of <paramref name="mask"/> that would hold copies of a pod of <paramref name="requests"/> at the
    /// lowest price per pod (fractionally: price over the fewest copies any resource allows), the room a NodeClaim
    /// opened for it is sized to; -1 when that is no larger than <paramref name="cur"/>.
    /// </summary>
    public int EfficientTarget(int reqId, ReadOnlySpan<ulong> mask, Resources requests, int cur)
    {
        if (!_targets.TryGetValue((reqId, requests), out var best))
        {
            best = -1;
            var bestCost = double.MaxValue;
            for (var w = 0; w < mask.Length; w++)
            {
                for (var bits = mask[w]; bits != 0; bits &= bits - 1)
                {
                    var t = (w << 6) + BitOperations.TrailingZeroCount(bits);
                    var a = Avail[t];
                    if (!requests.FitsIn(a))
                    {
                        continue;
                    }

                    var cost = (double)PerPodCost(t, requests);
                    if (cost < bestCost * (1 - 1e-9))
                    {
                        (best, bestCost) = (t, cost);
                    }
                }
            }

            _targets[(reqId, requests)] = best;
        }

        return best >= 0 && best != cur && !Avail[best].FitsIn(Avail[cur]) ? best : -1;
    }

    public string? TryNew(PodState pod, Plan plan)
    {
        if (_error is not null)
        {
            return _error;
        }

        if (_baseReqId < 0)
        {
            var baseReqs = _requirements.Clone();
            foreach (var key in _solver.TopologyKeys)
            {
                var current = baseReqs.Get(key);
                if (!current.Complement)
                {
                    continue;
                }

                var values = Types.SelectMany(t => t.Requirements.Get(key) is { Complement: false } r ? r.Values : []).Where(current.Has).Distinct().ToList();
                if (values.Count > 0)
                {
                    baseReqs.Add(Requirement.In(key, values));
                }
            }

            _baseReqId = _solver.InternRequirements(baseReqs);
        }

        var mask = LimitMask();
        if (mask is null)
        {
            return "the NodePool's limits are exhausted";
        }

        var probe = _solver.ProbeBin(this, _baseReqId, mask);
        var reason = _solver.CanAdd(probe, pod, plan);
        if (reason is not null && !ReferenceEquals(mask, FullMask))
        {
            reason += "; the NodePool's limits leave room only for smaller instance types";
        }

        if (reason is null && Remaining is not null)
        {
            // The reservation is the largest instance type the NodeClaim could still become.
            var reserve = default(Resources);
            for (var t = 0; t < Types.Length; t++)
            {
                if ((plan.Mask![t >> 6] & (1UL << (t & 63))) != 0)
                {
                    reserve = Resources.Max(reserve, Types[t].Capacity);
                }
            }

            _pendingReserve = reserve.With(ResourceNames.Nodes, 1);
        }

        return reason;
    }

    private Resources _pendingReserve;

    public Bin Create(Plan plan)
    {
        var bin = _solver.NewBin(this);
        bin.ReqId = plan.ReqId;
        if (Remaining is { } remaining)
        {
            Remaining = remaining - _pendingReserve;
            bin.Reserved = _pendingReserve;
            _limitMask = null;
        }

        return bin;
    }

    /// <summary>
    /// The instance types <paramref name="bin"/>'s pods allow, without the narrowing the NodePool's limits made when it
    /// was opened: with limits, from its requirement set and its pods' shapes; without, its mask as it is.
    /// </summary>
    public ulong[] MaskWithoutLimits(Bin bin)
    {
        if (Remaining is null)
        {
            return bin.Mask;
        }

        var mask = (ulong[])ReqMask(bin.ReqId).Clone();
        foreach (var pod in bin.Pods)
        {
            var shapeMask = ForShape(pod.Shape).Mask;
            for (var w = 0; w < Words; w++)
            {
                mask[w] &= shapeMask[w];
            }
        }

        return mask;
    }

    /// <summary>
    /// <paramref name="mask"/> without the instance types larger, in some resource the NodePool limits, than
    /// <paramref name="reserved"/> (what the NodeClaims one NodeClaim replaces held of the limits); as it is without limits.
    /// </summary>
    public ulong[] WithinReserved(ulong[] mask, Resources reserved)
    {
        if (Remaining is null)
        {
            return mask;
        }

        var result = (ulong[])mask.Clone();
        foreach (var name in Pool.Limits!.Value.Names)
        {
            if (name == ResourceNames.Nodes)
            {
                continue;
            }

            for (var t = 0; t < Types.Length; t++)
            {
                if (Types[t].Capacity.Get(name) > reserved.Get(name))
                {
                    result[t >> 6] &= ~(1UL << (t & 63));
                }
            }
        }

        return result;
    }

    private ulong[]? LimitMask()
    {
        if (Remaining is not { } remaining)
        {
            return FullMask;
        }

        if (_limitMask is not null)
        {
            return _limitMask;
        }

        if (Pool.Limits!.Value.Get(ResourceNames.Nodes) > 0 && remaining.Get(ResourceNames.Nodes) < 1)
        {
            return null;
        }

        var mask = new ulong[Words];
        var any = false;
        var limitNames = Pool.Limits!.Value.Names.Where(n => n != ResourceNames.Nodes).ToList();
        for (var t = 0; t < Types.Length; t++)
        {
            var capacity = Types[t].Capacity;
            if (limitNames.All(n => capacity.Get(n) <= remaining.Get(n)))
            {
                mask[t >> 6] |= 1UL << (t & 63);
                any = true;
            }
        }

        return _limitMask = any ? mask : null;
    }

    private readonly Dictionary<int, List<(int Index, decimal Price, string[] CapacityTypes)>> _finalCandidates = [];

    /// <summary>The instance types possible under a requirement set, with their exact cheapest price, cheapest first.</summary>
    private List<(int Index, decimal Price, string[] CapacityTypes)> FinalCandidates(int reqId, Requirements requirements)
    {
        if (_finalCandidates.TryGetValue(reqId, out var list))
        {
            return list;
        }

        list = [];
        var mask = ReqMask(reqId);
        for (var t = 0; t < Types.Length; t++)
        {
            if ((mask[t >> 6] & (1UL << (t & 63))) != 0 && Types[t].CheapestOffering(requirements) is { } offering)
            {
                list.Add((t, offering.Price, [.. Types[t].AvailableOfferings(requirements).Select(o => o.CapacityType).Distinct(StringComparer.Ordinal)]));
            }
        }

        list.Sort((a, b) => a.Price != b.Price ? a.Price.CompareTo(b.Price) : string.CompareOrdinal(Types[a.Index].Name, Types[b.Index].Name));
        _finalCandidates[reqId] = list;
        return list;
    }

    private readonly Dictionary<string, (Requirement, Requirement, InstanceType[], Resources)> _finalSets = new(StringComparer.Ordinal);

    /// <summary>
    /// The instance-type and capacity-type requirements, the type list and the smallest DaemonSet overhead of one
    /// chosen set, shared by every NodeClaim that ends with the same set (most of them, in a large batch).
    /// </summary>
    private (Requirement, Requirement, InstanceType[], Resources) FinalSet(List<(InstanceType Type, decimal Price, int Index, string[] CapacityTypes)> chosen)
    {
        var key = string.Join(",", chosen.Select(c => c.Index));
        if (_finalSets.TryGetValue(key, out var set))
        {
            return set;
        }

        set = (
            Requirement.In(Labels.InstanceType, chosen.Select(c => c.Type.Name)),
            Requirement.In(Labels.CapacityType, chosen.SelectMany(c => c.CapacityTypes)),
            [.. chosen.Select(c => c.Type)],
            chosen.Select(c => Daemon[c.Index]).Aggregate(Resources.Min));
        _finalSets[key] = set;
        return set;
    }

    public PlannedNodeClaim? Finalize(Bin bin, Requirements requirements, out string? error)
    {
        error = null;
        var chosen = new List<(InstanceType Type, decimal Price, int Index, string[] CapacityTypes)>();
        foreach (var (t, price, offered) in FinalCandidates(bin.ReqId, requirements))
        {
            if ((bin.Mask[t >> 6] & (1UL << (t & 63))) != 0 && bin.Used.FitsIn(Avail[t]))
            {
                chosen.Add((Types[t], price, t, offered));
            }
        }

        if (chosen.Count == 0)
        {
            error = "no instance type remains for the planned NodeClaim";
            return null;
        }

        if (chosen.Count > _solver.Options.MaxInstanceTypes)
        {
            chosen.RemoveRange(_solver.Options.MaxInstanceTypes, chosen.Count - _solver.Options.MaxInstanceTypes);
        }

        var relaxed = false;
        foreach (var (key, min) in _minValues)
        {
            var values = chosen.SelectMany(c => c.Type.Requirements.Get(key).Values).Distinct(StringComparer.Ordinal).Count();
            if (values < min)
            {
                if (_solver.Options.MinValuesPolicy == MinValuesPolicy.Strict)
                {
                    error = $"minValues requirement is not met for {key} after truncating to {_solver.Options.MaxInstanceTypes} instance types ({values} < {min})";
                    return null;
                }

                relaxed = true;
            }
        }

        var (typeRequirement, capacityRequirement, types, daemon) = FinalSet(chosen);
        var final = requirements.Clone().Add(typeRequirement).Add(capacityRequirement);
        return new PlannedNodeClaim
        {
            NodePool = Pool,
            Requirements = final,
            InstanceTypes = types,
            Pods = [.. bin.Pods.Select(p => p.Pod)],
            Requests = bin.Used + daemon,
            Price = chosen[0].Price,
            MinValuesRelaxed = relaxed,
        };
    }
}

/// <summary>
/// Planned NodeClaims ordered by their free CPU (then memory) on their current cheapest instance type, so a pod's
/// best fit — the NodeClaim it fills most tightly without a larger instance type — is found among the first entries.
/// </summary>
internal sealed class SlackIndex
{
    private readonly SortedSet<(long Cpu, long Memory, long Pods, int Id)> _set = [];
    private readonly Dictionary<int, (long, long, long, int)> _current = [];

    public void Set(int id, Resources slack, bool open)
    {
        if (_current.Remove(id, out var old))
        {
            _set.Remove(old);
        }

        if (open && slack.CpuMilli >= 0 && slack.Memory >= 0 && slack.Pods > 0)
        {
            var entry = (slack.CpuMilli, slack.Memory, slack.Pods, id);
            _set.Add(entry);
            _current[id] = entry;
        }
    }

    /// <summary>Up to <paramref name="count"/> NodeClaims with the most free CPU, most first.</summary>
    public IEnumerable<int> Roomiest(int count)
    {
        foreach (var entry in _set.Reverse())
        {
            if (count-- <= 0)
            {
                yield break;
            }

            yield return entry.Id;
        }
    }

    /// <summary>NodeClaims with at least the requested free CPU, memory and pod slots, tightest CPU first.</summary>
    public IEnumerable<int> WithRoomFor(Resources r)
    {
        foreach (var (cpu, memory, pods, id) in _set.GetViewBetween((r.CpuMilli, long.MinValue, long.MinValue, int.MinValue), (long.MaxValue, long.MaxValue, long.MaxValue, int.MaxValue)))
        {
            _ = cpu;
            if (memory >= r.Memory && pods >= r.Pods)
            {
                yield return id;
            }
        }
    }
}
