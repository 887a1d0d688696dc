using Microsoft.Extensions.Options;

namespace Karpenter.Core.Disruption;

/// <summary>How multi-node consolidation searches for the set of nodes to consolidate.</summary>
public enum MultiNodeSearch
{
    /// <summary>Upstream: the largest consolidatable prefix of the first 100 candidates, by binary search.</summary>
    PrefixBinarySearch,

    /// <summary>
    /// Ours: a packing model chooses which candidates to delete among all of them (<see cref="PackingSearch"/>), the real
    /// scheduler verifies the set; upstream's search only when the model finds nothing to delete.
    /// </summary>
    Packing,
}

/// <summary>Disruption settings (upstream's constants; <c>FEATURE_GATES=SpotToSpotConsolidation</c>).</summary>
public sealed class DisruptionOptions
{
    /// <summary>How often the disruption loop runs when nothing triggers it (upstream: 10 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a consolidation command waits before it is re-validated and executed (upstream: 15 s).</summary>
    public TimeSpan ValidationDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Multi-node consolidation stops searching after this long and keeps its best command (upstream: 1 min).</summary>
    public TimeSpan MultiNodeTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Single-node consolidation gives up after this long (upstream: 3 min).</summary>
    public TimeSpan SingleNodeTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>A replacement not initialized within this long aborts its command (upstream's queue timeout floor: 10 min).</summary>
    public TimeSpan ReplacementTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Allows replacing spot nodes with cheaper spot nodes (upstream's alpha gate, off by default).</summary>
    public bool SpotToSpotConsolidation { get; set; }

    /// <summary>Single-node spot-to-spot needs at least this many cheaper spot types and sends only that many (upstream: 15).</summary>
    public int MinInstanceTypesForSpotToSpot { get; set; } = 15;

    public MultiNodeSearch MultiNodeSearch { get; set; } = MultiNodeSearch.Packing;

    /// <summary>
    /// Multi-node consolidation's deterministic work budget: at most this many scheduling simulations per pass (the
    /// timeout is only a safety net, so that a decision does not depend on machine load).
    /// </summary>
    public int MultiNodeMaxSimulations { get; set; } = 24;

    /// <summary>The <c>Balanced</c> policy approves a move when its savings share is at least 1/k of its disruption share (upstream: k = 2).</summary>
    public double BalancedK { get; set; } = 2.0;
}

/// <summary>Refuses settings that would stop the loop or make every decision immediate.</summary>
public sealed class DisruptionOptionsValidator : IValidateOptions<DisruptionOptions>
{
    public ValidateOptionsResult Validate(string? name, DisruptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        Positive(options.PollInterval, "PollInterval", failures);
        Positive(options.MultiNodeTimeout, "MultiNodeTimeout", failures);
        Positive(options.SingleNodeTimeout, "SingleNodeTimeout", failures);
        Positive(options.ReplacementTimeout, "ReplacementTimeout", failures);
        if (options.ValidationDelay < TimeSpan.Zero)
        {
            failures.Add($"disruption ValidationDelay must not be negative, got {options.ValidationDelay}");
        }

        if (options.MinInstanceTypesForSpotToSpot < 1)
        {
            failures.Add($"disruption MinInstanceTypesForSpotToSpot must be at least 1, got {options.MinInstanceTypesForSpotToSpot}");
        }

        if (options.MultiNodeMaxSimulations < 1)
        {
            failures.Add($"disruption MultiNodeMaxSimulations must be at least 1, got {options.MultiNodeMaxSimulations}");
        }

        if (!(options.BalancedK > 0))
        {
            failures.Add($"disruption BalancedK must be positive, got {options.BalancedK}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(TimeSpan value, string name, List<string> failures)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"disruption {name} must be positive, got {value}");
        }
    }
}
