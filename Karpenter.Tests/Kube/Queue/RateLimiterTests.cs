using Karpenter.Kube.Queue;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Kube.Queue;

public sealed class RateLimiterTests
{
    [Fact]
    public void Exponential_backoff_doubles_from_5ms_per_item_and_caps_at_1000s()
    {
        var limiter = new ItemExponentialFailureRateLimiter<string>(RateLimiters.DefaultBaseDelay, RateLimiters.DefaultMaxDelay);

        var delays = Enumerable.Range(0, 5).Select(_ => limiter.NextDelay("a")).ToArray();

        Assert.Equal([5, 10, 20, 40, 80], delays.Select(d => d.TotalMilliseconds));
        Assert.Equal(5, limiter.NumRequeues("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.NextDelay("b"));

        for (var i = 0; i < 100; i++)
        {
            limiter.NextDelay("a");
        }

        Assert.Equal(TimeSpan.FromSeconds(1000), limiter.NextDelay("a"));
    }

    [Fact]
    public void Forget_restarts_the_backoff_of_that_item_only()
    {
        var limiter = new ItemExponentialFailureRateLimiter<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000));
        limiter.NextDelay("a");
        limiter.NextDelay("a");
        limiter.NextDelay("b");

        limiter.Forget("a");

        Assert.Equal(0, limiter.NumRequeues("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.NextDelay("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), limiter.NextDelay("b"));
    }

    [Fact]
    public void Token_bucket_allows_the_burst_then_spaces_retries_at_its_rate()
    {
        var time = new FakeTimeProvider();
        var bucket = new BucketRateLimiter<string>(10, 100, time);

        var burst = Enumerable.Range(0, 100).Select(i => bucket.NextDelay($"k{i}")).ToArray();

        Assert.All(burst, d => Assert.Equal(TimeSpan.Zero, d));
        Assert.Equal(TimeSpan.FromMilliseconds(100), bucket.NextDelay("x"));
        Assert.Equal(TimeSpan.FromMilliseconds(200), bucket.NextDelay("y"));
    }

    [Fact]
    public void Token_bucket_refills_as_the_clock_moves_but_never_above_its_burst()
    {
        var time = new FakeTimeProvider();
        var bucket = new BucketRateLimiter<int>(10, 100, time);
        for (var i = 0; i < 100; i++)
        {
            bucket.NextDelay(i);
        }

        time.Advance(TimeSpan.FromSeconds(1));
        var refilled = Enumerable.Range(0, 10).Select(bucket.NextDelay).ToArray();
        Assert.All(refilled, d => Assert.Equal(TimeSpan.Zero, d));
        Assert.Equal(TimeSpan.FromMilliseconds(100), bucket.NextDelay(11));

        time.Advance(TimeSpan.FromHours(1));
        var afterLongIdle = Enumerable.Range(0, 101).Select(bucket.NextDelay).ToArray();
        Assert.Equal(100, afterLongIdle.Count(d => d == TimeSpan.Zero));
    }

    [Fact]
    public void Default_controller_limiter_takes_the_longer_of_item_backoff_and_bucket()
    {
        var time = new FakeTimeProvider();
        var limiter = RateLimiters.DefaultController<string>(time);

        // Within the burst the per-item backoff decides.
        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.NextDelay("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), limiter.NextDelay("a"));

        // Once the bucket is empty it decides for fresh items.
        for (var i = 0; i < 98; i++)
        {
            limiter.NextDelay($"other{i}");
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), limiter.NextDelay("fresh"));

        limiter.Forget("a");
        Assert.Equal(0, limiter.NumRequeues("a"));
    }
}
