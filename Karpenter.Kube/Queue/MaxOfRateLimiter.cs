namespace Karpenter.Kube.Queue;

/// <summary>
/// Asks every limiter and waits for the longest answer (client-go's <c>MaxOfRateLimiter</c>); forgetting forgets
/// in all of them and the requeue count is the largest any of them reports.
/// </summary>
public sealed class MaxOfRateLimiter<T> : IRateLimiter<T>
{
    private readonly IRateLimiter<T>[] _limiters;

    public MaxOfRateLimiter(params IRateLimiter<T>[] limiters)
    {
        ArgumentNullException.ThrowIfNull(limiters);
        if (limiters.Length == 0)
        {
            throw new ArgumentException("At least one rate limiter is required.", nameof(limiters));
        }

        _limiters = limiters;
    }

    public TimeSpan NextDelay(T item)
    {
        var max = TimeSpan.Zero;
        foreach (var limiter in _limiters)
        {
            var when = limiter.NextDelay(item);
            if (when > max)
            {
                max = when;
            }
        }

        return max;
    }

    public void Forget(T item)
    {
        foreach (var limiter in _limiters)
        {
            limiter.Forget(item);
        }
    }

    public int NumRequeues(T item) => _limiters.Max(l => l.NumRequeues(item));
}
