namespace Karpenter.Kube.Queue;

/// <summary>Factory for the standard limiters.</summary>
public static class RateLimiters
{
    /// <summary>Per-item backoff starts here (client-go default).</summary>
    public static readonly TimeSpan DefaultBaseDelay = TimeSpan.FromMilliseconds(5);

    /// <summary>Per-item backoff never exceeds this (client-go default).</summary>
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(1000);

    /// <summary>Overall retries per second of the default bucket.</summary>
    public const double DefaultQps = 10;

    /// <summary>Burst of the default bucket.</summary>
    public const int DefaultBurst = 100;

    /// <summary>
    /// controller-runtime's default: exponential 5 ms..1000 s per item, MaxOf an overall 10/s burst-100 bucket.
    /// </summary>
    public static IRateLimiter<T> DefaultController<T>(TimeProvider time)
        where T : notnull =>
        new MaxOfRateLimiter<T>(
            new ItemExponentialFailureRateLimiter<T>(DefaultBaseDelay, DefaultMaxDelay),
            new BucketRateLimiter<T>(DefaultQps, DefaultBurst, time));

    /// <summary>A tuned variant (Karpenter tunes some controllers, e.g. 100 ms..10 s with a scaled bucket).</summary>
    public static IRateLimiter<T> Exponential<T>(TimeSpan baseDelay, TimeSpan maxDelay, double qps, int burst, TimeProvider time)
        where T : notnull =>
        new MaxOfRateLimiter<T>(
            new ItemExponentialFailureRateLimiter<T>(baseDelay, maxDelay),
            new BucketRateLimiter<T>(qps, burst, time));
}
