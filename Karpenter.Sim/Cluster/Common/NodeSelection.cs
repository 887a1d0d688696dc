using System.Globalization;
using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Sim.Cluster.Common;

/// <summary>
/// Whether a pod's node selector and required node affinity admit a node (<c>nodeaffinity.GetRequiredNodeAffinity</c>):
/// every <c>nodeSelector</c> label, and at least one <c>nodeSelectorTerm</c> whose expressions (labels) and fields
/// (<c>metadata.name</c>) all match.
/// </summary>
public static class NodeSelection
{
    public static bool Admits(V1PodSpec? spec, V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var labels = node.Metadata?.Labels;
        if (spec?.NodeSelector is { Count: > 0 } selector &&
            selector.Any(kv => labels is null || !labels.TryGetValue(kv.Key, out var v) || v != kv.Value))
        {
            return false;
        }

        var terms = spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        return terms is not { Count: > 0 } || terms.Any(term => TermMatches(term, node));
    }

    /// <summary>A term with no requirements matches nothing, as in Kubernetes.</summary>
    public static bool TermMatches(V1NodeSelectorTerm term, V1Node node)
    {
        ArgumentNullException.ThrowIfNull(term);
        ArgumentNullException.ThrowIfNull(node);
        var expressions = term.MatchExpressions ?? [];
        var fields = term.MatchFields ?? [];
        if (expressions.Count == 0 && fields.Count == 0)
        {
            return false;
        }

        var labels = node.Metadata?.Labels;
        return expressions.All(e => Matches(e, labels?.TryGetValue(e.Key, out var v) == true ? v : null)) &&
               fields.All(f => f.Key == "metadata.name" && Matches(f, node.Metadata?.Name));
    }

    /// <summary>One requirement against a value (null: the label is absent).</summary>
    public static bool Matches(V1NodeSelectorRequirement requirement, string? value)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        var values = requirement.Values ?? [];
        return requirement.OperatorProperty switch
        {
            "In" => value is not null && values.Contains(value),
            "NotIn" => value is null || !values.Contains(value),
            "Exists" => value is not null,
            "DoesNotExist" => value is null,
            "Gt" => value is not null && Integer(value) is { } a && values.Count == 1 && Integer(values[0]) is { } b && a > b,
            "Lt" => value is not null && Integer(value) is { } c && values.Count == 1 && Integer(values[0]) is { } d && c < d,
            _ => false,
        };
    }

    /// <summary>Whether a label selector (null: nothing, empty: everything) matches the labels.</summary>
    public static bool SelectorMatches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        try
        {
            return LabelSelector.FromV1(selector).Matches(labels);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static long? Integer(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
}
