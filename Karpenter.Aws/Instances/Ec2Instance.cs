using Amazon.EC2.Model;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Aws.Instances;

/// <summary>An EC2 instance as the provider sees it (upstream <c>instance.Instance</c>).</summary>
public sealed record Ec2Instance(
    string Id,
    string InstanceType,
    string Zone,
    string? ZoneId,
    string CapacityType,
    string State,
    string ImageId,
    string? SubnetId,
    IReadOnlyList<string> SecurityGroupIds,
    DateTimeOffset LaunchTime,
    IReadOnlyDictionary<string, string> Tags)
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string ShuttingDown = "shutting-down";
    public const string Terminated = "terminated";

    /// <summary><c>aws:///&lt;zone&gt;/&lt;instance-id&gt;</c>.</summary>
    public string ProviderId => $"aws:///{Zone}/{Id}";

    /// <summary>The instance id of a provider ID (<c>aws:///us-east-1a/i-0abc</c> → <c>i-0abc</c>), or null when it is not one.</summary>
    public static string? ParseProviderId(string? providerId)
    {
        if (providerId is null || !providerId.StartsWith("aws://", StringComparison.Ordinal))
        {
            return null;
        }
        var id = providerId[(providerId.LastIndexOf('/') + 1)..];
        return id.StartsWith("i-", StringComparison.Ordinal) ? id : null;
    }

    /// <summary>From DescribeInstances.</summary>
    public static Ec2Instance From(Instance i)
    {
        ArgumentNullException.ThrowIfNull(i);
        return new Ec2Instance(
            i.InstanceId,
            i.InstanceType?.Value ?? "",
            i.Placement?.AvailabilityZone ?? "",
            i.Placement?.AvailabilityZoneId,
            i.SpotInstanceRequestId is not null || i.InstanceLifecycle?.Value == "spot" ? CapacityTypes.Spot : CapacityTypes.OnDemand,
            i.State?.Name?.Value ?? "",
            i.ImageId ?? "",
            i.SubnetId,
            [.. (i.SecurityGroups ?? []).Select(g => g.GroupId).Order(StringComparer.Ordinal)],
            i.LaunchTime is { } launched ? new DateTimeOffset(DateTime.SpecifyKind(launched, DateTimeKind.Utc)) : DateTimeOffset.MinValue,
            (i.Tags ?? []).GroupBy(t => t.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal));
    }

    /// <summary>From the fleet that launched it: what the override and the request say (upstream <c>NewInstanceFromFleet</c>).</summary>
    public static Ec2Instance FromFleet(CreateFleetInstance fleet, IReadOnlyDictionary<string, string> tags, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        var overrides = fleet.LaunchTemplateAndOverrides?.Overrides;
        return new Ec2Instance(
            fleet.InstanceIds[0],
            fleet.InstanceType?.Value ?? overrides?.InstanceType?.Value ?? "",
            overrides?.AvailabilityZone ?? "",
            null,
            fleet.Lifecycle?.Value == "spot" ? CapacityTypes.Spot : CapacityTypes.OnDemand,
            Pending,
            overrides?.ImageId ?? "",
            overrides?.SubnetId,
            [],
            now,
            tags);
    }
}

/// <summary>A launch failed for a reason other than capacity (upstream <c>CreateError</c>): retryable, with a short reason.</summary>
public sealed class CreateInstanceException : Exception
{
    public CreateInstanceException(string reason, string message, Exception? inner = null)
        : base(message, inner) => Reason = reason;

    public CreateInstanceException()
        : this("LaunchFailed", "the launch failed")
    {
    }

    public CreateInstanceException(string message)
        : this("LaunchFailed", message)
    {
    }

    public CreateInstanceException(string message, Exception inner)
        : this("LaunchFailed", message, inner)
    {
    }

    /// <summary>A CamelCase reason such as <c>SubnetResolutionFailed</c> or <c>InvalidParameterValue</c>.</summary>
    public string Reason { get; }
}
