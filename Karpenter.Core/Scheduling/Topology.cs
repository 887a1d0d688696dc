using k8s.Models;

namespace Karpenter.Core.Scheduling;

internal enum TopologyType
{
    Spread,
    Affinity,
    AntiAffinity,
}

/// <summary>
/// Counts, per topology domain, the pods a selector picks (SELECT COUNT(*) … GROUP BY topology key). One group is
/// shared by every pod whose constraint is identical. An inverse group tracks where the owners of an anti-affinity
/// term are, so that pods the term selects keep out of those domains (anti-affinity is symmetric).
/// </summary>
internal sealed class TopologyGroup
{
    public required int Id { get; init; }

    public required TopologyType Type { get; init; }

    public required string Key { get; init; }

    public required bool IsHostname { get; init; }

    public bool Inverse { get; init; }

    /// <summary>Namespaces whose pods count; null means every namespace.</summary>
    public IReadOnlySet<string>? Namespaces { get; init; }

    public required LabelSelector Selector { get; init; }

    public int MaxSkew { get; init; } = 1;

    public int? MinDomains { get; init; }

    /// <summary>Spread with nodeAffinityPolicy Honor: only nodes matching one of these alternatives count.</summary>
    public IReadOnlyList<Requirements>? NodeFilter { get; init; }

    /// <summary>Spread with nodeTaintsPolicy Honor: only nodes whose taints these tolerate count.</summary>
    public IList<V1Toleration>? TaintFilter { get; init; }

    /// <summary>The known domains of <see cref="Key"/> (zones, capacity types, …); empty for hostname.</summary>
    public string[] Domains { get; set; } = [];

    public Dictionary<string, int> Counts { get; } = new(StringComparer.Ordinal);

    /// <summary>Pod affinity groups: the domains of <see cref="Key"/> each owning shape's node requirements allow.</summary>
    public List<Requirement> OwnerDomains { get; } = [];

    /// <summary>Whether every pod owning this group may go to <paramref name="domain"/>.</summary>
    public bool OwnersReach(string domain)
    {
        foreach (var allowed in OwnerDomains)
        {
            if (!allowed.Has(domain))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Hostname groups: the count on each bin (node or planned NodeClaim), by bin id.</summary>
    public List<int> BinCounts { get; } = [];

    public int Total { get; set; }

    public string Describe() => (Inverse ? "inverse " : string.Empty) + Type switch
    {
        TopologyType.Spread => $"topology spread on {Key} (maxSkew {MaxSkew}, selector {Selector})",
        TopologyType.Affinity => $"pod affinity on {Key} (selector {Selector})",
        _ => $"pod anti-affinity on {Key} (selector {Selector})",
    };

    public bool Selects(string ns, IDictionary<string, string> labels) =>
        (Namespaces is null || Namespaces.Contains(ns)) && Selector.Matches(labels);

    public int BinCount(int bin) => bin < BinCounts.Count ? BinCounts[bin] : 0;

    public void AddBinCount(int bin, int delta)
    {
        while (BinCounts.Count <= bin)
        {
            BinCounts.Add(0);
        }

        BinCounts[bin] += delta;
        Total += delta;
    }

    public int Count(string domain) => Counts.TryGetValue(domain, out var c) ? c : 0;

    public void AddCount(string domain, int delta)
    {
        Counts[domain] = Count(domain) + delta;
        Total += delta;
    }
}
