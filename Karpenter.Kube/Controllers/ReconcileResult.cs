namespace Karpenter.Kube.Controllers;

/// <summary>
/// What a reconcile asks of the queue, as controller-runtime's <c>reconcile.Result</c>: nothing (done),
/// a requeue after a delay (<see cref="RequeueAfter"/>), or a rate-limited requeue without an error
/// (<see cref="Requeue"/>, e.g. after a 409 conflict). Throwing means a rate-limited retry.
/// </summary>
public readonly record struct ReconcileResult
{
    /// <summary>Converged; forget the key's backoff.</summary>
    public static ReconcileResult Done => default;

    /// <summary>Requeue with the key's backoff, without logging an error.</summary>
    public static ReconcileResult RequeueRateLimited => new() { Requeue = true };

    /// <summary>Requeue after <see cref="RequeueAfter"/> (the backoff is forgotten first).</summary>
    public TimeSpan? RequeueAfter { get; init; }

    /// <summary>Requeue with the key's backoff.</summary>
    public bool Requeue { get; init; }

    /// <summary>Requeue after <paramref name="delay"/>; zero or less means "done".</summary>
    public static ReconcileResult After(TimeSpan delay) => new() { RequeueAfter = delay };
}

/// <summary>
/// A failure retrying cannot fix (bad user input already reported, an impossible state): logged and counted, never
/// requeued (controller-runtime's <c>reconcile.TerminalError</c>). The key runs again on its next change.
/// </summary>
public sealed class TerminalReconcileException : Exception
{
    public TerminalReconcileException()
    {
    }

    public TerminalReconcileException(string message)
        : base(message)
    {
    }

    public TerminalReconcileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
