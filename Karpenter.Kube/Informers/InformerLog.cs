using Microsoft.Extensions.Logging;

namespace Karpenter.Kube.Informers;

internal static partial class InformerLog
{
    [LoggerMessage(1001, LogLevel.Debug, "Informer {Informer} listed {Count} objects at resourceVersion {ResourceVersion}")]
    public static partial void Listed(this ILogger logger, string informer, int count, string? resourceVersion);

    [LoggerMessage(1002, LogLevel.Information, "Informer {Informer} synced with {Count} objects")]
    public static partial void Synced(this ILogger logger, string informer, int count);

    [LoggerMessage(1003, LogLevel.Information, "Informer {Informer}: resourceVersion {ResourceVersion} expired ({Message}); re-listing")]
    public static partial void Expired(this ILogger logger, string informer, string? resourceVersion, string message);

    [LoggerMessage(1004, LogLevel.Warning, "Informer {Informer}: watch error {Code} {Reason}: {Message}; watching again")]
    public static partial void WatchError(this ILogger logger, string informer, int code, string? reason, string? message);

    [LoggerMessage(1005, LogLevel.Warning, "Informer {Informer}: list or watch failed; retrying in {Delay}")]
    public static partial void Failed(this ILogger logger, Exception exception, string informer, TimeSpan delay);

    [LoggerMessage(1006, LogLevel.Warning, "Informer {Informer}: watch silent for {Timeout}; replacing it")]
    public static partial void WatchdogFired(this ILogger logger, string informer, TimeSpan timeout);

    [LoggerMessage(1007, LogLevel.Error, "Informer {Informer}: an event handler threw")]
    public static partial void HandlerFailed(this ILogger logger, Exception exception, string informer);

    [LoggerMessage(1008, LogLevel.Debug, "Informer {Informer}: re-list removed {Count} objects the watch had missed")]
    public static partial void SyntheticDeletes(this ILogger logger, string informer, int count);
}
