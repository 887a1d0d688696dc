using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Entities;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;

namespace Karpenter.Core.Disruption;

/// <summary>Why a set of candidates cannot be consolidated (for <c>Unconsolidatable</c> events and logs).</summary>
public sealed record ConsolidationOutcome(Command? Command, string? Reason);

/// <summary>
/// The disruption methods, in upstream's order (emptiness, drift, multi-node and single-node consolidation), as pure
/// decisions over a <see cref="ClusterSnapshot"/>. Consolidation simulates rescheduling the candidates' pods with the
/// real <see cref="Scheduler"/> onto the remaining nodes plus at most one replacement: no replacement means delete; one
/// means replace, only with instance types whose worst launch price is below the candidates' price (spot to spot only
/// when enabled, and for a single node only with enough cheaper spot types); the <c>Balanced</c> policy also weighs
/// savings against disruption.
/// </summary>
public sealed class Consolidator(Scheduler scheduler, TimeProvider time, DisruptionOptions options)
{
    /// <summary>Set when the last multi- or single-node search stopped at its timeout.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>Candidates the last single-node pass could not consolidate, with the reason (for <c>Unconsolidatable</c> events).</summary>
    public IReadOnlyList<(Candidate Candidate, string Reason)> Unconsolidatable { get; private set; } = [];

    /// <summary>Simulations run by the last method (for the benchmark).</summary>
    public int Simulations { get; private set; }

    // ------------------------------------------------------------------ emptiness

    /// <summary>Deletes every consolidatable node without reschedulable pods, within the <c>Empty</c> budgets.</summary>
    public static Command? Emptiness(ClusterSnapshot snapshot, IReadOnlyList<Candidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(candidates);
        var budgets = snapshot.Budgets(DisruptionReason.Empty);
        var chosen = new List<Candidate>();
        foreach (var c in candidates.Where(c => c.ReschedulablePods.Count == 0 && IsConsolidatable(c)).OrderByDescending(c => c.Price))
        {
            if (Take(budgets, c))
            {
                chosen.Add(c);
            }
        }

        return chosen.Count == 0 ? null : new Command { Method = DisruptionMethods.Emptiness, Reason = DisruptionReason.Empty, Candidates = chosen };
    }

    // ------------------------------------------------------------------ drift

    /// <summary>
    /// Drifted NodeClaims, empty ones first (deleted together within the <c>Drifted</c> budgets), otherwise the oldest
    /// drifted node whose pods all fit the remaining nodes plus new NodeClaims, replaced one command at a time.
    /// </summary>
    public ConsolidationOutcome Drift(ClusterSnapshot snapshot, IReadOnlyList<Candidate> candidates, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(candidates);
        Simulations = 0;
        var drifted = candidates.Where(c => c.NodeClaim.IsConditionTrue(ConditionTypes.Drifted))
            .OrderBy(c => c.NodeClaim.GetCondition(ConditionTypes.Drifted)?.LastTransitionTime ?? DateTime.MinValue)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
        if (drifted.Count == 0)
        {
            return new ConsolidationOutcome(null, null);
        }

        var budgets = snapshot.Budgets(DisruptionReason.Drifted);
        var empty = drifted.Where(c => c.ReschedulablePods.Count == 0).Where(c => Take(budgets, c)).ToList();
        if (empty.Count > 0)
        {
            return new ConsolidationOutcome(new Command { Method = DisruptionMethods.Drift, Reason = DisruptionReason.Drifted, Candidates = empty }, null);
        }

        string? reason = null;
        foreach (var c in drifted)
        {
            if (budgets.GetValueOrDefault(c.NodePoolName) <= 0)
            {
                reason ??= $"NodePool \"{c.NodePoolName}\" has no disruption budget left for reason Drifted";
                continue;
            }

            var result = Simulate(snapshot, [c], maxNewNodeClaims: null, cancellationToken);
            if (result.PodErrors.Count > 0)
            {
                reason = $"{c.NodeName}: not all pods would schedule: {result.PodErrors[0].Pod.Metadata.Name}: {result.PodErrors[0].Message}";
                continue;
            }

            return new ConsolidationOutcome(new Command { Method = DisruptionMethods.Drift, Reason = DisruptionReason.Drifted, Candidates = [c], Replacements = result.NewNodeClaims }, null);
        }

        return new ConsolidationOutcome(null, reason);
    }

