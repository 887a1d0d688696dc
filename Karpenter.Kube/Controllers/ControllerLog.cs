using Microsoft.Extensions.Logging;

namespace Karpenter.Kube.Controllers;

internal static partial class ControllerLog
{
    [LoggerMessage(2001, LogLevel.Error, "Reconciler error")]
    public static partial void ReconcileFailed(this ILogger logger, Exception exception);

    [LoggerMessage(2002, LogLevel.Error, "Reconciler error; not retrying (terminal)")]
    public static partial void ReconcileTerminal(this ILogger logger, Exception exception);

    [LoggerMessage(2003, LogLevel.Debug, "Reconciled; requeue after {RequeueAfter}")]
    public static partial void ReconciledRequeueAfter(this ILogger logger, TimeSpan requeueAfter);

    [LoggerMessage(2004, LogLevel.Information, "Starting controller {Controller} with {Workers} workers")]
    public static partial void Starting(this ILogger logger, string controller, int workers);

    [LoggerMessage(2005, LogLevel.Information, "Controller {Controller} waiting for caches: {Caches}")]
    public static partial void WaitingForCaches(this ILogger logger, string controller, string caches);

    [LoggerMessage(2006, LogLevel.Information, "Stopped controller {Controller}")]
    public static partial void Stopped(this ILogger logger, string controller);

    [LoggerMessage(2007, LogLevel.Debug, "Reconcile skipped: {Key} is no longer in the cache")]
    public static partial void Gone(this ILogger logger, string key);

    [LoggerMessage(2008, LogLevel.Information, "Controllers waiting for leadership")]
    public static partial void WaitingForLeadership(this ILogger logger);
}
