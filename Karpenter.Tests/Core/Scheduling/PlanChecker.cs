using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;

namespace Karpenter.Tests.Core.Scheduling;

/// <summary>
/// Checks a scheduling plan against Kubernetes semantics, independently of the solver's data structures: every pod
/// placed once; on each planned NodeClaim, every listed instance type satisfies the NodeClaim's requirements and holds
/// the pods' requests plus the DaemonSet overhead in its allocatable; taints tolerated and node selectors satisfied on
/// every listed type; NodePool limits (the largest listed type per NodeClaim counts, as upstream reserves it); and
/// topology (required pod affinity and anti-affinity, both directions, and DoNotSchedule topology spread) by replaying
/// the binding as kube-scheduler would: pods that own a constraint first, each admitted only if its rules hold against
/// the pods bound before it, repeated until nothing more binds. Every pod must bind. A zone is known for a NodeClaim
/// when its requirements allow exactly one; a pod that owns a zonal rule on a NodeClaim of unknown zone is a violation.
/// </summary>
internal static class PlanChecker
{
    private const string Zone = "topology.kubernetes.io/zone";
    private const string Hostname = "kubernetes.io/hostname";

    public static void ExpectValid(SchedulingInput input, SchedulingResult result)
    {
        var violations = Violations(input, result);
        Assert.True(violations.Count == 0, $"{violations.Count} violations:\n" + string.Join("\n", violations.Take(20)));
    }

    public static List<string> Violations(SchedulingInput input, SchedulingResult result)
    {
        var violations = new List<string>();
        var nodes = new List<Node>();
        foreach (var (claim, i) in result.NewNodeClaims.Select((c, i) => (c, i)))
        {
            nodes.Add(new Node($"claim-{i}", ZoneOf(claim.Requirements), claim.Pods));
            CheckClaim(input, claim, $"claim-{i}", violations);
        }

        foreach (var placement in result.ExistingNodes)
        {
            var node = placement.Node;
            nodes.Add(new Node(node.Name, ZoneOf(node.Requirements), placement.Pods));
            var used = placement.Pods.Aggregate(node.Requested, (sum, p) => sum + Requests(p));
            if (used.CpuMilli > node.Allocatable.CpuMilli || used.Memory > node.Allocatable.Memory || used.Pods > node.Allocatable.Pods)
            {
                violations.Add($"{node.Name}: requests {used} exceed allocatable {node.Allocatable}");
            }

            foreach (var pod in placement.Pods)
            {
                if (Untolerated(node.Taints, pod) is { } taint)
                {
                    violations.Add($"{Name(pod)} on {node.Name} does not tolerate {taint.Key}:{taint.Effect}");
                }

                if (NodeSelectionViolation(pod, node.Requirements) is { } why)
                {
                    violations.Add($"{Name(pod)} on {node.Name}: {why}");
                }
            }

            var boundThere = input.BoundPods.Where(b => b.NodeName == node.Name).Select(b => b.Pod);
            CheckHostPorts(placement.Pods, [.. node.HostPortsInUse.Select(h => (h.Protocol, h.Ip, h.Port)), .. boundThere.SelectMany(Ports)], node.Name, violations);
        }

        CheckAccounting(input, result, violations);
        CheckLimits(input, result, violations);
        Replay(input, nodes, violations);
        return violations;
    }

    private sealed class Node(string name, string? zone, IReadOnlyList<V1Pod> pods)
    {
        public string Name { get; } = name;

        public string? Zone { get; } = zone;

        public IReadOnlyList<V1Pod> Pods { get; } = pods;
    }

    private static string Name(V1Pod pod) => pod.Metadata?.Name ?? "?";

    private static string? ZoneOf(Requirements requirements) =>
        requirements.Get(Zone) is { Complement: false, Values.Count: 1 } r ? r.Values[0] : null;

