using System.Globalization;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;

namespace Karpenter.Core.Disruption;

/// <summary>What a command does to its candidates.</summary>
public enum DisruptionDecision
{
    Delete,
    Replace,
}

/// <summary>Upstream's method names (the <c>consolidation_type</c> and method labels of the disruption metrics).</summary>
public static class DisruptionMethods
{
    public const string Emptiness = "emptiness";
    public const string Drift = "drift";
    public const string MultiNodeConsolidation = "multi";
    public const string SingleNodeConsolidation = "single";
}

/// <summary>One disruption decision: delete the candidates, or replace them by new NodeClaims launched first.</summary>
public sealed class Command
{
    /// <summary>Which method decided it (<see cref="DisruptionMethods"/>).</summary>
    public required string Method { get; init; }

    public required DisruptionReason Reason { get; init; }

    public required IReadOnlyList<Candidate> Candidates { get; init; }

    /// <summary>NodeClaims to launch and wait for before the candidates go (empty for a delete).</summary>
    public IReadOnlyList<PlannedNodeClaim> Replacements { get; init; } = [];

    /// <summary>The scheduling simulation that validated it (where the pods would go), when one was run.</summary>
    public SchedulingResult? Simulation { get; init; }

    public DisruptionDecision Decision => Replacements.Count == 0 ? DisruptionDecision.Delete : DisruptionDecision.Replace;

    /// <summary>Hourly price of the candidates.</summary>
    public decimal PriceBefore => Candidates.Sum(c => c.Price);

    /// <summary>Hourly price of the replacements (their cheapest launch option).</summary>
    public decimal PriceAfter => Replacements.Sum(r => r.Price);

    public decimal Savings => PriceBefore - PriceAfter;

    /// <summary>Pods that move.</summary>
    public int PodsMoved => Candidates.Sum(c => c.ReschedulablePods.Count);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Method}/{Reason}: {Decision} {Candidates.Count} node(s) [{string.Join(", ", Candidates.Select(c => c.NodeName))}]" +
            $"{(Replacements.Count == 0 ? string.Empty : $" with {Replacements.Count} replacement(s) [{string.Join(", ", Replacements.Select(r => r.InstanceTypes.Count == 0 ? "?" : r.InstanceTypes[0].Name))}]")}" +
            $", {PriceBefore:0.####}/h -> {PriceAfter:0.####}/h");
}
