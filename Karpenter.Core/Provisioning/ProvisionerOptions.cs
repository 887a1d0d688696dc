using Karpenter.Core.Scheduling;
using Microsoft.Extensions.Options;

namespace Karpenter.Core.Provisioning;

/// <summary>
/// The provisioner's settings beyond batching, with upstream's names: <c>PREFERENCE_POLICY</c>,
/// <c>MIN_VALUES_POLICY</c>, <c>IGNORE_DRA_REQUESTS</c>.
/// </summary>
public sealed class ProvisionerOptions
{
    /// <summary><c>PREFERENCE_POLICY</c>: honour preferred affinities and ScheduleAnyway spreads first (Respect) or ignore them.</summary>
    public PreferencePolicy PreferencePolicy { get; set; } = PreferencePolicy.Respect;

    /// <summary><c>MIN_VALUES_POLICY</c>: fail a NodeClaim that cannot meet minValues (Strict) or relax it (BestEffort).</summary>
    public MinValuesPolicy MinValuesPolicy { get; set; } = MinValuesPolicy.Strict;

    /// <summary><c>IGNORE_DRA_REQUESTS</c>: pods with dynamic resource claims are left to another autoscaler (upstream's default).</summary>
    public bool IgnoreDraRequests { get; set; } = true;

    /// <summary>A scheduling simulation stops after this long and its partial result is used (upstream: 1 minute).</summary>
    public TimeSpan SolveTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>At most this many NodeClaims are created at once (the rest queue behind them).</summary>
    public int MaxParallelCreates { get; set; } = 64;
}

/// <summary>Rejects provisioner settings that cannot work, naming the setting.</summary>
public sealed class ProvisionerOptionsValidator : IValidateOptions<ProvisionerOptions>
{
    public ValidateOptionsResult Validate(string? name, ProvisionerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Enum.IsDefined(options.PreferencePolicy))
        {
            failures.Add($"PREFERENCE_POLICY must be Respect or Ignore, got {options.PreferencePolicy}");
        }

        if (!Enum.IsDefined(options.MinValuesPolicy))
        {
            failures.Add($"MIN_VALUES_POLICY must be Strict or BestEffort, got {options.MinValuesPolicy}");
        }

        if (options.SolveTimeout <= TimeSpan.Zero)
        {
            failures.Add($"the scheduling solve timeout must be positive, got {options.SolveTimeout}");
        }

        if (options.MaxParallelCreates < 1)
        {
            failures.Add($"MaxParallelCreates must be at least 1, got {options.MaxParallelCreates}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