    /// <summary>Sum of the containers' requests (the benchmark pods have no init containers or overhead), and one pod slot.</summary>
    private static Resources Requests(V1Pod pod)
    {
        long cpu = 0, memory = 0;
        foreach (var c in pod.Spec?.Containers ?? [])
        {
            if (c.Resources?.Requests is { } requests)
            {
                cpu += requests.TryGetValue("cpu", out var q) ? (long)Math.Ceiling(q.ToDecimal() * 1000) : 0;
                memory += requests.TryGetValue("memory", out var m) ? (long)Math.Ceiling(m.ToDecimal()) : 0;
            }
        }

        return new Resources(cpu, memory, 1);
    }

    private static void CheckClaim(SchedulingInput input, PlannedNodeClaim claim, string name, List<string> violations)
    {
        if (claim.InstanceTypes.Count == 0)
        {
            violations.Add($"{name}: no instance types");
            return;
        }

        var used = claim.Pods.Aggregate(default(Resources), (sum, p) => sum + Requests(p));
        foreach (var type in claim.InstanceTypes)
        {
            if (!claim.NodePool.InstanceTypes.Contains(type))
            {
                violations.Add($"{name}: {type.Name} is not offered for NodePool {claim.NodePool.Name}");
            }

            if (type.Requirements.Intersects(claim.Requirements) is { } mismatch)
            {
                violations.Add($"{name}: {type.Name} does not satisfy the NodeClaim's requirements ({mismatch})");
            }

            var daemon = input.DaemonSetPods.Where(d => Untolerated(claim.NodePool.Taints, d) is null).Aggregate(default(Resources), (sum, d) => sum + Requests(d));
            var total = used + daemon;
            var a = type.Allocatable;
            if (total.CpuMilli > a.CpuMilli || total.Memory > a.Memory || total.Pods > a.Pods)
            {
                violations.Add($"{name}: {type.Name} allocatable {a} cannot hold {total} (pods plus DaemonSet overhead)");
            }

            var nodeLabels = claim.Requirements.Intersect(type.Requirements);
            foreach (var pod in claim.Pods)
            {
                if (NodeSelectionViolation(pod, nodeLabels) is { } why)
                {
                    violations.Add($"{Name(pod)} on {name}/{type.Name}: {why}");
                }
            }
        }

        CheckHostPorts(claim.Pods, [], name, violations);

        foreach (var pod in claim.Pods)
        {
            if (Untolerated(claim.NodePool.Taints, pod) is { } taint)
            {
                violations.Add($"{Name(pod)} on {name} does not tolerate {taint.Key}:{taint.Effect}");
            }
        }
    }

    /// <summary>
    /// The node selector and required node affinity must hold whatever value the node ends up with for each label: every
    /// value the node's requirements allow (and their absence, if allowed) must satisfy the pod.
    /// </summary>
    private static string? NodeSelectionViolation(V1Pod pod, Requirements node)
    {
        foreach (var (key, value) in pod.Spec?.NodeSelector ?? new Dictionary<string, string>())
        {
            if (!Guaranteed(node.Get(key), "In", [value]))
            {
                return $"node selector {key}={value} not guaranteed ({node.Get(key)})";
            }
        }

        var terms = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (terms is { Count: > 0 } && !terms.Any(t => (t.MatchExpressions ?? []).All(e => Guaranteed(node.Get(e.Key), e.OperatorProperty, e.Values ?? []))))
        {
            return "no required node affinity term is guaranteed by the node's labels";
        }

        return null;
    }

    private static bool Guaranteed(Requirement node, string op, IList<string> values)
    {
        // A complement (co-finite) set of values can only guarantee "Exists" and exclusions it already makes.
        var present = !node.HasNoValues;
        return op switch
        {
            "In" => !node.Complement && !node.AllowsAbsent && node.Values.Count > 0 && node.Values.All(values.Contains),
            "NotIn" => node.Complement ? values.All(v => !node.Has(v)) : node.Values.All(v => !values.Contains(v)),
            "Exists" => present && !node.AllowsAbsent,
            "DoesNotExist" => !present,
            "Gt" or "Lt" or "Gte" or "Lte" => !node.Complement && !node.AllowsAbsent && node.Values.Count > 0 && values.Count == 1 && long.TryParse(values[0], out var bound) &&
                node.Values.All(v => long.TryParse(v, out var n) && op switch { "Gt" => n > bound, "Lt" => n < bound, "Gte" => n >= bound, _ => n <= bound }),
            _ => false,
        };
    }

