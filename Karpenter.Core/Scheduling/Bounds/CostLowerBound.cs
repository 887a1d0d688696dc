using Google.OrTools.LinearSolver;
using k8s.Models;
using Karpenter.Core.CloudProvider;
using LpSolver = Google.OrTools.LinearSolver.Solver;

namespace Karpenter.Core.Scheduling.Bounds;

/// <summary>The cost lower bounds of a pod set against a catalog (see <see cref="CostLowerBound"/>).</summary>
public sealed record LowerBound(double Lp, double PerResource, int CompatibilityClasses, int InstanceTypes, string Status)
{
    /// <summary>
    /// The LP's fractional node counts per instance type (largest spend first), to compare with a plan's; the name is
    /// <c>type/zone</c> when the columns are per zone (see <see cref="CostLowerBound"/>).
    /// </summary>
    public IReadOnlyList<(string InstanceType, double Nodes, double Price)> Solution { get; init; } = [];

    /// <summary>True when the pods can be placed at all (every class has a compatible instance type).</summary>
    public bool Feasible => Status == "OPTIMAL";

    /// <summary>
    /// The configuration-LP bound (see <see cref="ConfigurationLp"/>): never below <see cref="Lp"/> (the larger of the
    /// two valid bounds), tighter where whole pods leave room unused on small instance types. NaN when infeasible.
    /// </summary>
    public double Configuration { get; init; } = double.NaN;

    /// <summary>The configuration LP's last restricted master value: its optimum lies between <see cref="Configuration"/> and this.</summary>
    public double ConfigurationMaster { get; init; } = double.NaN;

    /// <summary>How the column generation ended (rounds, patterns, converged or stopped by its budget).</summary>
    public string ConfigurationStatus { get; init; } = "not computed";
}

/// <summary>
/// The fractional covering LP of performance-anchors §5 with its refinements, solved exactly with GLOP: minimise
/// Σ c_t·x_t over instance types t (x_t ≥ 0 fractional nodes). Pods are grouped by compatibility class (pods allowed on
/// the same instance types) and request vector; z_{g,t} ≥ 0 pods of group g go to type t (only types that fit one
/// such pod), Σ_t z_{g,t} ≥ n_g, and every type's share holds what it is given in every resource:
/// Σ_g q_{g,r}·z_{g,t} ≤ a_{t,r}·x_t. A pod's CPU and memory thus go to the same type, which is what every real
/// placement does (the per-resource flows y_{g,t,r} of §5 let one type supply the CPU and another the memory of the
/// same pods, which the real catalog's burstable and memory-optimised types exploit, so that bound is looser). For a
/// group of pods with required hostname anti-affinity among themselves, each node holds at most one of them:
/// Σ_{g∈A} z_{g,t} ≤ x_t for every type (which implies the cut Σ_t x_t ≥ k). a is allocatable minus DaemonSet
/// overhead and c the cheapest available offering. Every integral placement satisfies all of this, so the value is a
/// valid lower bound of any placement's hourly price; ceilings per type are not taken (that would not be valid).
/// Types dominated by a cheaper-or-equal type with at least as much room and the same compatibility are left out:
/// that never changes the optimum.
/// <para>
/// Topology spread over zones: when some pod has a hard (DoNotSchedule) zone spread constraint the bound can use (see
/// <see cref="SoundZoneSpreads"/>), the columns are (NodePool, instance type, zone), each priced at that zone's
/// cheapest allowed offering with the zone in its requirements (so pods with zonal node affinity get exactly their
/// zones), and each such spread group is split into per-zone forced groups and a free one (see
/// <see cref="SplitZoneSpreadGroups"/>). Both the covering LP and the configuration LP consume those groups. The
/// covering LP also prices whole nodes for each forced group: the nodes of a zone that can take its pods cost at least
/// the cheapest whole nodes holding its m pods (<see cref="ZoneSpend"/>; the fractional LP would buy 2.5 nodes for 5
/// pods two to a node). Every valid placement satisfies that, also once its dominated types are swapped for their
/// dominators, so the bound stays valid. Otherwise the columns stay per (NodePool, instance type): the same optimum,
/// fewer columns.
/// </para>
/// </summary>
public static class CostLowerBound
{
    private static readonly string[] CoreResources = [ResourceNames.Cpu, ResourceNames.Memory, ResourceNames.Pods];

