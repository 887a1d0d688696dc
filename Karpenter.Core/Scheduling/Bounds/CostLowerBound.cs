using Google.OrTools.LinearSolver;
using k8s.Models;
using Karpenter.Core.CloudProvider;
using LpSolver = Google.OrTools.LinearSolver.Solver;

namespace Karpenter.Core.Scheduling.Bounds;

/// <summary>The cost lower bounds of a pod set against a catalog (see <see cref="CostLowerBound"/>).</summary>
public sealed record LowerBound(double Lp, double PerResource, int CompatibilityClasses, int InstanceTypes, string Status)
{
    /// <summary>True when the pods can be placed at all (every class has a compatible instance type).</summary>
    public bool Feasible => Status == "OPTIMAL";
}

/// <summary>
/// The fractional covering LP of performance-anchors §5, solved exactly with GLOP: minimise Σ c_t·x_t over instance
/// types t (x_t ≥ 0 fractional nodes) such that every compatibility class g of pods (pods allowed on the same
/// instance types) is covered in every resource r by its share of nodes: Σ_t a_{t,r}·y_{g,t,r} ≥ D_{g,r} and
/// Σ_g y_{g,t,r} ≤ x_t. a is allocatable minus DaemonSet overhead, c the cheapest available offering; a class only
/// uses types that fit its largest pod; and a group of k pods with required hostname anti-affinity among themselves
/// needs Σ x_t ≥ k over its types (each needs its own node). Only hard constraints shape the classes, so the value
/// is a valid lower bound of any placement's hourly price; ceilings per type are not taken (that would not be).
/// </summary>
public static class CostLowerBound
{
    private static readonly string[] CoreResources = [ResourceNames.Cpu, ResourceNames.Memory, ResourceNames.Pods];

    public static LowerBound Compute(IReadOnlyList<V1Pod> pods, IReadOnlyList<SchedulingNodePool> nodePools, IReadOnlyList<V1Pod>? daemonSetPods = null)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(nodePools);
        var wellKnown = new HashSet<string>(Scheduler.CoreWellKnownLabels, StringComparer.Ordinal);
        foreach (var t in nodePools.SelectMany(p => p.InstanceTypes))
        {
            wellKnown.UnionWith(t.Requirements.Keys);
        }

        // Candidate (NodePool, instance type) columns with their price and room.
        var columns = new List<(SchedulingNodePool Pool, InstanceType Type, Requirements Reqs, double Price, Resources Avail)>();
        foreach (var pool in nodePools)
        {
            var poolReqs = pool.Requirements.Clone().Add(Requirement.In(Entities.WellKnown.Labels.NodePool, pool.Name));
            foreach (var type in pool.InstanceTypes)
            {
                if (type.Requirements.Intersects(poolReqs) is not null || type.CheapestOffering(poolReqs) is not { } offering)
                {
                    continue;
                }

                var reqs = poolReqs.Intersect(type.Requirements);
                var daemon = default(Resources);
                foreach (var d in daemonSetPods ?? [])
                {
                    var dc = Hard(d);
                    if (Tolerations.FirstUntolerated(pool.Taints.Where(t => t.Effect != Entities.WellKnown.Taints.EffectPreferNoSchedule), d.Spec?.Tolerations) is null &&
                        dc.Any(alt => reqs.Compatible(alt, wellKnown) is null))
                    {
                        daemon += PodResources.Requests(d);
                    }
                }

                columns.Add((pool, type, reqs, (double)offering.Price, type.Allocatable - daemon));
            }
        }

