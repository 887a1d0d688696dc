using Microsoft.Extensions.Options;

namespace Karpenter.Core.Provisioning;

/// <summary>
/// The provisioner's settings beyond batching (<see cref="BatchingOptions"/>) and the policies shared with disruption
/// (<see cref="KarpenterOptions"/>: <c>PREFERENCE_POLICY</c>, <c>MIN_VALUES_POLICY</c>).
/// </summary>
public sealed class ProvisionerOptions
{
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
