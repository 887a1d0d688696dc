using System.Diagnostics;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Queue;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Kube.Controllers;

/// <summary>The result mapping of controller-runtime's reconcileHandler, one outcome per test.</summary>
public sealed class ControllerTests : IDisposable
{
    private static readonly ObjectKey Key = new("ns", "a");
    private readonly FakeTimeProvider _time = new();
    private readonly ActivitySource _activities = new("test");
    private Func<ObjectKey, CancellationToken, Task<ReconcileResult>> _reconcile = (_, _) => Task.FromResult(ReconcileResult.Done);
    private readonly Controller _controller;

    public ControllerTests()
    {
        _controller = new Controller("test", (k, ct) => _reconcile(k, ct), 1, RateLimiters.DefaultController<ObjectKey>(_time), _time, NullLogger.Instance, _activities);
    }

    [Fact]
    public async Task An_exception_requeues_rate_limited_and_the_backoff_grows()
    {
        _reconcile = (_, _) => throw new InvalidOperationException("cloud said no");

        await ExpectReconciled();
        Assert.Equal(1, _controller.Queue.NumRequeues(Key));
        Assert.Equal(1, _controller.Queue.WaitingCount);

        _time.Advance(TimeSpan.FromMilliseconds(5));
        await ExpectReconciled();
        Assert.Equal(2, _controller.Queue.NumRequeues(Key));
        _time.Advance(TimeSpan.FromMilliseconds(9));
        Assert.Equal(0, _controller.Queue.Count);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, _controller.Queue.Count);
    }

    [Fact]
    public async Task RequeueAfter_forgets_the_backoff_then_adds_after_the_delay()
    {
        _reconcile = (_, _) => throw new InvalidOperationException();
        await ExpectReconciled();
        _time.Advance(TimeSpan.FromMilliseconds(5));
        _reconcile = (_, _) => Task.FromResult(ReconcileResult.After(TimeSpan.FromMinutes(1)));

        await ExpectReconciled();

        Assert.Equal(0, _controller.Queue.NumRequeues(Key));
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, _controller.Queue.Count);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _controller.Queue.Count);
    }

    [Fact]
    public async Task Success_forgets_the_backoff_and_does_not_requeue()
    {
        _reconcile = (_, _) => throw new InvalidOperationException();
        await ExpectReconciled();
        _time.Advance(TimeSpan.FromMilliseconds(5));
        _reconcile = (_, _) => Task.FromResult(ReconcileResult.Done);

        await ExpectReconciled();

        Assert.Equal(0, _controller.Queue.NumRequeues(Key));
        Assert.Equal(0, _controller.Queue.WaitingCount);
        Assert.Equal(0, _controller.Queue.Count);
    }

    [Fact]
    public async Task Requeue_without_error_is_rate_limited()
    {
        _reconcile = (_, _) => Task.FromResult(ReconcileResult.RequeueRateLimited);

        await ExpectReconciled();

        Assert.Equal(1, _controller.Queue.NumRequeues(Key));
        Assert.Equal(1, _controller.Queue.WaitingCount);
    }

    [Fact]
    public async Task A_terminal_error_is_not_retried()
    {
        _reconcile = (_, _) => throw new TerminalReconcileException("spec is invalid");

        await ExpectReconciled();

        Assert.Equal(0, _controller.Queue.WaitingCount);
        Assert.Equal(0, _controller.Queue.Count);
    }

    [Fact]
    public async Task Done_is_called_even_when_the_reconciler_throws_so_the_key_can_run_again()
    {
        _reconcile = (_, _) => throw new InvalidOperationException();
        await ExpectReconciled();

        Assert.Equal(0, _controller.Queue.ProcessingCount);
        _controller.Enqueue(Key);
        Assert.Equal(1, _controller.Queue.Count);
    }

    [Fact]
    public async Task Workers_reconcile_different_keys_in_parallel_but_one_key_never_twice_at_once()
    {
        var running = new Dictionary<ObjectKey, int>();
        var maxPerKey = 0;
        var maxTotal = 0;
        var runs = 0;

        async Task<ReconcileResult> ReconcileSlowly(ObjectKey key, CancellationToken ct)
        {
            lock (running)
            {
                running[key] = running.GetValueOrDefault(key) + 1;
                maxPerKey = Math.Max(maxPerKey, running[key]);
                maxTotal = Math.Max(maxTotal, running.Values.Sum());
            }

            await Task.Delay(5, ct);
            lock (running)
            {
                running[key]--;
                runs++;
            }

            return ReconcileResult.Done;
        }

        var controller = new Controller("parallel", ReconcileSlowly, 4, RateLimiters.DefaultController<ObjectKey>(_time), _time, NullLogger.Instance, _activities);
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);
        for (var i = 0; i < 200; i++)
        {
            controller.Enqueue(new ObjectKey("ns", $"k{i % 8}"));
            if (i % 16 == 0)
            {
                await Task.Delay(1);
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (controller.Queue.Count > 0 || controller.Queue.ProcessingCount > 0)
        {
            await Task.Delay(5, timeout.Token);
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, maxPerKey);
        Assert.True(maxTotal > 1, "four workers should overlap on different keys");
        Assert.True(runs >= 8);
    }

    public void Dispose() => _activities.Dispose();

    private async Task ExpectReconciled()
    {
        if (_controller.Queue.Count == 0)
        {
            _controller.Enqueue(Key);
        }

        Assert.True(await _controller.ProcessNextAsync(CancellationToken.None));
        Assert.Equal(0, _controller.Queue.ProcessingCount);
    }
}
