using Karpenter.Core.Provisioning;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Core.Provisioning;

public sealed class BatcherTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Without_a_trigger_the_wait_reports_no_batch_after_the_wake_up_timeout()
    {
        var time = new FakeTimeProvider();
        var batcher = new Batcher(Options.Create(new BatchingOptions()), time);

        var wait = batcher.WaitAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.False(await wait.WaitAsync(Safety));
    }

    [Fact]
    public async Task A_batch_ends_after_the_idle_duration_without_new_pods()
    {
        var time = new FakeTimeProvider();
        var batcher = new Batcher(Options.Create(new BatchingOptions { BatchIdleDuration = TimeSpan.FromSeconds(2) }), time);

        batcher.Trigger();
        var wait = batcher.WaitAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(await wait.WaitAsync(Safety));
    }

    [Fact]
    public async Task A_batch_never_outlasts_the_max_duration()
    {
        var time = new FakeTimeProvider();
        var batcher = new Batcher(Options.Create(new BatchingOptions { BatchIdleDuration = TimeSpan.FromSeconds(5), BatchMaxDuration = TimeSpan.FromSeconds(5) }), time);

        batcher.Trigger();
        var wait = batcher.WaitAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.True(await wait.WaitAsync(Safety));
    }

    [Theory]
    [InlineData(0, 10, "BATCH_IDLE_DURATION must be positive")]
    [InlineData(5, 2, "must not be shorter than BATCH_IDLE_DURATION")]
    public void Settings_that_cannot_batch_are_rejected_with_their_names(int idle, int max, string message)
    {
        var result = new BatchingOptionsValidator().Validate(null, new BatchingOptions { BatchIdleDuration = TimeSpan.FromSeconds(idle), BatchMaxDuration = TimeSpan.FromSeconds(max) });

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage);
    }
}