    // ------------------------------------------------------------------ consolidation

    /// <summary>Candidates consolidation may take: consolidatable, and the policy allows moving pods (not <c>WhenEmpty</c>).</summary>
    public static List<Candidate> ConsolidationCandidates(IEnumerable<Candidate> candidates) =>
        [.. candidates.Where(c => IsConsolidatable(c) && (c.NodePool.Spec.Disruption.ConsolidationPolicy ?? ConsolidationPolicy.WhenEmptyOrUnderutilized) != ConsolidationPolicy.WhenEmpty)
            .OrderBy(c => c.DisruptionCost).ThenByDescending(c => c.Price).ThenBy(c => c.Name, StringComparer.Ordinal)];

    /// <summary>
    /// Multi-node consolidation. Upstream's search (<see cref="MultiNodeSearch.PrefixBinarySearch"/>) takes the first 100
    /// candidates within budgets and binary-searches the largest prefix that can be deleted or replaced by one cheaper
    /// node. Ours (<see cref="MultiNodeSearch.Packing"/>) chooses which candidates to delete among all of them with
    /// <see cref="PackingSearch"/>, verifies that set with the real scheduler (the largest verified prefix of it when the
    /// whole set fails), and only when the model finds nothing to delete falls back to upstream's search for a
    /// replacement. Both stop at <see cref="DisruptionOptions.MultiNodeMaxSimulations"/> simulations (the deterministic
    /// budget) or <see cref="DisruptionOptions.MultiNodeTimeout"/> (the wall-clock safety net), keeping the best found.
    /// </summary>
    public Command? MultiNode(ClusterSnapshot snapshot, IReadOnlyList<Candidate> candidates, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Simulations = 0;
        TimedOut = false;
        LastPlan = null;
        var start = time.GetTimestamp();
        var all = ConsolidationCandidates(candidates);
        if (options.MultiNodeSearch == MultiNodeSearch.PrefixBinarySearch)
        {
            var pool = WithinBudgets(snapshot, all);
            return LargestPrefix(snapshot, pool, Math.Min(100, pool.Count), start, cancellationToken);
        }

        // Ours: the model's set, verified; candidates whose pods the real scheduler could not place as the model did are
        // left out and the model chooses again, until a set verifies or the budget is spent.
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        while (Simulations < options.MultiNodeMaxSimulations)
        {
            if (Expired(start, options.MultiNodeTimeout))
            {
                TimedOut = true;
                return null;
            }

            var plan = PackingSearch.Choose(snapshot, excluded.Count == 0 ? all : [.. all.Where(c => !excluded.Contains(c.Name))]);
            LastPlan = plan;
            if (plan.Removed.Count == 0)
            {
                break;
            }

            var outcome = Evaluate(snapshot, plan.Removed, DisruptionMethods.MultiNodeConsolidation, cancellationToken, out var result);
            if (outcome.Command is not null)
            {
                return outcome.Command;
            }

            var culprits = Culprits(plan.Removed, result);
            if (culprits.Count == 0)
            {
                // Not a placement the model got wrong (a replacement that is not cheaper, the Balanced policy): the
                // largest verified prefix of the set.
                return LargestPrefix(snapshot, plan.Removed, plan.Removed.Count - 1, start, cancellationToken);
            }

            excluded.UnionWith(culprits);
        }

        // Nothing the model can delete: look for a replacement as upstream does (at most 100 candidates, as one new node
        // must hold whatever the remaining nodes cannot).
        var replaceable = WithinBudgets(snapshot, all);
        return LargestPrefix(snapshot, replaceable, Math.Min(100, replaceable.Count), start, cancellationToken);
    }

