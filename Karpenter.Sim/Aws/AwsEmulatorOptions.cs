using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.Aws;

/// <summary>How the AWS emulator is set up. Every default gives a usable world; <see cref="Validate"/> runs at start-up.</summary>
public sealed partial class AwsEmulatorOptions
{
    /// <summary>The one emulated region. Its three zones are <c>&lt;region&gt;a</c>, <c>b</c> and <c>c</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>The loopback port to listen on; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>The clock instances boot, terminate and get interrupted on (the simulator passes an accelerated one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public string AccountId { get; set; } = "123456789012";

    /// <summary>The cluster the seeded subnets and security groups are tagged for (<c>karpenter.sh/discovery</c>).</summary>
    public string ClusterName { get; set; } = "karpenter-sim";

    /// <summary>A full catalog file (<c>{"instance_types":[…]}</c>) to use instead of the embedded catalog.</summary>
    public string? InstanceTypeCatalogPath { get; set; }

    /// <summary>Zones, VPC, subnets, security groups and instance profiles to start with (null: the built-in account).</summary>
    public AwsNetworkLayout? Network { get; set; }

    /// <summary>Kubernetes minor versions for which EKS-optimized AMIs and their SSM parameters exist.</summary>
    public IList<string> KubernetesVersions { get; } = ["1.31", "1.32", "1.33", "1.34"];

    /// <summary>How long an instance stays pending before it is running.</summary>
    public TimeSpan InstanceBootTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an instance stays shutting-down before it is terminated.</summary>
    public TimeSpan InstanceShutdownTime { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long terminated instances stay visible in DescribeInstances (about an hour on EC2).</summary>
    public TimeSpan TerminatedInstanceRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The notice a spot interruption gives before the instance is reclaimed (two minutes on EC2).</summary>
    public TimeSpan SpotInterruptionNotice { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Whether every instance state change sends an "EC2 Instance State-change Notification" to the event queues.</summary>
    public bool EmitStateChangeNotifications { get; set; } = true;

    /// <summary>Seeds the identifiers and the random draws of fractional faults, so runs repeat.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>The access key the emulator prints for clients; any signed request is accepted.</summary>
    public string AccessKeyId { get; set; } = "test";

    public string SecretAccessKey { get; set; } = "test";

    /// <summary>Logging for the emulator's HTTP host; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    public void Validate()
    {
        var errors = new List<string>();
        if (!RegionPattern().IsMatch(Region))
        {
            errors.Add($"Region '{Region}' is not an AWS region name such as us-east-1.");
        }

        if (Port is < 0 or > 65535)
        {
            errors.Add($"Port {Port} is outside 0-65535.");
        }

        if (!AccountPattern().IsMatch(AccountId))
        {
            errors.Add($"AccountId '{AccountId}' must be 12 digits.");
        }

        if (string.IsNullOrWhiteSpace(ClusterName))
        {
            errors.Add("ClusterName must not be empty.");
        }

        if (InstanceTypeCatalogPath is { } path && !File.Exists(path))
        {
            errors.Add($"InstanceTypeCatalogPath '{path}' does not exist.");
        }

        if (KubernetesVersions.Count == 0 || KubernetesVersions.Any(v => !VersionPattern().IsMatch(v)))
        {
            errors.Add($"KubernetesVersions must be minor versions such as 1.33; got [{string.Join(", ", KubernetesVersions)}].");
        }

        foreach (var (name, value) in new[]
                 {
                     ("InstanceBootTime", InstanceBootTime), ("InstanceShutdownTime", InstanceShutdownTime),
                     ("TerminatedInstanceRetention", TerminatedInstanceRetention), ("SpotInterruptionNotice", SpotInterruptionNotice),
                 })
        {
            if (value < TimeSpan.Zero)
            {
                errors.Add($"{name} must not be negative.");
            }
        }

        if (string.IsNullOrEmpty(AccessKeyId) || string.IsNullOrEmpty(SecretAccessKey))
        {
            errors.Add("AccessKeyId and SecretAccessKey must not be empty.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid AWS emulator options: " + string.Join(" ", errors));
        }
    }

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^[0-9]{12}$")]
    private static partial Regex AccountPattern();

    [GeneratedRegex("^1\\.[0-9]{2}$")]
    private static partial Regex VersionPattern();
}
