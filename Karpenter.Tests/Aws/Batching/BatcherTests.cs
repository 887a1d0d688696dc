using Karpenter.Aws.Batching;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Aws.Batching;

/// <summary>The request batcher: alike requests within the idle window share one call; windows run on the clock.</summary>
public sealed class BatcherTests
{
    private sealed class Recorder
    {
        public List<IReadOnlyList<int>> Calls { get; } = [];

        public Task<IReadOnlyList<BatchResult<string>>> ExecuteAsync(IReadOnlyList<int> inputs, CancellationToken cancellationToken)
        {
            lock (Calls)
            {
                Calls.Add(inputs);
            }
            return Task.FromResult<IReadOnlyList<BatchResult<string>>>([.. inputs.Select(i => i < 0
                ? BatchResult.Failed<string>(new InvalidOperationException($"bad {i}"))
                : BatchResult.Ok($"out-{i}"))]);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 2000 && !condition(); i++)
        {
            await Task.Delay(1);
        }
        Assert.True(condition());
    }

    [Fact]
    public async Task Requests_with_the_same_key_within_the_idle_window_share_one_call_and_get_their_own_results()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder();
        using var batcher = new Batcher<int, string>(BatchWindow.CreateFleet, i => "same", recorder.ExecuteAsync, time);

        var first = batcher.AddAsync(1, default);
        time.Advance(TimeSpan.FromMilliseconds(20));
        var second = batcher.AddAsync(2, default);
        var failing = batcher.AddAsync(-3, default);
        Assert.Empty(recorder.Calls);

        time.Advance(TimeSpan.FromMilliseconds(35));

        Assert.Equal("out-1", await first);
        Assert.Equal("out-2", await second);
        Assert.Equal("bad -3", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing)).Message);
        Assert.Equal([1, 2, -3], Assert.Single(recorder.Calls));
        Assert.Equal(1, batcher.Executions);
    }

    [Fact]
    public async Task Different_keys_are_separate_calls_and_a_steady_stream_closes_at_the_maximum_window()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder();
        using var batcher = new Batcher<int, string>(BatchWindow.CreateFleet, i => (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
            recorder.ExecuteAsync, time);

        var even = batcher.AddAsync(2, default);
        var odd = batcher.AddAsync(1, default);
        time.Advance(TimeSpan.FromMilliseconds(35));
        await Task.WhenAll(even, odd);
        Assert.Equal(2, recorder.Calls.Count);

        // One request every 30 ms never leaves the window idle: the batch closes 1 s after its first request all the same.
        var stream = new List<Task<string>>();
        for (var i = 0; i < 34; i++)
        {
            stream.Add(batcher.AddAsync(10 + (2 * i), default));
            time.Advance(TimeSpan.FromMilliseconds(30));
        }
        await WaitUntilAsync(() => recorder.Calls.Count == 3);
        await Task.WhenAll(stream);
        Assert.Equal(34, recorder.Calls[2].Count);

        // The next request opens a new batch.
        var late = batcher.AddAsync(100, default);
        await Task.Delay(20);
        Assert.False(late.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(35));
        Assert.Equal("out-100", await late);
        Assert.Equal([100], recorder.Calls[3]);
    }
}