    public static LowerBound Compute(IReadOnlyList<V1Pod> pods, IReadOnlyList<SchedulingNodePool> nodePools, IReadOnlyList<V1Pod>? daemonSetPods = null) =>
        Compute(pods, nodePools, daemonSetPods, ConfigurationBudget.Default);

    /// <summary>Both bounds; <paramref name="budget"/> bounds the configuration LP's work (null skips it).</summary>
    internal static LowerBound Compute(IReadOnlyList<V1Pod> pods, IReadOnlyList<SchedulingNodePool> nodePools, IReadOnlyList<V1Pod>? daemonSetPods, ConfigurationBudget? budget)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(nodePools);
        var wellKnown = new HashSet<string>(Scheduler.CoreWellKnownLabels, StringComparer.Ordinal);
        foreach (var t in nodePools.SelectMany(p => p.InstanceTypes))
        {
            wellKnown.UnionWith(t.Requirements.Keys);
        }

        var spreads = pods.Select(ZoneSpreads).ToList();
        var sound = SoundZoneSpreads(pods, spreads);
        var columns = Columns(nodePools, daemonSetPods, wellKnown, perZone: sound.Count > 0);

        // Groups: pods allowed on exactly the same columns, with the same requests, anti-affinity group and zone
        // spread constraint.
        var groups = new Dictionary<string, Group>(StringComparer.Ordinal);
        var owners = new Dictionary<string, HashSet<Group>>(StringComparer.Ordinal);
        var antiGroups = new Dictionary<string, int>(StringComparer.Ordinal);
        var classes = new Dictionary<string, int>(StringComparer.Ordinal);
        var demandNames = new HashSet<string>(CoreResources, StringComparer.Ordinal);
        var infeasible = 0;
        var compatibility = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var p = 0; p < pods.Count; p++)
        {
            var pod = pods[p];
            var requests = PodResources.Requests(pod);
            var allowed = Allowed(pod, columns, wellKnown, compatibility);
            if (!allowed.Any(c => requests.FitsIn(columns[c].Avail)))
            {
                infeasible++;
                continue;
            }

            demandNames.UnionWith(requests.Names);
            var classKey = string.Join(",", allowed);
            if (!classes.TryGetValue(classKey, out var classId))
            {
                classes[classKey] = classId = classes.Count;
            }

            var anti = -1;
            var ns = pod.Metadata?.NamespaceProperty ?? "default";
            foreach (var term in pod.Spec?.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [])
            {
                if (term.TopologyKey == Entities.WellKnown.Labels.Hostname && LabelSelector.From(term.LabelSelector).Matches(pod.Metadata?.Labels) &&
                    (term.Namespaces is null || term.Namespaces.Count == 0 || term.Namespaces.Contains(ns)) && term.NamespaceSelector is null)
                {
                    var antiKey = ns + "|" + PodConstraints.TermKey(term);
                    if (!antiGroups.TryGetValue(antiKey, out anti))
                    {
                        antiGroups[antiKey] = anti = antiGroups.Count;
                    }

                    break; // one group suffices for the bound; pods in several are counted in the first
                }
            }

            var spread = spreads[p] is [{ } only] && sound.ContainsKey(only.Key) ? only.Key : string.Empty;
            var key = $"{classId}|{anti}|{requests}|{spread}";
            if (!groups.TryGetValue(key, out var group))
            {
                groups[key] = group = new Group(allowed, requests, anti);
            }

            group.Count++;
            if (spread.Length > 0)
            {
                (owners.TryGetValue(spread, out var set) ? set : owners[spread] = []).Add(group);
            }
        }

        var groupList = SplitZoneSpreadGroups([.. groups.Values], sound, owners, columns);

        var perResource = 0.0;
        foreach (var r in demandNames)
        {
            var demand = groupList.Sum(g => (double)g.Requests.Get(r) * g.Count);
            var cheapest = columns.Where(c => c.Avail.Get(r) > 0).Select(c => c.Price / c.Avail.Get(r)).DefaultIfEmpty(double.PositiveInfinity).Min();
            if (demand > 0)
            {
                perResource = Math.Max(perResource, demand * cheapest);
            }
        }

        if (infeasible > 0)
        {
            return new LowerBound(double.NaN, perResource, classes.Count, columns.Count, $"INFEASIBLE ({infeasible} pods fit no instance type)");
        }

        if (groupList.Count == 0)
        {
            return new LowerBound(0, 0, 0, columns.Count, "OPTIMAL");
        }

        var classCount = groupList.Select(g => string.Join(",", g.Columns)).Distinct(StringComparer.Ordinal).Count();
        var names = demandNames.ToList();
        var kept = Undominated(columns, groupList, names);
        using var solver = LpSolver.CreateSolver("GLOP") ?? throw new InvalidOperationException("the GLOP linear solver is not available");
        var x = kept.ToDictionary(c => c, c => solver.MakeNumVar(0, double.PositiveInfinity, $"x{c}"));
        var objective = solver.Objective();
        foreach (var (c, v) in x)
        {
            objective.SetCoefficient(v, columns[c].Price);
        }

        objective.SetMinimization();
        var scale = names.ToDictionary(n => n, n => n == ResourceNames.Memory || n == ResourceNames.EphemeralStorage ? 1.0 / (1L << 30) : n == ResourceNames.Cpu ? 1.0 / 1000 : 1.0);
        var capacityRows = new Dictionary<(int Column, string Resource), Constraint>();
        var antiRows = new Dictionary<(int Column, int Anti), Constraint>();
        var k = 0;
        foreach (var group in groupList)
        {
            var cover = solver.MakeConstraint(group.Count, double.PositiveInfinity, $"cover{k}");
            foreach (var c in group.Columns)
            {
                if (!x.TryGetValue(c, out var xc) || !group.Requests.FitsIn(columns[c].Avail))
                {
                    continue;
                }

                var z = solver.MakeNumVar(0, double.PositiveInfinity, $"z{k}_{c}");
                cover.SetCoefficient(z, 1);
                foreach (var r in names)
                {
                    var q = group.Requests.Get(r) * scale[r];
                    if (q <= 0)
                    {
                        continue;
                    }

                    if (!capacityRows.TryGetValue((c, r), out var cap))
                    {
                        cap = solver.MakeConstraint(double.NegativeInfinity, 0, $"cap{c}_{r}");
                        cap.SetCoefficient(xc, -columns[c].Avail.Get(r) * scale[r]);
                        capacityRows[(c, r)] = cap;
                    }

                    cap.SetCoefficient(z, q);
                }

                if (group.Anti >= 0)
                {
                    if (!antiRows.TryGetValue((c, group.Anti), out var one))
                    {
                        one = solver.MakeConstraint(double.NegativeInfinity, 0, $"anti{c}_{group.Anti}");
                        one.SetCoefficient(xc, -1);
                        antiRows[(c, group.Anti)] = one;
                    }

                    one.SetCoefficient(z, 1);
                }
            }

            if (group.Forced && ZoneSpend(group, fits: [.. group.Columns.Where(c => x.ContainsKey(c) && group.Requests.FitsIn(columns[c].Avail))], columns, names) is { } spend)
            {
                // Whole nodes: the zone's nodes that can take these pods cost at least the cheapest whole nodes holding m of them.
                var row = solver.MakeConstraint(spend.Minimum, double.PositiveInfinity, $"spend{k}");
                foreach (var c in spend.Columns)
                {
                    row.SetCoefficient(x[c], columns[c].Price);
                }
            }

            k++;
        }

        var status = solver.Solve();
        if (status != LpSolver.ResultStatus.OPTIMAL)
        {
            return new LowerBound(double.NaN, perResource, classCount, kept.Count, status.ToString());
        }

        var lp = objective.Value();
        var bound = new LowerBound(lp, perResource, classCount, kept.Count, "OPTIMAL")
        {
            Solution = [.. x.Where(kv => kv.Value.SolutionValue() > 1e-9).Select(kv => (columns[kv.Key].Name, kv.Value.SolutionValue(), columns[kv.Key].Price))
                .OrderByDescending(s => s.Item2 * s.Item3)],
            Configuration = lp,
        };
        if (budget is null)
        {
            return bound;
        }

        // The configuration LP over the same groups and undominated instance types, in the same resources.
        var items = groupList.Select(g => new PatternItem([.. names.Select(r => g.Requests.Get(r))], g.Count, g.Anti)).ToList();
        var bins = kept.Select(c => new PatternBin(columns[c].Price, [.. names.Select(r => columns[c].Avail.Get(r))],
            [.. Enumerable.Range(0, groupList.Count).Where(g => groupList[g].Columns.BinarySearch(c) >= 0)])).ToList();
        var config = ConfigurationLp.Solve(items, bins, budget);
        return bound with
        {
            Configuration = double.IsNaN(config.Bound) ? lp : Math.Max(lp, config.Bound),
            ConfigurationMaster = config.Master,
            ConfigurationStatus = $"{(config.Converged ? "converged" : "stopped by its budget")} after {config.Iterations} rounds, {config.Columns} patterns",
        };
    }

    private sealed class Group(List<int> columns, Resources requests, int anti)
    {
        public List<int> Columns { get; } = columns;

        public Resources Requests { get; } = requests;

        public int Anti { get; } = anti;

        public int Count { get; set; }

        /// <summary>A spread group's pods forced into one zone (see <see cref="SplitZoneSpreadGroups"/>).</summary>
        public bool Forced { get; init; }
    }

    /// <summary>A (NodePool, instance type) column, or a (NodePool, instance type, zone) one when zones matter.</summary>
    private sealed record Column(SchedulingNodePool Pool, InstanceType Type, string? Zone, Requirements Reqs, double Price, Resources Avail)
    {
        public string Name => Zone is null ? Type.Name : $"{Type.Name}/{Zone}";
    }

    /// <summary>
    /// Candidate (NodePool, instance type) columns with their cheapest allowed offering's price and their room after
    /// DaemonSet overhead; with <paramref name="perZone"/>, one column per zone of the type's allowed offerings, the zone
    /// added to its requirements and priced at that zone's cheapest offering.
    /// </summary>
    private static List<Column> Columns(IReadOnlyList<SchedulingNodePool> nodePools, IReadOnlyList<V1Pod>? daemonSetPods, HashSet<string> wellKnown, bool perZone)
    {
        var columns = new List<Column>();
        foreach (var pool in nodePools)
        {
            var poolReqs = pool.Requirements.Clone().Add(Requirement.In(Entities.WellKnown.Labels.NodePool, pool.Name));
            foreach (var type in pool.InstanceTypes)
            {
                if (type.Requirements.Intersects(poolReqs) is not null)
                {
                    continue;
                }

                IEnumerable<string?> zones = perZone
                    ? [.. type.AvailableOfferings(poolReqs).Select(o => o.Zone).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]
                    : [null];
                foreach (var zone in zones)
                {
                    var zoneReqs = zone is null ? poolReqs : poolReqs.Clone().Add(Requirement.In(Entities.WellKnown.Labels.TopologyZone, zone));
                    if ((zone is not null && type.Requirements.Intersects(zoneReqs) is not null) || type.CheapestOffering(zoneReqs) is not { } offering)
                    {
                        continue;
                    }

                    var reqs = zoneReqs.Intersect(type.Requirements);
                    columns.Add(new Column(pool, type, zone, reqs, (double)offering.Price, type.Allocatable - DaemonOverhead(pool, reqs, daemonSetPods, wellKnown)));
                }
            }
        }

        return columns;
    }

    /// <summary>What the DaemonSet pods that would run on a node of <paramref name="pool"/> with <paramref name="reqs"/> request.</summary>
    private static Resources DaemonOverhead(SchedulingNodePool pool, Requirements reqs, IReadOnlyList<V1Pod>? daemonSetPods, HashSet<string> wellKnown)
    {
        var daemon = default(Resources);
        foreach (var d in daemonSetPods ?? [])
        {
            if (Tolerations.FirstUntolerated(pool.Taints.Where(t => t.Effect != Entities.WellKnown.Taints.EffectPreferNoSchedule), d.Spec?.Tolerations) is null &&
                Hard(d).Any(alt => reqs.Compatible(alt, wellKnown) is null))
            {
                daemon += PodResources.Requests(d);
            }
        }

        return daemon;
    }

    /// <summary>A pod's hard topology spread constraint over zones, as the scheduler keys its topology groups.</summary>
    private sealed record ZoneSpread(string Key, V1TopologySpreadConstraint Constraint, LabelSelector Selector, string Namespace);

    /// <summary>The pod's hard (DoNotSchedule) topology spread constraints over zones.</summary>
    private static List<ZoneSpread> ZoneSpreads(V1Pod pod)
    {
        var found = new List<ZoneSpread>();
        PodConstraints? owner = null;
        foreach (var c in pod.Spec?.TopologySpreadConstraints ?? [])
        {
            if (!string.Equals(c.WhenUnsatisfiable, "DoNotSchedule", StringComparison.Ordinal) ||
                !string.Equals(Requirements.NormalizeKey(c.TopologyKey ?? string.Empty), Entities.WellKnown.Labels.TopologyZone, StringComparison.Ordinal))
            {
                continue;
            }

            owner ??= new PodConstraints(pod, PreferencePolicy.Respect, new Requirements());
            found.Add(new ZoneSpread($"{owner.Namespace}|{PodConstraints.SpreadKey(c, owner)}", c,
                LabelSelector.From(c.LabelSelector, PodConstraints.MatchLabelKeyValues(c, owner)), owner.Namespace));
        }

        return found;
    }

    /// <summary>
    /// The zone spread constraints the bound may strengthen, by key: where its reasoning (see
    /// <see cref="SplitZoneSpreadGroups"/>) matches the scheduler's. Every owner has this one zone spread constraint and
    /// the same node selector, required node affinity (at most one term) and tolerations, and no preferred node affinity
    /// or volume claims (so the scheduler keeps them in one topology group and counts the skew over every zone they can
    /// reach); the selector matches every owner and every pod of their namespace it matches is an owner (no other pod
    /// fills the zones' counts); the constraint has no <c>minDomains</c> and its <c>nodeAffinityPolicy</c> is not
    /// <c>Ignore</c>. Owners must also share one group (requests, allowed columns, anti-affinity), which is checked once
    /// grouped.
    /// </summary>
    private static Dictionary<string, ZoneSpread> SoundZoneSpreads(IReadOnlyList<V1Pod> pods, List<List<ZoneSpread>> spreads)
    {
        var sound = new Dictionary<string, ZoneSpread>(StringComparer.Ordinal);
        foreach (var owners in Enumerable.Range(0, pods.Count).SelectMany(p => spreads[p].Select(s => (Pod: p, Spread: s))).GroupBy(o => o.Spread.Key, StringComparer.Ordinal))
        {
            var spread = owners.First().Spread;
            var c = spread.Constraint;
            var firstKey = NodeConstraintKey(pods[owners.First().Pod]);
            if (c.MinDomains is not null || string.Equals(c.NodeAffinityPolicy, "Ignore", StringComparison.Ordinal) || c.MaxSkew < 1 ||
                owners.Any(o => spreads[o.Pod].Count != 1 || !spread.Selector.Matches(pods[o.Pod].Metadata?.Labels) ||
                    !string.Equals(NodeConstraintKey(pods[o.Pod]), firstKey, StringComparison.Ordinal) || !SpreadSound(pods[o.Pod])))
            {
                continue;
            }

            var members = owners.Select(o => o.Pod).ToHashSet();
            if (!Enumerable.Range(0, pods.Count).Any(p => !members.Contains(p) && spread.Selector.Matches(pods[p].Metadata?.Labels) &&
                string.Equals(pods[p].Metadata?.NamespaceProperty ?? "default", spread.Namespace, StringComparison.Ordinal)))
            {
                sound[owners.Key] = spread;
            }
        }

        return sound;
    }

    /// <summary>
    /// Strengthens the groups with what hard zone spread implies. A placement that keeps a spread group (n owner pods,
    /// maxSkew s, Z zones the owners can reach) within its skew puts at least m = ⌈(n − (Z−1)·s)/Z⌉ owners in every one of
    /// the Z zones: every zone holds at least the minimum and the others at most the minimum plus s. Naming m of them in
    /// each zone the forced ones, the group becomes Z groups of m pods allowed only in their zone's columns and a free
    /// group of n − Z·m pods allowed wherever they were: an exact relaxation, so the bound stays valid. Applied only to
    /// the <paramref name="sound"/> constraints (see <see cref="SoundZoneSpreads"/>) whose owners all fell in one group;
    /// other pods are left as they were (no strengthening, still valid).
    /// </summary>
    private static List<Group> SplitZoneSpreadGroups(List<Group> groups, Dictionary<string, ZoneSpread> sound, Dictionary<string, HashSet<Group>> owners, List<Column> columns)
    {
        foreach (var (key, spread) in sound)
        {
            if (!owners.TryGetValue(key, out var set) || set.Count != 1)
            {
                continue;
            }

            var group = set.First();
            var c = spread.Constraint;
            var zones = group.Columns.Where(col => columns[col].Zone is not null && group.Requests.FitsIn(columns[col].Avail))
                .Select(col => columns[col].Zone!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var n = group.Count;
            var excess = n - ((zones.Count - 1) * c.MaxSkew);
            if (zones.Count == 0 || excess <= 0)
            {
                continue;
            }

            var m = (excess + zones.Count - 1) / zones.Count;
            groups.Remove(group);
            foreach (var zone in zones)
            {
                groups.Add(new Group([.. group.Columns.Where(col => string.Equals(columns[col].Zone, zone, StringComparison.Ordinal))], group.Requests, group.Anti) { Count = m, Forced = true });
            }

            if (n - (zones.Count * m) > 0)
            {
                groups.Add(new Group(group.Columns, group.Requests, group.Anti) { Count = n - (zones.Count * m) });
            }
        }

        return groups;
    }

    /// <summary>
    /// The least a zone can spend on the nodes holding a forced group's m pods: a knapsack cover over whole nodes, each
    /// column t taking at most K_t of the pods (what fits in its room, one under hostname anti-affinity), solved by a
    /// dynamic program over how many are held. Null when it cannot say more than the LP (no column, too many pods).
    /// </summary>
    private static (double Minimum, List<int> Columns)? ZoneSpend(Group group, List<int> fits, List<Column> columns, List<string> names)
    {
        var m = group.Count;
        if (fits.Count == 0 || m <= 0 || (long)m * fits.Count > 50_000_000)
        {
            return null;
        }

        var most = fits.Select(c => (int)Math.Min(group.Anti >= 0 ? 1 : names.Where(r => group.Requests.Get(r) > 0).Min(r => columns[c].Avail.Get(r) / group.Requests.Get(r)), m)).ToArray();
        var best = new double[m + 1];
        for (var j = 1; j <= m; j++)
        {
            best[j] = double.PositiveInfinity;
            for (var t = 0; t < fits.Count; t++)
            {
                best[j] = Math.Min(best[j], columns[fits[t]].Price + best[Math.Max(0, j - most[t])]);
            }
        }

        return double.IsFinite(best[m]) ? (best[m] * (1 - 1e-9), fits) : null;
    }

    /// <summary>No preferred node affinity, at most one required term and no volume claims: the scheduler's zones for the pod are its allowed columns'.</summary>
    private static bool SpreadSound(V1Pod pod)
    {
        var nodeAffinity = pod.Spec?.Affinity?.NodeAffinity;
        return (nodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution?.Count ?? 0) == 0 &&
               (nodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms?.Count ?? 0) <= 1 &&
               !(pod.Spec?.Volumes ?? []).Any(v => v.PersistentVolumeClaim is not null || v.Ephemeral is not null);
    }

    /// <summary>The pod's node selector, required node affinity and tolerations, as a key.</summary>
    private static string NodeConstraintKey(V1Pod pod)
    {
        var spec = pod.Spec;
        return string.Join(";",
            string.Join(",", (spec?.NodeSelector ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")),
            spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is { } required ? k8s.KubernetesJson.Serialize(required) : "-",
            spec?.Tolerations is { } tolerations ? k8s.KubernetesJson.Serialize(tolerations) : "-");
    }

    /// <summary>The columns a pod's hard constraints (requirements, taints) allow, shared by pods with the same constraints.</summary>
    private static List<int> Allowed(V1Pod pod, List<Column> columns, HashSet<string> wellKnown, Dictionary<string, List<int>> cache)
    {
        var spec = pod.Spec;
        var key = NodeConstraintKey(pod);
        if (cache.TryGetValue(key, out var allowed))
        {
            return allowed;
        }

        var alternatives = Hard(pod);
        allowed = [];
        for (var c = 0; c < columns.Count; c++)
        {
            var col = columns[c];
            if (Tolerations.FirstUntolerated(col.Pool.Taints.Where(t => t.Effect != Entities.WellKnown.Taints.EffectPreferNoSchedule), spec?.Tolerations) is null &&
                alternatives.Any(alt => col.Reqs.Compatible(alt, wellKnown) is null))
            {
                allowed.Add(c);
            }
        }

        cache[key] = allowed;
        return allowed;
    }

    /// <summary>
    /// The columns some group may use, less those another column beats: allowed for exactly the same groups, no dearer
    /// and with at least as much of every demanded resource (ties keep the first).
    /// </summary>
    private static List<int> Undominated(List<Column> columns, IEnumerable<Group> groups, List<string> names)
    {
        var signature = new Dictionary<int, List<int>>();
        var g = 0;
        foreach (var group in groups)
        {
            foreach (var c in group.Columns)
            {
                (signature.TryGetValue(c, out var list) ? list : signature[c] = []).Add(g);
            }

            g++;
        }

        var bySignature = signature.GroupBy(kv => string.Join(",", kv.Value), kv => kv.Key, StringComparer.Ordinal);
        var kept = new List<int>();
        foreach (var same in bySignature)
        {
            var members = same.OrderBy(c => columns[c].Price).ThenBy(c => c).ToList();
            var frontier = new List<int>();
            foreach (var c in members)
            {
                var dominated = frontier.Any(f => names.All(r => columns[f].Avail.Get(r) >= columns[c].Avail.Get(r)));
                if (!dominated)
                {
                    frontier.Add(c);
                }
            }

            kept.AddRange(frontier);
        }

        kept.Sort();
        return kept;
    }

    /// <summary>A pod's hard node constraints as alternatives: node selector with each required term (ORed), no preferences.</summary>
    private static List<Requirements> Hard(V1Pod pod)
    {
        var selector = Requirements.FromLabels(pod.Spec?.NodeSelector);
        var terms = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (terms is null || terms.Count == 0)
        {
            return [selector];
        }

        return [.. terms.Select(t => selector.Clone().Add(Requirements.FromNodeSelector(t.MatchExpressions)))];
    }
}