        // Compatibility classes: pods allowed on exactly the same columns.
        var classes = new Dictionary<string, (List<int> Columns, Resources Demand, Resources Largest, int Count)>(StringComparer.Ordinal);
        var antiGroups = new Dictionary<string, (int Count, HashSet<int> Columns)>(StringComparer.Ordinal);
        var demandNames = new HashSet<string>(CoreResources, StringComparer.Ordinal);
        var infeasible = 0;
        foreach (var pod in pods)
        {
            var requests = PodResources.Requests(pod);
            var alternatives = Hard(pod);
            var allowed = new List<int>();
            for (var c = 0; c < columns.Count; c++)
            {
                var col = columns[c];
                if (requests.FitsIn(col.Avail) &&
                    Tolerations.FirstUntolerated(col.Pool.Taints.Where(t => t.Effect != Entities.WellKnown.Taints.EffectPreferNoSchedule), pod.Spec?.Tolerations) is null &&
                    alternatives.Any(alt => col.Reqs.Compatible(alt, wellKnown) is null))
                {
                    allowed.Add(c);
                }
            }

            if (allowed.Count == 0)
            {
                infeasible++;
                continue;
            }

            demandNames.UnionWith(requests.Names);
            var key = string.Join(",", allowed);
            classes[key] = classes.TryGetValue(key, out var cls)
                ? (cls.Columns, cls.Demand + requests, Resources.Max(cls.Largest, requests), cls.Count + 1)
                : (allowed, requests, requests, 1);

            var ns = pod.Metadata?.NamespaceProperty ?? "default";
            foreach (var term in pod.Spec?.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [])
            {
                if (term.TopologyKey == Entities.WellKnown.Labels.Hostname && LabelSelector.From(term.LabelSelector).Matches(pod.Metadata?.Labels) &&
                    (term.Namespaces is null || term.Namespaces.Count == 0 || term.Namespaces.Contains(ns)) && term.NamespaceSelector is null)
                {
                    var groupKey = ns + "|" + PodConstraints.TermKey(term);
                    var g = antiGroups.TryGetValue(groupKey, out var existing) ? existing : (Count: 0, Columns: new HashSet<int>());
                    g.Columns.UnionWith(allowed);
                    antiGroups[groupKey] = (g.Count + 1, g.Columns);
                }
            }
        }

        var perResource = 0.0;
        foreach (var r in demandNames)
        {
            var demand = classes.Values.Sum(c => (double)c.Demand.Get(r));
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

        if (classes.Count == 0)
        {
            return new LowerBound(0, 0, 0, columns.Count, "OPTIMAL");
        }

        using var solver = LpSolver.CreateSolver("GLOP") ?? throw new InvalidOperationException("the GLOP linear solver is not available");
        var used = classes.Values.SelectMany(c => c.Columns).Distinct().Order().ToList();
        var x = used.ToDictionary(c => c, c => solver.MakeNumVar(0, double.PositiveInfinity, $"x{c}"));
        var objective = solver.Objective();
        foreach (var (c, v) in x)
        {
            objective.SetCoefficient(v, columns[c].Price);
        }

        objective.SetMinimization();
        var names = demandNames.ToList();
        var scale = names.ToDictionary(n => n, n => n == ResourceNames.Memory || n == ResourceNames.EphemeralStorage ? 1.0 / (1L << 30) : n == ResourceNames.Cpu ? 1.0 / 1000 : 1.0);
        var capacityRows = new Dictionary<(int Column, string Resource), Constraint>();
        var k = 0;
        foreach (var cls in classes.Values)
        {
            var columnsOfClass = cls.Columns.Where(c => cls.Largest.FitsIn(columns[c].Avail)).ToList();
            if (columnsOfClass.Count == 0)
            {
                columnsOfClass = cls.Columns;
            }

            foreach (var r in names)
            {
                var demand = cls.Demand.Get(r) * scale[r];
                if (demand <= 0)
                {
                    continue;
                }

                var cover = solver.MakeConstraint(demand, double.PositiveInfinity, $"cover{k}_{r}");
                foreach (var c in columnsOfClass)
                {
                    var a = columns[c].Avail.Get(r) * scale[r];
                    if (a <= 0)
                    {
                        continue;
                    }

                    var y = solver.MakeNumVar(0, double.PositiveInfinity, $"y{k}_{c}_{r}");
                    cover.SetCoefficient(y, a);
                    if (!capacityRows.TryGetValue((c, r), out var cap))
                    {
                        cap = solver.MakeConstraint(double.NegativeInfinity, 0, $"cap{c}_{r}");
                        cap.SetCoefficient(x[c], -1);
                        capacityRows[(c, r)] = cap;
                    }

                    cap.SetCoefficient(y, 1);
                }
            }

            k++;
        }

        foreach (var (count, cols) in antiGroups.Values)
        {
            var cut = solver.MakeConstraint(count, double.PositiveInfinity);
            foreach (var c in cols)
            {
                cut.SetCoefficient(x[c], 1);
            }
        }

        var status = solver.Solve();
        return status == LpSolver.ResultStatus.OPTIMAL
            ? new LowerBound(objective.Value(), perResource, classes.Count, used.Count, "OPTIMAL")
            : new LowerBound(double.NaN, perResource, classes.Count, used.Count, status.ToString());
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
