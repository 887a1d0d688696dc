using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Termination;

/// <summary>Log lines of node termination and eviction (EventIds 7100–7199).</summary>
internal static partial class TerminationLog
{
    [LoggerMessage(EventId = 7100, Level = LogLevel.Information, Message = "tainted node {Node} with karpenter.sh/disrupted:NoSchedule")]
    public static partial void Tainted(this ILogger logger, string node);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "the API server does not serve storage.k8s.io/v1 VolumeAttachments; node termination does not wait for volume detachment")]
    public static partial void VolumeAttachmentsUnserved(this ILogger logger);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "deleted pod {Namespace}/{Pod} with a grace period of {GracePeriodSeconds}s: its node's termination grace period is running out")]
    public static partial void PodDeletedForDeadline(this ILogger logger, string @namespace, string pod, long gracePeriodSeconds);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Information, Message = "evicted pod {Namespace}/{Pod} from node {Node}")]
    public static partial void Evicted(this ILogger logger, string @namespace, string pod, string node);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Information, Message = "evicting pod {Namespace}/{Pod} is refused by its PodDisruptionBudget; retrying with backoff")]
    public static partial void EvictionBlocked(this ILogger logger, string @namespace, string pod);

    [LoggerMessage(EventId = 7105, Level = LogLevel.Information, Message = "drained node {Node}")]
    public static partial void Drained(this ILogger logger, string node);

    [LoggerMessage(EventId = 7106, Level = LogLevel.Information, Message = "deleted node {Node} (instance {ProviderId} terminated)")]
    public static partial void NodeFinalized(this ILogger logger, string node, string? providerId);

    [LoggerMessage(EventId = 7107, Level = LogLevel.Warning, Message = "node {Node} has {Count} NodeClaims with its provider ID {ProviderId}; removing its finalizer without draining")]
    public static partial void NodeClaimMismatch(this ILogger logger, string node, int count, string? providerId);

    [LoggerMessage(EventId = 7108, Level = LogLevel.Information, Message = "the instance {ProviderId} of node {Node} is gone and the node is not ready; removing its finalizer")]
    public static partial void InstanceGone(this ILogger logger, string node, string? providerId);
}
