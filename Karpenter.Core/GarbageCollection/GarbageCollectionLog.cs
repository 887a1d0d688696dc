using Microsoft.Extensions.Logging;

namespace Karpenter.Core.GarbageCollection;

/// <summary>Log lines of garbage collection (EventIds 7200–7299).</summary>
internal static partial class GarbageCollectionLog
{
    [LoggerMessage(EventId = 7200, Level = LogLevel.Information, Message = "terminated instance {ProviderId} (launched for nodeclaim {NodeClaim}): no NodeClaim records it")]
    public static partial void InstanceCollected(this ILogger logger, string providerId, string? nodeClaim);

    [LoggerMessage(EventId = 7201, Level = LogLevel.Information, Message = "deleted nodeclaim {NodeClaim}: its instance {ProviderId} no longer exists")]
    public static partial void NodeClaimCollected(this ILogger logger, string nodeClaim, string providerId);
}