    private static IEnumerable<(string Protocol, string Ip, int Port)> Ports(V1Pod pod) =>
        (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).SelectMany(c => c.Ports ?? [])
            .Where(p => p.HostPort is > 0)
            .Select(p => (string.IsNullOrEmpty(p.Protocol) ? "TCP" : p.Protocol, string.IsNullOrEmpty(p.HostIP) ? "0.0.0.0" : p.HostIP, p.HostPort!.Value));

    /// <summary>No two pods on a node bind the same protocol and port on overlapping host IPs (0.0.0.0 overlaps every IP).</summary>
    private static void CheckHostPorts(IEnumerable<V1Pod> pods, List<(string Protocol, string Ip, int Port)> inUse, string node, List<string> violations)
    {
        foreach (var pod in pods)
        {
            var own = Ports(pod).ToList();
            foreach (var p in own)
            {
                if (inUse.FirstOrDefault(q => q.Port == p.Port && q.Protocol == p.Protocol && (q.Ip == "0.0.0.0" || p.Ip == "0.0.0.0" || q.Ip == p.Ip)) is { Port: > 0 } clash)
                {
                    violations.Add($"{Name(pod)} on {node}: host port {p.Protocol}/{p.Ip}:{p.Port} conflicts with {clash.Protocol}/{clash.Ip}:{clash.Port}");
                }
            }

            inUse.AddRange(own);
        }
    }

    private static V1Taint? Untolerated(IEnumerable<V1Taint> taints, V1Pod pod) =>
        taints.FirstOrDefault(t => t.Effect is "NoSchedule" or "NoExecute" && !(pod.Spec?.Tolerations ?? []).Any(tol =>
            (string.IsNullOrEmpty(tol.Effect) || tol.Effect == t.Effect) &&
            (string.IsNullOrEmpty(tol.Key) ? tol.OperatorProperty == "Exists" : tol.Key == t.Key && (tol.OperatorProperty == "Exists" || (tol.Value ?? string.Empty) == (t.Value ?? string.Empty)))));

    private static void CheckAccounting(SchedulingInput input, SchedulingResult result, List<string> violations)
    {
        var seen = new Dictionary<V1Pod, int>(ReferenceEqualityComparer.Instance);
        foreach (var pod in result.NewNodeClaims.SelectMany(c => c.Pods).Concat(result.ExistingNodes.SelectMany(e => e.Pods)).Concat(result.PodErrors.Select(e => e.Pod)))
        {
            seen[pod] = seen.GetValueOrDefault(pod) + 1;
        }

        foreach (var pod in input.Pods)
        {
            var count = seen.GetValueOrDefault(pod);
            if (count != 1)
            {
                violations.Add($"{Name(pod)} appears {count} times in the result");
            }
        }

        if (seen.Count != input.Pods.Count)
        {
            violations.Add($"the result holds {seen.Count} pods, the input {input.Pods.Count}");
        }
    }

    private static void CheckLimits(SchedulingInput input, SchedulingResult result, List<string> violations)
    {
        foreach (var pool in input.NodePools.Where(p => p.Limits is not null))
        {
            var claims = result.NewNodeClaims.Where(c => c.NodePool == pool).ToList();
            var reserved = claims.Aggregate(pool.Usage, (sum, c) => sum + c.InstanceTypes.Select(t => t.Capacity).Aggregate(Resources.Max));
            var limits = pool.Limits!.Value;
            if ((limits.CpuMilli > 0 && reserved.CpuMilli > limits.CpuMilli) || (limits.Memory > 0 && reserved.Memory > limits.Memory))
            {
                violations.Add($"NodePool {pool.Name}: NodeClaims may use {reserved}, beyond its limits {limits}");
            }

            if (limits.Get(ResourceNames.Nodes) is > 0 and var nodes && pool.Usage.Get(ResourceNames.Nodes) + claims.Count > nodes)
            {
                violations.Add($"NodePool {pool.Name}: {claims.Count} new NodeClaims exceed its limit of {nodes} nodes");
            }
        }
    }

