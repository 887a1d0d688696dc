namespace Karpenter.Kube.Queue;

/// <summary>
/// Decides how long an item waits before it is retried, as client-go's <c>workqueue.TypedRateLimiter</c> does.
/// Implementations are thread-safe.
/// </summary>
/// <typeparam name="T">The item (usually an <c>ObjectKey</c>).</typeparam>
public interface IRateLimiter<in T>
{
    /// <summary>Records one more failure of <paramref name="item"/> and returns how long it must wait.</summary>
    TimeSpan NextDelay(T item);

    /// <summary>Forgets <paramref name="item"/>'s failures (its backoff starts over).</summary>
    void Forget(T item);

    /// <summary>How many times <paramref name="item"/> has been retried since it was last forgotten.</summary>
    int NumRequeues(T item);
}
