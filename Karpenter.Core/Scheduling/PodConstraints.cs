using System.Text;
using k8s.Models;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Scheduling;

/// <summary>
/// The scheduling constraints of one pod as the scheduler currently treats them: preferences start out as
/// requirements and <see cref="Relax"/> gives them up one at a time, in upstream Karpenter's order. The original pod is
/// never modified.
/// </summary>
internal sealed class PodConstraints
{
    private readonly List<V1NodeSelectorTerm> _requiredTerms;
    private readonly List<V1PreferredSchedulingTerm> _preferredNodeTerms;
    private readonly List<V1WeightedPodAffinityTerm> _preferredAffinity;
    private readonly List<V1WeightedPodAffinityTerm> _preferredAntiAffinity;
    private readonly List<V1TopologySpreadConstraint> _spread;
    private bool _toleratePreferNoSchedule;

    public PodConstraints(V1Pod pod, PreferencePolicy policy, Requirements volumeRequirements)
    {
        Pod = pod;
        var spec = pod.Spec ?? new V1PodSpec();
        var affinity = spec.Affinity;
        Namespace = pod.Metadata?.NamespaceProperty ?? "default";
        Labels = pod.Metadata?.Labels ?? new Dictionary<string, string>();
        NodeSelector = spec.NodeSelector;
        Tolerations = spec.Tolerations ?? [];
        VolumeRequirements = volumeRequirements;
        _requiredTerms = [.. affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms ?? []];
        _preferredNodeTerms = [.. (affinity?.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution ?? []).OrderByDescending(t => t.Weight)];
        RequiredAffinity = [.. affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? []];
        RequiredAntiAffinity = [.. affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? []];
        _preferredAffinity = [.. (affinity?.PodAffinity?.PreferredDuringSchedulingIgnoredDuringExecution ?? []).OrderByDescending(t => t.Weight)];
        _preferredAntiAffinity = [.. (affinity?.PodAntiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution ?? []).OrderByDescending(t => t.Weight)];
        _spread = [.. spec.TopologySpreadConstraints ?? []];
        HostPorts = [.. HostPort.Of(pod)];
        if (policy == PreferencePolicy.Ignore)
        {
            _preferredNodeTerms.Clear();
            _preferredAffinity.Clear();
            _preferredAntiAffinity.Clear();
            _spread.RemoveAll(c => string.Equals(c.WhenUnsatisfiable, "ScheduleAnyway", StringComparison.Ordinal));
        }
    }

    public V1Pod Pod { get; }

    public string Namespace { get; }

    public IDictionary<string, string> Labels { get; }

    public IDictionary<string, string>? NodeSelector { get; }

    public IList<V1Toleration> Tolerations { get; }

    public bool IgnorePreferNoSchedule => _toleratePreferNoSchedule;

    public Requirements VolumeRequirements { get; }

    public List<V1PodAffinityTerm> RequiredAffinity { get; }

    public List<V1PodAffinityTerm> RequiredAntiAffinity { get; }

    public IReadOnlyList<HostPort> HostPorts { get; }

    public IEnumerable<V1PodAffinityTerm> AffinityTerms => RequiredAffinity.Concat(_preferredAffinity.Select(t => t.PodAffinityTerm));

    public IEnumerable<V1PodAffinityTerm> AntiAffinityTerms => RequiredAntiAffinity.Concat(_preferredAntiAffinity.Select(t => t.PodAffinityTerm));

    public IReadOnlyList<V1TopologySpreadConstraint> Spread => _spread;

    /// <summary>Node selector, the first required node-affinity term, the heaviest preferred term and volume topology.</summary>
    public Requirements NodeRequirements(ICollection<string> errors)
    {
        var r = Requirements.FromLabels(NodeSelector);
        if (_preferredNodeTerms.Count > 0)
        {
            r.Add(Requirements.FromNodeSelector(_preferredNodeTerms[0].Preference?.MatchExpressions, errors));
        }

        if (_requiredTerms.Count > 0)
        {
            r.Add(Requirements.FromNodeSelector(_requiredTerms[0].MatchExpressions, errors));
        }

        return r.Add(VolumeRequirements);
    }

    /// <summary>
    /// Every alternative of the pod's required node affinity (ORed terms, each with the node selector), used by
    /// topology spread's node-affinity policy to decide which nodes count.
    /// </summary>
    public List<Requirements> NodeAffinityAlternatives()
    {
        var selector = Requirements.FromLabels(NodeSelector);
        var terms = Pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (terms is null || terms.Count == 0)
        {
            return [selector];
        }

        return [.. terms.Select(t => selector.Clone().Add(Requirements.FromNodeSelector(t.MatchExpressions)))];
    }

