using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Lifecycle;

/// <summary>Log lines of the NodeClaim lifecycle controllers (EventIds 7000–7099).</summary>
internal static partial class LifecycleLog
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "launched nodeclaim {NodeClaim}: provider-id={ProviderId} instance-type={InstanceType} zone={Zone} capacity-type={CapacityType}")]
    public static partial void Launched(this ILogger logger, string nodeClaim, string? providerId, string? instanceType, string? zone, string? capacityType);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "adopted the machine {ProviderId} a previous operator launched for nodeclaim {NodeClaim} without recording it")]
    public static partial void Adopted(this ILogger logger, string nodeClaim, string? providerId);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "failed launching nodeclaim {NodeClaim}: {Reason}")]
    public static partial void LaunchFailed(this ILogger logger, string nodeClaim, string reason, Exception exception);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "deleting nodeclaim {NodeClaim}: {Reason}")]
    public static partial void Deleting(this ILogger logger, string nodeClaim, string reason);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "registered nodeclaim {NodeClaim} as node {Node}")]
    public static partial void Registered(this ILogger logger, string nodeClaim, string node);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Information, Message = "initialized nodeclaim {NodeClaim} (node {Node})")]
    public static partial void Initialized(this ILogger logger, string nodeClaim, string node);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Warning, Message = "node {Node} of nodeclaim {NodeClaim} lacks the karpenter.sh/unregistered taint; refusing to register it")]
    public static partial void UnregisteredTaintMissing(this ILogger logger, string nodeClaim, string node);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Information, Message = "deleted nodeclaim {NodeClaim} (instance {ProviderId} terminated)")]
    public static partial void Finalized(this ILogger logger, string nodeClaim, string? providerId);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Information, Message = "annotated nodeclaim {NodeClaim} with termination deadline {Deadline}")]
    public static partial void TerminationDeadline(this ILogger logger, string nodeClaim, string deadline);

    [LoggerMessage(EventId = 7009, Level = LogLevel.Information, Message = "nodeclaim {NodeClaim} drifted: {Reason}")]
    public static partial void Drifted(this ILogger logger, string nodeClaim, string reason);

    [LoggerMessage(EventId = 7010, Level = LogLevel.Warning, Message = "checking drift of nodeclaim {NodeClaim} failed")]
    public static partial void DriftCheckFailed(this ILogger logger, string nodeClaim, Exception exception);
}