    /// <summary>
    /// The candidates of a set that failed verification to leave out: those whose pods could not be placed, else those
    /// whose pods needed the new node (the remaining nodes could not take them as the model expected).
    /// </summary>
    private static HashSet<string> Culprits(IReadOnlyList<Candidate> set, SchedulingResult? result)
    {
        var culprits = new HashSet<string>(StringComparer.Ordinal);
        if (result is null)
        {
            return culprits;
        }

        var owner = new Dictionary<V1Pod, Candidate>(ReferenceEqualityComparer.Instance);
        foreach (var c in set)
        {
            foreach (var pod in c.ReschedulablePods)
            {
                owner.TryAdd(pod, c);
            }
        }

        IEnumerable<V1Pod> failed = result.PodErrors.Count > 0 ? result.PodErrors.Select(e => e.Pod) : result.NewNodeClaims.SelectMany(n => n.Pods);
        foreach (var pod in failed)
        {
            if (owner.TryGetValue(pod, out var c))
            {
                culprits.Add(c.Name);
            }
        }

        return culprits;
    }

    /// <summary>The removal set the packing model chose in the last multi-node pass (null for upstream's search).</summary>
    public PackingSearch.Plan? LastPlan { get; private set; }

    /// <summary>
    /// The largest prefix of <paramref name="ordered"/>, at most <paramref name="longest"/> long, that <see cref="Compute"/>
    /// accepts, by binary search (upstream's <c>firstNConsolidationOption</c>), within the simulation budget and the timeout.
    /// </summary>
    private Command? LargestPrefix(ClusterSnapshot snapshot, IReadOnlyList<Candidate> ordered, int longest, long start, CancellationToken cancellationToken)
    {
        var list = ordered as List<Candidate> ?? [.. ordered];
        Command? best = null;
        int low = 1, high = Math.Min(longest, list.Count);
        while (low <= high)
        {
            if (Simulations >= options.MultiNodeMaxSimulations || Expired(start, options.MultiNodeTimeout))
            {
                TimedOut = true;
                return best;
            }

            var mid = (low + high) / 2;
            var command = Compute(snapshot, list.GetRange(0, mid), DisruptionMethods.MultiNodeConsolidation, cancellationToken).Command;
            if (command is not null)
            {
                best = command;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return best;
    }

    /// <summary>Single-node consolidation: the first candidate (interleaved across NodePools) that can be deleted or replaced by a cheaper node.</summary>
    public ConsolidationOutcome SingleNode(ClusterSnapshot snapshot, IReadOnlyList<Candidate> candidates, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Simulations = 0;
        TimedOut = false;
        var start = time.GetTimestamp();
        var budgets = snapshot.Budgets(DisruptionReason.Underutilized);
        var emptyBudgets = snapshot.Budgets(DisruptionReason.Empty);
        var unconsolidatable = new List<(Candidate, string)>();
        Unconsolidatable = unconsolidatable;
        string? reason = null;
        foreach (var c in Interleave(ConsolidationCandidates(candidates)))
        {
            if (Expired(start, options.SingleNodeTimeout))
            {
                TimedOut = true;
                break;
            }

            if ((c.ReschedulablePods.Count == 0 ? emptyBudgets : budgets).GetValueOrDefault(c.NodePoolName) <= 0)
            {
                continue;
            }

            var outcome = Compute(snapshot, [c], DisruptionMethods.SingleNodeConsolidation, cancellationToken);
            if (outcome.Command is not null)
            {
                return outcome;
            }

            reason = outcome.Reason;
            if (outcome.Reason is not null)
            {
                unconsolidatable.Add((c, outcome.Reason));
            }
        }

        return new ConsolidationOutcome(null, reason);
    }

    /// <summary>
    /// Whether <paramref name="candidates"/> can go together: every pod they carry fits the remaining nodes plus at most
    /// one new NodeClaim, and that NodeClaim (if any) is cheaper than they are.
    /// </summary>
    public ConsolidationOutcome Compute(ClusterSnapshot snapshot, IReadOnlyList<Candidate> candidates, string method, CancellationToken cancellationToken) =>
        Evaluate(snapshot, candidates, method, cancellationToken, out _);

    private ConsolidationOutcome Evaluate(ClusterSnapshot snapshot, IReadOnlyList<Candidate> candidates, string method, CancellationToken cancellationToken, out SchedulingResult result)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(candidates);
        var reason = candidates.All(c => c.ReschedulablePods.Count == 0) ? DisruptionReason.Empty : DisruptionReason.Underutilized;
        result = Simulate(snapshot, candidates, maxNewNodeClaims: 1, cancellationToken);
        if (result.PodErrors.Count > 0)
        {
            var error = result.PodErrors[0];
            return new ConsolidationOutcome(null, $"not all pods would schedule, {error.Pod.Metadata.NamespaceProperty}/{error.Pod.Metadata.Name}: {error.Message}");
        }

        Command? command = null;
        if (result.NewNodeClaims.Count == 0)
        {
            command = new Command { Method = method, Reason = reason, Candidates = candidates, Simulation = result };
        }
        else if (result.NewNodeClaims.Count == 1)
        {
            var (replacement, why) = CheaperReplacement(candidates, result.NewNodeClaims[0], single: method == DisruptionMethods.SingleNodeConsolidation);
            if (replacement is null)
            {
                return new ConsolidationOutcome(null, why);
            }

            command = new Command { Method = method, Reason = reason, Candidates = candidates, Replacements = [replacement], Simulation = result };
        }
        else
        {
            return new ConsolidationOutcome(null, $"Can't remove without creating {result.NewNodeClaims.Count} candidates");
        }

        return Balanced(snapshot, command) is { } rejected ? new ConsolidationOutcome(null, rejected) : new ConsolidationOutcome(command, null);
    }

    /// <summary>
    /// Rescheduling <paramref name="candidates"/>' pods, together with the snapshot's pending pods and the pods of nodes
    /// being deleted, onto everything else (plus new NodeClaims, up to <paramref name="maxNewNodeClaims"/>). Only the
    /// candidates' pods are reported in <see cref="SchedulingResult.PodErrors"/>: a pending pod that fits nowhere anyway
    /// does not block consolidation, but one that fits takes its room first.
    /// </summary>
    public SchedulingResult Simulate(ClusterSnapshot snapshot, IReadOnlyCollection<Candidate> candidates, int? maxNewNodeClaims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(candidates);
        Simulations++;
        var gone = new HashSet<string>(candidates.SelectMany(c => new[] { c.NodeName, c.Name }), StringComparer.Ordinal);
        var moving = candidates.SelectMany(c => c.ReschedulablePods).ToList();
        var result = scheduler.Solve(new SchedulingInput
        {
            Pods = [.. moving, .. snapshot.PendingPods],
            NodePools = snapshot.SchedulingNodePools,
            ExistingNodes = [.. snapshot.ExistingNodes.Where(n => !gone.Contains(n.Name))],
            BoundPods = [.. snapshot.BoundPods.Where(b => !gone.Contains(b.NodeName))],
            DaemonSetPods = snapshot.DaemonSetPods,
            Volumes = snapshot.Volumes,
            NamespaceLabels = snapshot.NamespaceLabels,
            Options = new SchedulingOptions { MaxNewNodeClaims = maxNewNodeClaims, WellKnownLabels = snapshot.WellKnownLabels, ImprovementBudget = TimeSpan.Zero },
        }, cancellationToken);
        if (snapshot.PendingPods.Count == 0 || result.PodErrors.Count == 0)
        {
            return result;
        }

        var mine = new HashSet<V1Pod>(moving, ReferenceEqualityComparer.Instance);
        return new SchedulingResult
        {
            NewNodeClaims = result.NewNodeClaims,
            ExistingNodes = result.ExistingNodes,
            PodErrors = [.. result.PodErrors.Where(e => mine.Contains(e.Pod))],
            GreedyPrice = result.GreedyPrice,
            Phases = result.Phases,
        };
    }

    /// <summary>
    /// Upstream's worst launch price of an instance type under <paramref name="requirements"/>: the most expensive
    /// compatible available offering of the capacity type that would launch (reserved, else spot, else on-demand).
    /// </summary>
    public static decimal? WorstLaunchPrice(InstanceType type, Requirements requirements)
    {
        ArgumentNullException.ThrowIfNull(type);
        var offerings = type.AvailableOfferings(requirements).ToList();
        foreach (var capacityType in new[] { CapacityTypes.Reserved, CapacityTypes.Spot, CapacityTypes.OnDemand })
        {
            var matching = offerings.Where(o => o.CapacityType == capacityType).ToList();
            if (matching.Count > 0)
            {
                return matching.Max(o => o.Price);
            }
        }

        return null;
    }

    private (PlannedNodeClaim? Replacement, string? Reason) CheaperReplacement(IReadOnlyList<Candidate> candidates, PlannedNodeClaim planned, bool single)
    {
        var price = candidates.Sum(c => c.Price);
        var requirements = planned.Requirements.Clone();
        var capacityTypes = requirements.Get(Labels.CapacityType);
        var spotToSpot = candidates.All(c => c.CapacityType == CapacityTypes.Spot) && capacityTypes.Has(CapacityTypes.Spot);
        if (spotToSpot)
        {
            if (!options.SpotToSpotConsolidation)
            {
                return (null, "SpotToSpotConsolidation is disabled, can't replace a spot node with a spot node");
            }

            requirements.Add(Requirement.In(Labels.CapacityType, CapacityTypes.Spot));
        }
        else if (capacityTypes.Has(CapacityTypes.Spot) && capacityTypes.Has(CapacityTypes.OnDemand))
        {
            // Priced as spot: a launch must not fall back to a dearer on-demand node.
            requirements.Add(Requirement.In(Labels.CapacityType, CapacityTypes.Spot));
        }

        var priced = planned.InstanceTypes
            .Select(t => (Type: t, Price: WorstLaunchPrice(t, requirements)))
            .Where(p => p.Price is { } launch && launch < price)
            .OrderBy(p => p.Price)
            .ToList();

        // Replacing several nodes by one of the same type as one of them only pays off when it is cheaper than the cheapest
        // of those (upstream's filterOutSameType): otherwise deleting the others and keeping that one costs as little and
        // moves fewer pods.
        var sameType = candidates.Where(c => priced.Any(p => p.Type.Name == c.InstanceType.Name)).Select(c => c.Price).DefaultIfEmpty(decimal.MaxValue).Min();
        if (candidates.Count > 1 && sameType != decimal.MaxValue)
        {
            priced = [.. priced.Where(p => p.Price < sameType)];
        }

        if (priced.Count == 0)
        {
            return (null, "Can't replace with a cheaper node");
        }

        var (needed, unmet) = MinValuesPrefix(planned.Requirements, priced.Select(p => p.Type));
        if (unmet is not null)
        {
            return (null, unmet);
        }

        if (spotToSpot && single)
        {
            if (priced.Count < options.MinInstanceTypesForSpotToSpot)
            {
                return (null, $"SpotToSpotConsolidation requires {options.MinInstanceTypesForSpotToSpot} cheaper instance type options than the current candidate to consolidate, got {priced.Count}");
            }

            // Only the cheapest types go to the launch, so that whichever the cloud picks is not itself replaced at once;
            // as many more as minValues needs (upstream: max(15, the types minValues needs)).
            priced = priced.GetRange(0, Math.Max(options.MinInstanceTypesForSpotToSpot, needed));
        }

        var types = priced.Select(p => p.Type).ToList();
        requirements.Add(Requirement.In(Labels.InstanceType, types.Select(t => t.Name)));
        return (new PlannedNodeClaim
        {
            NodePool = planned.NodePool,
            Requirements = requirements,
            InstanceTypes = types,
            Pods = planned.Pods,
            Requests = planned.Requests,
            Price = priced[0].Price!.Value,
            MinValuesRelaxed = planned.MinValuesRelaxed,
        }, null);
    }

    /// <summary>
    /// How many of <paramref name="cheapestFirst"/> (a prefix) satisfy every <c>minValues</c> of <paramref name="requirements"/>,
    /// or why all of them do not.
    /// </summary>
    private static (int Needed, string? Unmet) MinValuesPrefix(Requirements requirements, IEnumerable<InstanceType> cheapestFirst)
    {
        var minValues = requirements.Values.Where(r => r.MinValues is > 0).ToList();
        if (minValues.Count == 0)
        {
            return (0, null);
        }

        var seen = minValues.ToDictionary(r => r.Key, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        var count = 0;
        foreach (var type in cheapestFirst)
        {
            count++;
            foreach (var r in minValues)
            {
                seen[r.Key].UnionWith(type.Requirements.Get(r.Key).Values);
            }

            if (minValues.All(r => seen[r.Key].Count >= r.MinValues))
            {
                return (count, null);
            }
        }

        var unmet = minValues.First(r => seen[r.Key].Count < r.MinValues);
        return (count, $"cheaper instance types satisfy only {seen[unmet.Key].Count} of minValues {unmet.MinValues} for {unmet.Key}");
    }

    /// <summary>
    /// The <c>Balanced</c> policy (upstream's <c>balanced.go</c>): a move is approved when its share of the NodePool's
    /// cost saved, divided by its share of the NodePool's disruption (each node counts 1 plus its pods' costs), is at
    /// least 1/k. Only applies when every candidate's NodePool uses <c>Balanced</c>; null when approved.
    /// </summary>
    private string? Balanced(ClusterSnapshot snapshot, Command command)
    {
        if (command.Candidates.Any(c => c.NodePool.Spec.Disruption.ConsolidationPolicy != ConsolidationPolicy.Balanced))
        {
            return null;
        }

        var pools = new HashSet<string>(command.Candidates.Select(c => c.NodePoolName), StringComparer.Ordinal);
        decimal poolCost = 0;
        double poolDisruption = 0;
        foreach (var node in snapshot.Nodes.Where(n => n.NodePoolName is { } p && pools.Contains(p) && !n.Deleting))
        {
            poolCost += PriceOf(snapshot, node) ?? 0;
            poolDisruption += 1.0 + node.Pods.Where(Candidates.IsReschedulable).Sum(Candidates.PodCost);
        }

        var disruption = command.Candidates.Sum(c => 1.0 + c.DisruptionCost);
        if (poolCost <= 0 || poolDisruption <= 0 || disruption <= 0)
        {
            return null;
        }

        var score = (double)(command.Savings / poolCost) / (disruption / poolDisruption);
        return score >= 1.0 / options.BalancedK ? null : $"Balanced policy: savings do not justify the disruption (score {score:0.###} < {1.0 / options.BalancedK:0.###})";
    }

    /// <summary>The hourly price of a node's offering, or null when its instance type or offering is unknown.</summary>
    public static decimal? PriceOf(ClusterSnapshot snapshot, StateNode node)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(node);
        var type = node.NodePoolName is { } pool ? snapshot.InstanceTypes.GetValueOrDefault(pool)?.FirstOrDefault(t => t.Name == node.Label(Labels.InstanceType)) : null;
        return type?.Offerings.FirstOrDefault(o => o.CapacityType == node.Label(Labels.CapacityType) && o.Zone == node.Label(Labels.TopologyZone))?.Price;
    }

    private static bool IsConsolidatable(Candidate c) =>
        c.NodeClaim.IsConditionTrue(ConditionTypes.Consolidatable) &&
        GoDuration.TryParseNillable(c.NodePool.Spec.Disruption.ConsolidateAfter, out var after, out _) && after is not null;

    private static bool Take(Dictionary<string, int> budgets, Candidate c)
    {
        var left = budgets.GetValueOrDefault(c.NodePoolName);
        if (left <= 0)
        {
            return false;
        }

        budgets[c.NodePoolName] = left - 1;
        return true;
    }

    private static List<Candidate> WithinBudgets(ClusterSnapshot snapshot, List<Candidate> candidates)
    {
        var underutilized = snapshot.Budgets(DisruptionReason.Underutilized);
        var empty = snapshot.Budgets(DisruptionReason.Empty);
        return [.. candidates.Where(c => Take(c.ReschedulablePods.Count == 0 ? empty : underutilized, c))];
    }

    private static IEnumerable<Candidate> Interleave(List<Candidate> candidates)
    {
        var queues = candidates.GroupBy(c => c.NodePoolName, StringComparer.Ordinal).Select(g => new Queue<Candidate>(g)).ToList();
        while (queues.Count > 0)
        {
            foreach (var q in queues)
            {
                yield return q.Dequeue();
            }

            queues.RemoveAll(q => q.Count == 0);
        }
    }

    private bool Expired(long start, TimeSpan limit) => time.GetElapsedTime(start) >= limit;
}
