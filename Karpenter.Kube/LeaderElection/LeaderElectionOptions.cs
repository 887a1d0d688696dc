using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Karpenter.Kube.LeaderElection;

/// <summary>Leader election on a <c>coordination.k8s.io/v1</c> Lease, with controller-runtime's timings by default.</summary>
public sealed class LeaderElectionOptions
{
    /// <summary>When false, this process always leads (a single replica).</summary>
    public bool Enabled { get; set; } = true;

    [Required]
    [RegularExpression("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    public string LeaseName { get; set; } = "karpenter-leader-election";

    /// <summary>The namespace of the Lease (the operator's own namespace).</summary>
    [Required]
    [RegularExpression("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    public string LeaseNamespace { get; set; } = "kube-system";

    /// <summary>This candidate's identity (unique per process: host name plus a random suffix by default).</summary>
    [Required]
    public string Identity { get; set; } = $"{Environment.MachineName}_{Guid.NewGuid():N}";

    /// <summary>How long a lease is valid after the holder last renewed it, as observed by the others.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The leader gives up (and the process stops) if it could not renew for this long.</summary>
    public TimeSpan RenewDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often candidates try to acquire and the leader renews.</summary>
    public TimeSpan RetryPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Release the lease on graceful shutdown so a successor takes over at once.</summary>
    public bool ReleaseOnCancel { get; set; } = true;
}

/// <summary>client-go's rules: LeaseDuration &gt; RenewDeadline &gt; 1.2 × RetryPeriod, all positive.</summary>
public sealed class LeaderElectionOptionsValidator : IValidateOptions<LeaderElectionOptions>
{
    public ValidateOptionsResult Validate(string? name, LeaderElectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.RetryPeriod <= TimeSpan.Zero)
        {
            errors.Add($"LeaderElection:RetryPeriod must be positive (got {options.RetryPeriod}).");
        }

        if (options.RenewDeadline <= options.RetryPeriod * LeaderElector.JitterFactor)
        {
            errors.Add($"LeaderElection:RenewDeadline ({options.RenewDeadline}) must be greater than {LeaderElector.JitterFactor} x RetryPeriod ({options.RetryPeriod}).");
        }

        if (options.LeaseDuration <= options.RenewDeadline)
        {
            errors.Add($"LeaderElection:LeaseDuration ({options.LeaseDuration}) must be greater than RenewDeadline ({options.RenewDeadline}).");
        }

        if (options.Identity.Length > 253)
        {
            errors.Add("LeaderElection:Identity must be at most 253 characters.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