    // ------------------------------------------------------------------ topology replay

    private sealed class Placed(V1Pod pod, Node node)
    {
        public V1Pod Pod { get; } = pod;

        public Node Node { get; } = node;

        public string Namespace => Pod.Metadata?.NamespaceProperty ?? "default";

        public IDictionary<string, string> Labels => Pod.Metadata?.Labels ?? new Dictionary<string, string>();

        public IList<V1PodAffinityTerm> Anti => Pod.Spec?.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [];

        public IList<V1PodAffinityTerm> Affinity => Pod.Spec?.Affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [];

        public IEnumerable<V1TopologySpreadConstraint> Spread => (Pod.Spec?.TopologySpreadConstraints ?? []).Where(c => c.WhenUnsatisfiable == "DoNotSchedule");

        public bool OwnsConstraint => Anti.Count > 0 || Affinity.Count > 0 || Spread.Any();
    }

    /// <summary>
    /// A plan is valid when some binding order admits every pod. Two orders are tried (each success proves one exists):
    /// pods that own a constraint first, and the scheduler's queue order (pods that need a node of their own, then CPU
    /// and memory descending, creation time, UID). Each sweeps its order repeatedly, binding every pod admitted against
    /// the pods bound before it, until nothing more binds. The violations reported are those of the order that bound most.
    /// </summary>
    private static void Replay(SchedulingInput input, List<Node> nodes, List<string> violations)
    {
        var zones = input.NodePools.SelectMany(p => p.InstanceTypes).SelectMany(t => t.Requirements.Get(Zone) is { Complement: false } r ? r.Values : [])
            .Concat(nodes.Where(n => n.Zone is not null).Select(n => n.Zone!)).Distinct(StringComparer.Ordinal).ToList();
        var nodesByName = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var placed = nodes.SelectMany(n => n.Pods.Select(p => new Placed(p, n))).ToList();
        List<string>? fewest = null;
        foreach (var order in new[] { OwnersFirst(placed), QueueOrder(placed) })
        {
            var bound = input.BoundPods.Where(b => nodesByName.ContainsKey(b.NodeName)).Select(b => new Placed(b.Pod, nodesByName[b.NodeName])).ToList();
            var pending = Bind(order, bound, nodes, zones);
            var found = pending.Select(p => $"{Name(p.Pod)} on {p.Node.Name} (zone {p.Node.Zone ?? "unknown"}) can never bind: {Admits(p, bound, nodes, zones)}").ToList();
            if (fewest is null || found.Count < fewest.Count)
            {
                fewest = found;
            }

            if (found.Count == 0)
            {
                break;
            }
        }

        violations.AddRange(fewest ?? []);
    }

    private static List<Placed> OwnersFirst(List<Placed> placed) => [.. placed.Where(p => p.OwnsConstraint), .. placed.Where(p => !p.OwnsConstraint)];

    private static List<Placed> QueueOrder(List<Placed> placed) =>
        [.. placed.OrderByDescending(p => p.Anti.Any(t => t.TopologyKey == Hostname && TermSelects(t, p.Namespace, p)))
            .ThenByDescending(p => Requests(p.Pod).CpuMilli).ThenByDescending(p => Requests(p.Pod).Memory)
            .ThenBy(p => p.Pod.Metadata?.CreationTimestamp ?? DateTime.MinValue).ThenBy(p => p.Pod.Metadata?.Uid, StringComparer.Ordinal)];

    /// <summary>Sweeps <paramref name="order"/> until nothing more binds; returns the pods that never did.</summary>
    private static List<Placed> Bind(List<Placed> order, List<Placed> bound, List<Node> nodes, List<string> zones)
    {
        var pending = new List<Placed>(order);
        var progress = true;
        while (progress && pending.Count > 0)
        {
            progress = false;
            var next = new List<Placed>();
            foreach (var p in pending)
            {
                if (Admits(p, bound, nodes, zones) is null)
                {
                    bound.Add(p);
                    progress = true;
                }
                else
                {
                    next.Add(p);
                }
            }

            pending = next;
        }

        return pending;
    }

