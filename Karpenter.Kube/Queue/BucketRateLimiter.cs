namespace Karpenter.Kube.Queue;

/// <summary>
/// An overall token bucket (client-go's <c>TypedBucketRateLimiter</c> over <c>rate.NewLimiter(qps, burst)</c>):
/// every <see cref="NextDelay"/> reserves one token and returns how long the caller must wait for it. It limits the
/// overall retry rate, not any one item, so <see cref="Forget"/> does nothing and <see cref="NumRequeues"/> is 0.
/// </summary>
public sealed class BucketRateLimiter<T> : IRateLimiter<T>
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private double _tokens;
    private DateTimeOffset _last;

    public BucketRateLimiter(double ratePerSecond, int burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ratePerSecond, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentNullException.ThrowIfNull(time);
        RatePerSecond = ratePerSecond;
        Burst = burst;
        _time = time;
        _tokens = burst;
        _last = time.GetUtcNow();
    }

    public double RatePerSecond { get; }

    public int Burst { get; }

    public TimeSpan NextDelay(T item)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (now > _last)
            {
                _tokens = Math.Min(Burst, _tokens + ((now - _last).TotalSeconds * RatePerSecond));
                _last = now;
            }

            _tokens -= 1;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / RatePerSecond);
        }
    }

    public void Forget(T item)
    {
    }

    public int NumRequeues(T item) => 0;
}
