using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Sim.Cluster.Common;
using Karpenter.Sim.Cluster.Resources;
using WellKnownTaints = Karpenter.Entities.WellKnown.Taints;

namespace Karpenter.Sim.Cluster.Scheduler;

/// <summary>
/// kube-scheduler's filters for one pending pod against every node of a snapshot, in the default plugin order
/// (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity);
/// a node's reasons are those of the first plugin that rejects it, worded as kube-scheduler words them. Also scores
/// the nodes that pass.
/// </summary>
internal sealed class PodFit
{
    private static readonly V1Taint UnschedulableTaint = new() { Key = WellKnownTaints.UnschedulableKey, Effect = WellKnownTaints.EffectNoSchedule };

    private readonly V1Pod _pod;
    private readonly SchedulingSnapshot _snapshot;
    private readonly ResourceAmounts _requests;
    private readonly List<(string Ip, string Protocol, int Port)> _ports;
    private readonly List<Spread> _spreads = [];
    private readonly List<(V1PodAffinityTerm Term, HashSet<string> Domains, bool AnyMatch)> _affinity = [];
    private readonly List<(V1PodAffinityTerm Term, HashSet<string> Domains)> _antiAffinity = [];
    private readonly HashSet<(string Key, string Value)> _forbiddenByExisting = [];
    private readonly bool _matchesOwnAffinity;

    public PodFit(V1Pod pod, SchedulingSnapshot snapshot)
    {
        _pod = pod;
        _snapshot = snapshot;
        _requests = PodRequests.Of(pod);
        _ports = [.. NodeInfo.HostPorts(pod)];
        foreach (var constraint in pod.Spec?.TopologySpreadConstraints ?? [])
        {
            if (constraint.WhenUnsatisfiable == "DoNotSchedule")
            {
                _spreads.Add(Spread.Count(constraint, pod, snapshot));
            }
        }

        var affinity = pod.Spec?.Affinity;
        var affinityTerms = affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [];
        foreach (var term in affinityTerms)
        {
            var (domains, any) = DomainsWithMatches(term);
            _affinity.Add((term, domains, any));
        }

        _matchesOwnAffinity = affinityTerms.Count > 0 && affinityTerms.All(t => snapshot.TermMatches(t, pod, pod));
        foreach (var term in affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [])
        {
            _antiAffinity.Add((term, DomainsWithMatches(term).Domains));
        }

        foreach (var (existing, node, term) in snapshot.ExistingAntiAffinity)
        {
            if (node.Labels.TryGetValue(term.TopologyKey, out var value) && snapshot.TermMatches(term, existing, pod))
            {
                _forbiddenByExisting.Add((term.TopologyKey, value));
            }
        }
    }

    public ResourceAmounts Requests => _requests;

    /// <summary>Null when the pod fits on the node, else kube-scheduler's reasons.</summary>
    public IReadOnlyList<string>? Filter(NodeInfo node)
    {
        var spec = _pod.Spec;
        if (node.Node.Spec?.Unschedulable == true && !Tolerations.Tolerates(spec?.Tolerations, UnschedulableTaint))
        {
            return ["node(s) were unschedulable"];
        }

        if (Tolerations.FirstUntolerated(node.Node.Spec?.Taints, spec?.Tolerations, WellKnownTaints.EffectNoSchedule, WellKnownTaints.EffectNoExecute) is { } taint)
        {
            return [$"node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}"];
        }

        if (!NodeSelection.Admits(spec, node.Node))
        {
            return ["node(s) didn't match Pod's node affinity/selector"];
        }

        if (_ports.Count > 0 && node.PortConflicts(_ports))
        {
            return ["node(s) didn't have free ports for the requested pod ports"];
        }

        var insufficient = new List<string>();
        foreach (var name in _requests.Names.Order(StringComparer.Ordinal))
        {
            var wanted = _requests[name];
            if (wanted > 0 && node.Requested[name] + wanted > node.Allocatable[name])
            {
                insufficient.Add(name == ResourceAmounts.Pods ? "Too many pods" : $"Insufficient {name}");
            }
        }

        if (insufficient.Count > 0)
        {
            return insufficient;
        }

        foreach (var spread in _spreads)
        {
            if (spread.Rejects(node) is { } reason)
            {
                return [reason];
            }
        }

        return InterPodAffinity(node) is { } affinityReason ? [affinityReason] : null;
    }

    /// <summary>Higher is better: nominated first, then preferred node affinity, PreferNoSchedule taints, resource balance.</summary>
    public double Score(NodeInfo node, bool nominated, ScoringStrategy strategy)
    {
        var score = nominated ? 1_000_000 : 0;
        foreach (var preferred in _pod.Spec?.Affinity?.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution ?? [])
        {
            if (NodeSelection.TermMatches(preferred.Preference, node.Node))
            {
                score += preferred.Weight;
            }
        }

        score -= 50 * (node.Node.Spec?.Taints ?? []).Count(t => t.Effect == WellKnownTaints.EffectPreferNoSchedule && !Tolerations.Tolerates(_pod.Spec?.Tolerations, t));
        double resources = 0;
        foreach (var name in new[] { ResourceAmounts.Cpu, ResourceAmounts.Memory })
        {
            var allocatable = node.Allocatable[name];
            if (allocatable <= 0)
            {
                continue;
            }

            var used = (double)(node.Requested[name] + _requests[name]) / allocatable;
            resources += strategy == ScoringStrategy.MostAllocated ? used : 1 - used;
        }

        return score + (resources * 50);
    }