    /// <summary>Gives up one preference, in upstream's order; returns what was relaxed, or null when nothing is left.</summary>
    public string? Relax(IEnumerable<V1Taint> preferNoScheduleTaints)
    {
        if (_requiredTerms.Count > 1)
        {
            _requiredTerms.RemoveAt(0);
            return "removed a required node affinity term";
        }

        if (_preferredAffinity.Count > 0)
        {
            _preferredAffinity.RemoveAt(0);
            return "removed the heaviest preferred pod affinity term";
        }

        if (_preferredAntiAffinity.Count > 0)
        {
            _preferredAntiAffinity.RemoveAt(0);
            return "removed the heaviest preferred pod anti-affinity term";
        }

        if (_preferredNodeTerms.Count > 0)
        {
            _preferredNodeTerms.RemoveAt(0);
            return "removed the heaviest preferred node affinity term";
        }

        var anyway = _spread.FindIndex(c => string.Equals(c.WhenUnsatisfiable, "ScheduleAnyway", StringComparison.Ordinal));
        if (anyway >= 0)
        {
            _spread.RemoveAt(anyway);
            return "removed a ScheduleAnyway topology spread constraint";
        }

        if (!_toleratePreferNoSchedule && preferNoScheduleTaints.Any(t => string.Equals(t.Effect, Taints.EffectPreferNoSchedule, StringComparison.Ordinal)))
        {
            _toleratePreferNoSchedule = true;
            return "tolerated PreferNoSchedule taints";
        }

        return null;
    }

    /// <summary>A canonical text of everything that decides where the pod may go (not its requests).</summary>
    public string ShapeKey()
    {
        var sb = new StringBuilder(256);
        sb.Append(Namespace).Append('|');
        LabelSelector.AppendLabels(sb, Labels);
        sb.Append('|');
        LabelSelector.AppendLabels(sb, NodeSelector);
        sb.Append('|');
        if (_requiredTerms.Count > 0)
        {
            AppendExpressions(sb, _requiredTerms[0].MatchExpressions);
        }

        sb.Append('|');
        if (_preferredNodeTerms.Count > 0)
        {
            AppendExpressions(sb, _preferredNodeTerms[0].Preference?.MatchExpressions);
        }

        sb.Append('|');
        if (_spread.Count > 0)
        {
            foreach (var term in Pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms ?? [])
            {
                AppendExpressions(sb, term.MatchExpressions);
                sb.Append('/');
            }
        }

        sb.Append('|');
        foreach (var t in Tolerations)
        {
            sb.Append(t.Key).Append(':').Append(t.OperatorProperty).Append(':').Append(t.Value).Append(':').Append(t.Effect).Append(',');
        }

        sb.Append(_toleratePreferNoSchedule ? "|P|" : "|-|");
        foreach (var c in _spread)
        {
            sb.Append(SpreadKey(c, this)).Append(',');
        }

        sb.Append('|');
        foreach (var t in RequiredAffinity)
        {
            sb.Append(TermKey(t)).Append(',');
        }

        sb.Append('|');
        foreach (var t in _preferredAffinity)
        {
            sb.Append(TermKey(t.PodAffinityTerm)).Append(',');
        }

        sb.Append('|');
        foreach (var t in RequiredAntiAffinity)
        {
            sb.Append(TermKey(t)).Append(',');
        }

        sb.Append('|');
        foreach (var t in _preferredAntiAffinity)
        {
            sb.Append(TermKey(t.PodAffinityTerm)).Append(',');
        }

        sb.Append('|');
        foreach (var p in HostPorts)
        {
            sb.Append(p.Protocol).Append(p.Ip).Append(p.Port).Append(',');
        }

        sb.Append('|').Append(VolumeRequirements.CanonicalKey);
        return sb.ToString();
    }

    internal static string TermKey(V1PodAffinityTerm term)
    {
        var sb = new StringBuilder();
        sb.Append(term.TopologyKey).Append(';').Append(LabelSelector.From(term.LabelSelector).Key).Append(';');
        foreach (var ns in (term.Namespaces ?? []).Order(StringComparer.Ordinal))
        {
            sb.Append(ns).Append(',');
        }

        if (term.NamespaceSelector is not null)
        {
            sb.Append(";ns:").Append(LabelSelector.From(term.NamespaceSelector).Key);
        }

        return sb.ToString();
    }

    internal static string SpreadKey(V1TopologySpreadConstraint c, PodConstraints owner) =>
        $"{c.TopologyKey};{c.MaxSkew};{c.MinDomains};{c.WhenUnsatisfiable};{c.NodeAffinityPolicy};{c.NodeTaintsPolicy};{LabelSelector.From(c.LabelSelector, MatchLabelKeyValues(c, owner)).Key}";

    internal static IEnumerable<KeyValuePair<string, string>> MatchLabelKeyValues(V1TopologySpreadConstraint c, PodConstraints owner)
    {
        foreach (var key in c.MatchLabelKeys ?? [])
        {
            if (owner.Labels.TryGetValue(key, out var value))
            {
                yield return new KeyValuePair<string, string>(key, value);
            }
        }
    }

    private static void AppendExpressions(StringBuilder sb, IList<V1NodeSelectorRequirement>? expressions)
    {
        foreach (var e in expressions ?? [])
        {
            sb.Append(e.Key).Append(' ').Append(e.OperatorProperty).Append(' ').Append(string.Join(",", e.Values ?? [])).Append(';');
        }
    }
}