    private static bool SameDomain(string key, Node a, Node b) => key == Hostname ? a == b : key == Zone ? a.Zone is null || b.Zone is null || a.Zone == b.Zone : true;

    private static string? Admits(Placed p, List<Placed> bound, List<Node> nodes, List<string> zones)
    {
        foreach (var term in p.Anti)
        {
            if (bound.FirstOrDefault(q => SameDomain(term.TopologyKey, q.Node, p.Node) && TermSelects(term, p.Namespace, q)) is { } q)
            {
                return $"anti-affinity on {term.TopologyKey} with {Name(q.Pod)} on {q.Node.Name}";
            }
        }

        foreach (var q in bound)
        {
            foreach (var term in q.Anti)
            {
                if (SameDomain(term.TopologyKey, q.Node, p.Node) && TermSelects(term, q.Namespace, p))
                {
                    return $"the anti-affinity of {Name(q.Pod)} on {q.Node.Name} selects it";
                }
            }
        }

        foreach (var term in p.Affinity)
        {
            if (term.TopologyKey == Zone && p.Node.Zone is null)
            {
                return "zonal pod affinity on a NodeClaim whose zone is not decided";
            }

            var matching = bound.Where(q => TermSelects(term, p.Namespace, q)).ToList();
            if (matching.Count == 0 ? !TermSelects(term, p.Namespace, p) : !matching.Any(q => SameDomain(term.TopologyKey, q.Node, p.Node)))
            {
                return $"pod affinity on {term.TopologyKey} unsatisfied";
            }
        }

        foreach (var c in p.Spread)
        {
            var selected = bound.Where(q => q.Namespace == p.Namespace && Matches(c.LabelSelector, q.Labels)).ToList();
            var self = Matches(c.LabelSelector, p.Labels) ? 1 : 0;
            int count, min;
            if (c.TopologyKey == Hostname)
            {
                count = selected.Count(q => q.Node == p.Node);
                var perNode = selected.GroupBy(q => q.Node).ToDictionary(g => g.Key, g => g.Count());
                min = nodes.Min(n => perNode.GetValueOrDefault(n));
            }
            else if (c.TopologyKey == Zone)
            {
                if (p.Node.Zone is null)
                {
                    return "zonal topology spread on a NodeClaim whose zone is not decided";
                }

                count = selected.Count(q => q.Node.Zone == p.Node.Zone);
                min = zones.Min(z => selected.Count(q => q.Node.Zone == z));
            }
            else
            {
                return $"the checker does not model topology key {c.TopologyKey}";
            }

            if (count + self - min > c.MaxSkew)
            {
                return $"topology spread on {c.TopologyKey}: {count + self} in its domain, minimum {min}, maxSkew {c.MaxSkew}";
            }
        }

        return null;
    }

    private static bool TermSelects(V1PodAffinityTerm term, string ownerNamespace, Placed q)
    {
        var namespaces = term.Namespaces is { Count: > 0 } list ? list : [ownerNamespace];
        return (term.NamespaceSelector is not null || namespaces.Contains(q.Namespace)) && Matches(term.LabelSelector, q.Labels);
    }

    /// <summary>matchLabels and matchExpressions, as metav1 label selectors match; a null selector matches nothing.</summary>
    private static bool Matches(V1LabelSelector? selector, IDictionary<string, string> labels)
    {
        if (selector is null)
        {
            return false;
        }

        foreach (var (k, v) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(k, out var actual) || actual != v)
            {
                return false;
            }
        }

        foreach (var e in selector.MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(e.Key, out var actual);
            var ok = e.OperatorProperty switch
            {
                "In" => has && (e.Values ?? []).Contains(actual!),
                "NotIn" => !has || !(e.Values ?? []).Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
