using Karpenter.Kube.Queue;
using Karpenter.Tests.Kube.Support;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Kube.Queue;

public sealed class RateLimitingQueueTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(1);
    private readonly FakeTimeProvider _time = new();
    private readonly RateLimitingQueue<string> _queue;

    public RateLimitingQueueTests()
    {
        _queue = new RateLimitingQueue<string>("test", RateLimiters.DefaultController<string>(_time), _time);
    }

    [Fact]
    public async Task Work_in_progress_is_reported_as_unfinished_and_longest_running_seconds_until_done()
    {
        using var meters = new TestMeterFactory();
        var queue = new RateLimitingQueue<string>("stuck", RateLimiters.DefaultController<string>(_time), _time, new WorkQueueMetrics(meters));
        using var unfinished = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<double>(meters, WorkQueueMetrics.MeterName, "workqueue_unfinished_work_seconds");
        using var longest = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<double>(meters, WorkQueueMetrics.MeterName, "workqueue_longest_running_processor_seconds");
        queue.Add("a");
        queue.Add("b");
        var a = (await queue.GetAsync(CancellationToken.None)).Item;
        _time.Advance(TimeSpan.FromSeconds(30));
        var b = (await queue.GetAsync(CancellationToken.None)).Item;
        _time.Advance(TimeSpan.FromSeconds(10));

        unfinished.RecordObservableInstruments();
        longest.RecordObservableInstruments();
        Assert.Equal(50, unfinished.LastMeasurement!.Value, 6);
        Assert.Equal(40, longest.LastMeasurement!.Value, 6);
        Assert.Equal("stuck", longest.LastMeasurement.Tags["name"]);

        queue.Done(a);
        queue.Done(b);
        unfinished.RecordObservableInstruments();
        Assert.Equal(0, unfinished.LastMeasurement!.Value);

        queue.ShutDown();
        unfinished.Clear();
        unfinished.RecordObservableInstruments();
        Assert.Empty(unfinished.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Adding_a_waiting_item_again_holds_it_once()
    {
        _queue.Add("a");
        _queue.Add("b");
        _queue.Add("a");

        Assert.Equal(2, _queue.Count);
        Assert.Equal("a", await ExpectItem());
        Assert.Equal("b", await ExpectItem());
        ExpectEmpty();
    }

    [Fact]
    public async Task An_item_is_never_handed_out_twice_at_once_and_adds_during_processing_run_once_more_after()
    {
        _queue.Add("a");
        var first = await ExpectItem();

        _queue.Add("a");
        _queue.Add("a");
        _queue.Add("a");

        // A second worker must not get "a" while the first still holds it.
        using var cts = new CancellationTokenSource();
        var second = _queue.GetAsync(cts.Token);
        Assert.False(second.IsCompleted);
        Assert.Equal(0, _queue.Count);

        _queue.Done(first);

        Assert.Equal("a", (await second).Item);
        _queue.Done("a");
        ExpectEmpty();
    }

    [Fact]
    public async Task Different_items_are_processed_in_parallel()
    {
        _queue.Add("a");
        _queue.Add("b");

        var a = await ExpectItem();
        var b = await ExpectItem();

        Assert.Equal(["a", "b"], new[] { a, b });
        Assert.Equal(2, _queue.ProcessingCount);
    }

    [Fact]
    public async Task AddAfter_releases_the_item_when_its_time_comes()
    {
        _queue.AddAfter("a", TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(10) - Step);
        ExpectEmpty();
        Assert.Equal(1, _queue.WaitingCount);

        _time.Advance(Step);
        Assert.Equal("a", await ExpectItem());
    }

    [Fact]
    public async Task AddAfter_keeps_the_earliest_time_when_added_again()
    {
        _queue.AddAfter("a", TimeSpan.FromSeconds(10));
        _queue.AddAfter("a", TimeSpan.FromSeconds(2));
        _queue.AddAfter("a", TimeSpan.FromSeconds(30));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("a", await ExpectItem());
        _queue.Done("a");

        // The superseded later times must not bring it back.
        _time.Advance(TimeSpan.FromSeconds(60));
        ExpectEmpty();
        Assert.Equal(0, _queue.WaitingCount);
    }

    [Fact]
    public async Task A_waiting_getter_is_woken_by_a_delayed_add()
    {
        var pending = _queue.GetAsync(CancellationToken.None);
        _queue.AddAfter("a", TimeSpan.FromSeconds(1));
        Assert.False(pending.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("a", (await pending.WaitAsync(TimeSpan.FromSeconds(5))).Item);
    }

    [Fact]
    public async Task Rate_limited_adds_back_off_exponentially_until_forgotten()
    {
        var delays = new List<TimeSpan>();
        for (var i = 0; i < 4; i++)
        {
            _queue.AddRateLimited("a");
            var waited = await AdvanceUntilItem("a");
            delays.Add(waited);
            _queue.Done("a");
            Assert.Equal(i + 1, _queue.NumRequeues("a"));
        }

        Assert.Equal([5, 10, 20, 40], delays.Select(d => d.TotalMilliseconds));

        _queue.Forget("a");
        _queue.AddRateLimited("a");
        Assert.Equal(TimeSpan.FromMilliseconds(5), await AdvanceUntilItem("a"));
    }

    [Fact]
    public async Task Shutdown_hands_out_what_is_queued_then_reports_shutdown_and_ignores_new_adds()
    {
        _queue.Add("a");
        var blocked = _queue.GetAsync(CancellationToken.None);
        Assert.Equal("a", (await blocked).Item);
        _queue.Add("b");
        var waiting = _queue.GetAsync(CancellationToken.None);
        Assert.Equal("b", (await waiting).Item);

        var parked = _queue.GetAsync(CancellationToken.None);
        Assert.False(parked.IsCompleted);
        _queue.Add("c");
        _queue.ShutDown();

        Assert.Equal("c", (await parked).Item);
        Assert.True((await _queue.GetAsync(CancellationToken.None)).Shutdown);
        _queue.Add("d");
        _queue.AddAfter("e", TimeSpan.FromSeconds(1));
        Assert.Equal(0, _queue.Count);
        Assert.True((await _queue.GetAsync(CancellationToken.None)).Shutdown);
    }

    [Fact]
    public async Task Shutdown_wakes_every_parked_getter()
    {
        var getters = Enumerable.Range(0, 3).Select(_ => _queue.GetAsync(CancellationToken.None)).ToArray();

        _queue.ShutDown();

        var results = await Task.WhenAll(getters).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.All(results, r => Assert.True(r.Shutdown));
    }

    [Fact]
    public async Task A_cancelled_getter_does_not_swallow_an_item()
    {
        using var cts = new CancellationTokenSource();
        var cancelled = _queue.GetAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        _queue.Add("a");

        Assert.Equal("a", await ExpectItem());
    }

    [Fact]
    public async Task Many_workers_never_process_one_key_concurrently_and_lose_no_add()
    {
        var queue = new RateLimitingQueue<int>("stress", RateLimiters.DefaultController<int>(_time), _time);
        var inFlight = new int[10];
        var overlaps = 0;
        var processedAfterLastAdd = new bool[10];
        using var done = new CancellationTokenSource();

        async Task Worker()
        {
            while (true)
            {
                var w = await queue.GetAsync(CancellationToken.None);
                if (w.Shutdown)
                {
                    return;
                }

                if (Interlocked.Increment(ref inFlight[w.Item]) > 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                Volatile.Write(ref processedAfterLastAdd[w.Item], true);
                await Task.Yield();
                Interlocked.Decrement(ref inFlight[w.Item]);
                queue.Done(w.Item);
            }
        }

        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(Worker)).ToArray();
        for (var round = 0; round < 2000; round++)
        {
            var key = round % 10;
            Volatile.Write(ref processedAfterLastAdd[key], false);
            queue.Add(key);
        }

        // Every key's last add must lead to one more processing run.
        await WaitUntil(() => processedAfterLastAdd.All(p => Volatile.Read(ref p)) && queue.Count == 0 && queue.ProcessingCount == 0);
        queue.ShutDown();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, overlaps);
    }

    private async Task<string> ExpectItem()
    {
        var get = _queue.GetAsync(CancellationToken.None);
        Assert.True(get.IsCompleted, "expected an item to be ready");
        var item = await get;
        Assert.False(item.Shutdown);
        return item.Item;
    }

    private void ExpectEmpty() => Assert.Equal(0, _queue.Count);

    private async Task<TimeSpan> AdvanceUntilItem(string expected)
    {
        var start = _time.GetUtcNow();
        for (var i = 0; i < 1_000_000 && _queue.Count == 0; i++)
        {
            _time.Advance(Step);
        }

        Assert.Equal(expected, await ExpectItem());
        return _time.GetUtcNow() - start;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(1, timeout.Token);
        }
    }
}