    private string? InterPodAffinity(NodeInfo node)
    {
        foreach (var (key, value) in _forbiddenByExisting)
        {
            if (node.Labels.TryGetValue(key, out var v) && v == value)
            {
                return "node(s) didn't satisfy existing pods anti-affinity rules";
            }
        }

        if (_affinity.Count > 0)
        {
            // The first pod of a group that selects itself may go anywhere with the topology labels.
            var firstOfGroup = _affinity.All(a => !a.AnyMatch) && _matchesOwnAffinity;
            foreach (var (term, domains, _) in _affinity)
            {
                if (!node.Labels.TryGetValue(term.TopologyKey, out var value) || (!firstOfGroup && !domains.Contains(value)))
                {
                    return "node(s) didn't match pod affinity rules";
                }
            }
        }

        foreach (var (term, domains) in _antiAffinity)
        {
            if (node.Labels.TryGetValue(term.TopologyKey, out var value) && domains.Contains(value))
            {
                return "node(s) didn't match pod anti-affinity rules";
            }
        }

        return null;
    }

    private (HashSet<string> Domains, bool Any) DomainsWithMatches(V1PodAffinityTerm term)
    {
        var domains = new HashSet<string>(StringComparer.Ordinal);
        var any = false;
        foreach (var node in _snapshot.Nodes)
        {
            foreach (var other in node.Pods)
            {
                if (!_snapshot.TermMatches(term, _pod, other))
                {
                    continue;
                }

                any = true;
                if (node.Labels.TryGetValue(term.TopologyKey, out var value))
                {
                    domains.Add(value);
                }

                break;
            }
        }

        return (domains, any);
    }

    /// <summary>One DoNotSchedule topology spread constraint with the matching pods counted per domain.</summary>
    private sealed class Spread
    {
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

        private Spread(V1TopologySpreadConstraint constraint) => Constraint = constraint;

        public V1TopologySpreadConstraint Constraint { get; }

        private int MinMatch { get; set; }

        private int SelfMatch { get; set; }

        public static Spread Count(V1TopologySpreadConstraint constraint, V1Pod pod, SchedulingSnapshot snapshot)
        {
            var spread = new Spread(constraint);
            var selector = Selector(constraint, pod);
            var honorAffinity = constraint.NodeAffinityPolicy is null or "Honor";
            var honorTaints = constraint.NodeTaintsPolicy == "Honor";
            foreach (var node in snapshot.Nodes)
            {
                if (!node.Labels.TryGetValue(constraint.TopologyKey, out var domain) ||
                    (honorAffinity && !NodeSelection.Admits(pod.Spec, node.Node)) ||
                    (honorTaints && Tolerations.FirstUntolerated(node.Node.Spec?.Taints, pod.Spec?.Tolerations, WellKnownTaints.EffectNoSchedule, WellKnownTaints.EffectNoExecute) is not null))
                {
                    continue;
                }

                var matching = node.Pods.Count(p => p.Metadata.NamespaceProperty == pod.Metadata.NamespaceProperty &&
                                                    p.Metadata.DeletionTimestamp is null &&
                                                    NodeSelection.SelectorMatches(selector, p.Metadata.Labels));
                spread._counts[domain] = spread._counts.GetValueOrDefault(domain) + matching;
            }

            var minDomains = constraint.MinDomains ?? 1;
            spread.MinMatch = spread._counts.Count == 0 || spread._counts.Count < minDomains ? 0 : spread._counts.Values.Min();
            spread.SelfMatch = NodeSelection.SelectorMatches(selector, pod.Metadata.Labels) ? 1 : 0;
            return spread;
        }

        public string? Rejects(NodeInfo node)
        {
            if (!node.Labels.TryGetValue(Constraint.TopologyKey, out var domain))
            {
                return "node(s) didn't match pod topology spread constraints (missing required label)";
            }

            var skew = _counts.GetValueOrDefault(domain) + SelfMatch - MinMatch;
            return skew > Constraint.MaxSkew ? "node(s) didn't match pod topology spread constraints" : null;
        }

        private static V1LabelSelector? Selector(V1TopologySpreadConstraint constraint, V1Pod pod)
        {
            if (constraint.LabelSelector is null || constraint.MatchLabelKeys is not { Count: > 0 } keys)
            {
                return constraint.LabelSelector;
            }

            var matchLabels = new Dictionary<string, string>(constraint.LabelSelector.MatchLabels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            foreach (var key in keys)
            {
                if (pod.Metadata.Labels?.TryGetValue(key, out var value) == true)
                {
                    matchLabels[key] = value;
                }
            }

            return new V1LabelSelector { MatchLabels = matchLabels, MatchExpressions = constraint.LabelSelector.MatchExpressions };
        }
    }

    /// <summary>The key of the pod this fit is for.</summary>
    public ObjectKey Key => ObjectKey.Of(_pod);
}
