using k8s.Models;
using Karpenter.Sim.Cluster.Common;
using Karpenter.Sim.Cluster.Resources;

namespace Karpenter.Sim.Cluster.Scheduler;

/// <summary>
/// The cluster as one scheduling pass sees it: nodes with the pods bound (or assumed bound) to them, namespace labels
/// for affinity namespace selectors. Pods placed during the pass are added, so later pods see them.
/// </summary>
internal sealed class SchedulingSnapshot
{
    private readonly Dictionary<string, IDictionary<string, string>> _namespaceLabels;

    public SchedulingSnapshot(IEnumerable<V1Node> nodes, IEnumerable<(V1Pod Pod, string NodeName)> boundPods, IEnumerable<V1Namespace> namespaces)
    {
        Nodes = [.. nodes.Select(n => new NodeInfo(n)).OrderBy(n => n.Name, StringComparer.Ordinal)];
        ByName = Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        _namespaceLabels = namespaces.ToDictionary(n => n.Metadata.Name, n => (IDictionary<string, string>)(n.Metadata.Labels ?? new Dictionary<string, string>()), StringComparer.Ordinal);
        foreach (var (pod, nodeName) in boundPods)
        {
            if (ByName.TryGetValue(nodeName, out var node))
            {
                Place(pod, node);
            }
        }
    }

    public List<NodeInfo> Nodes { get; }

    public Dictionary<string, NodeInfo> ByName { get; }

    /// <summary>Existing pods with required anti-affinity terms, and the node each runs on.</summary>
    public List<(V1Pod Pod, NodeInfo Node, V1PodAffinityTerm Term)> ExistingAntiAffinity { get; } = [];

    public void Place(V1Pod pod, NodeInfo node)
    {
        ResourceAmounts requests;
        try
        {
            requests = PodRequests.Of(pod);
        }
        catch (FormatException)
        {
            requests = ResourceAmounts.Empty.With(ResourceAmounts.Pods, 1);
        }

        node.Add(pod, requests);
        foreach (var term in pod.Spec?.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [])
        {
            ExistingAntiAffinity.Add((pod, node, term));
        }
    }

    /// <summary>Whether <paramref name="candidate"/> is in a namespace <paramref name="term"/> (of <paramref name="owner"/>) selects and matches its selector.</summary>
    public bool TermMatches(V1PodAffinityTerm term, V1Pod owner, V1Pod candidate)
    {
        if (!InTermNamespaces(term, owner, candidate.Metadata.NamespaceProperty))
        {
            return false;
        }

        var selector = term.LabelSelector;
        if (selector is null)
        {
            return false;
        }

        var matchLabels = new Dictionary<string, string>(selector.MatchLabels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var key in term.MatchLabelKeys ?? [])
        {
            if (owner.Metadata.Labels?.TryGetValue(key, out var value) == true)
            {
                matchLabels[key] = value;
            }
        }

        var expressions = (selector.MatchExpressions ?? []).ToList();
        foreach (var key in term.MismatchLabelKeys ?? [])
        {
            if (owner.Metadata.Labels?.TryGetValue(key, out var value) == true)
            {
                expressions.Add(new V1LabelSelectorRequirement { Key = key, OperatorProperty = "NotIn", Values = [value] });
            }
        }

        return NodeSelection.SelectorMatches(new V1LabelSelector { MatchLabels = matchLabels, MatchExpressions = expressions }, candidate.Metadata.Labels);
    }

    private bool InTermNamespaces(V1PodAffinityTerm term, V1Pod owner, string candidateNamespace)
    {
        var names = term.Namespaces ?? [];
        if (names.Count == 0 && term.NamespaceSelector is null)
        {
            return candidateNamespace == owner.Metadata.NamespaceProperty;
        }

        if (names.Contains(candidateNamespace))
        {
            return true;
        }

        return term.NamespaceSelector is { } selector &&
               NodeSelection.SelectorMatches(selector, _namespaceLabels.GetValueOrDefault(candidateNamespace));
    }
}
