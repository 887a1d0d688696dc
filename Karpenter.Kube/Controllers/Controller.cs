using System.Diagnostics;
using Karpenter.Kube.Client;
using Karpenter.Kube.Queue;
using Microsoft.Extensions.Logging;

namespace Karpenter.Kube.Controllers;

/// <summary>
/// One controller at run time: its work queue and workers, with controller-runtime's result mapping
/// (<c>pkg/internal/controller/controller.go</c> <c>reconcileHandler</c>):
/// exception → <c>AddRateLimited</c>; <see cref="TerminalReconcileException"/> → no requeue;
/// <see cref="ReconcileResult.Requeue"/> → <c>AddRateLimited</c>; <see cref="ReconcileResult.RequeueAfter"/> →
/// <c>Forget</c> then <c>AddAfter</c>; success → <c>Forget</c>; <c>Done</c> always, in <c>finally</c>.
/// Each reconcile runs in one logging scope and one <see cref="Activity"/>.
/// </summary>
public sealed class Controller
{
    private readonly Func<ObjectKey, CancellationToken, Task<ReconcileResult>> _reconcile;
    private readonly ILogger _logger;
    private readonly ControllerMetrics? _metrics;
    private readonly ActivitySource _activities;
    private readonly TimeProvider _time;

    public Controller(
        string name,
        Func<ObjectKey, CancellationToken, Task<ReconcileResult>> reconcile,
        int workers,
        IRateLimiter<ObjectKey> rateLimiter,
        TimeProvider time,
        ILogger logger,
        ActivitySource activities,
        ControllerMetrics? metrics = null,
        WorkQueueMetrics? queueMetrics = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(reconcile);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(activities);
        Name = name;
        Workers = workers;
        _reconcile = reconcile;
        _time = time;
        _logger = logger;
        _activities = activities;
        _metrics = metrics;
        Queue = new RateLimitingQueue<ObjectKey>(name, rateLimiter, time, queueMetrics);
    }

    /// <summary>The controller's name (<c>nodeclaim.lifecycle</c>), its logs' <c>controller</c> and its metrics' label.</summary>
    public string Name { get; }

    public int Workers { get; }

    /// <summary>The queue every trigger of this controller goes through.</summary>
    public RateLimitingQueue<ObjectKey> Queue { get; }

    /// <summary>Triggers a reconcile of <paramref name="key"/>.</summary>
    public void Enqueue(ObjectKey key) => Queue.Add(key);

    /// <summary>Triggers a reconcile of <paramref name="key"/> after <paramref name="delay"/> (earliest wins).</summary>
    public void EnqueueAfter(ObjectKey key, TimeSpan delay) => Queue.AddAfter(key, delay);

    /// <summary>
    /// Runs the workers until <paramref name="cancellationToken"/> is cancelled, then shuts the queue down and waits for
    /// the reconciles in flight (which see the same token cancelled).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _logger.Starting(Name, Workers);
        _metrics?.MaxConcurrent.Add(Workers, ControllerMetrics.Tags(Name));
        using var registration = cancellationToken.Register(static q => ((RateLimitingQueue<ObjectKey>)q!).ShutDown(), Queue);
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkerAsync(cancellationToken), CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(workers);
        }
        finally
        {
            _metrics?.MaxConcurrent.Add(-Workers, ControllerMetrics.Tags(Name));
            _logger.Stopped(Name);
        }
    }

    /// <summary>Takes one key, reconciles it and maps the result; false once the queue has shut down.</summary>
    internal async Task<bool> ProcessNextAsync(CancellationToken cancellationToken)
    {
        var work = await Queue.GetAsync(cancellationToken);
        if (work.Shutdown)
        {
            return false;
        }

        _metrics?.ActiveWorkers.Add(1, ControllerMetrics.Tags(Name));
        try
        {
            await ReconcileHandlerAsync(work.Item, cancellationToken);
        }
        finally
        {
            Queue.Done(work.Item);
            _metrics?.ActiveWorkers.Add(-1, ControllerMetrics.Tags(Name));
        }

        return true;
    }

    private async Task WorkerAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await ProcessNextAsync(cancellationToken))
            {
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReconcileHandlerAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var reconcileId = Guid.NewGuid().ToString("N");
        using var scope = _logger.BeginScope(new ReconcileScope(Name, key, reconcileId));
        using var activity = _activities.StartActivity($"{Name} reconcile", ActivityKind.Internal);
        activity?.SetTag("controller", Name);
        activity?.SetTag("k8s.object.key", key.ToString());
        activity?.SetTag("reconcile.id", reconcileId);
        var started = _time.GetTimestamp();
        ReconcileContext.Enter(Name);
        string outcome;
        try
        {
            var result = await _reconcile(key, cancellationToken);
            if (result.Requeue)
            {
                outcome = "requeue";
                Queue.AddRateLimited(key);
            }
            else if (result.RequeueAfter is { } after && after > TimeSpan.Zero)
            {
                outcome = "requeue_after";
                Queue.Forget(key);
                Queue.AddAfter(key, after);
                _logger.ReconciledRequeueAfter(after);
            }
            else
            {
                outcome = "success";
                Queue.Forget(key);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the key is not lost, the process is ending (a successor re-lists everything).
            return;
        }
        catch (TerminalReconcileException e)
        {
            outcome = "error";
            _metrics?.TerminalErrors.Add(1, ControllerMetrics.Tags(Name));
            _metrics?.Errors.Add(1, ControllerMetrics.Tags(Name));
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            _logger.ReconcileTerminal(e);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            outcome = "error";
            _metrics?.Errors.Add(1, ControllerMetrics.Tags(Name));
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            _logger.ReconcileFailed(e);
            Queue.AddRateLimited(key);
        }

        activity?.SetTag("reconcile.result", outcome);
        _metrics?.Total.Add(1, ControllerMetrics.Tags(Name, outcome));
        _metrics?.Time.Record(_time.GetElapsedTime(started).TotalSeconds, ControllerMetrics.Tags(Name));
    }

    /// <summary>The logging scope of one reconcile: structured, and readable when a provider prints it.</summary>
    private sealed class ReconcileScope(string controller, ObjectKey key, string reconcileId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 5;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("controller", controller),
            1 => new("namespace", key.Namespace),
            2 => new("name", key.Name),
            3 => new("reconcileID", reconcileId),
            4 => new("{OriginalFormat}", "controller={controller} namespace={namespace} name={name} reconcileID={reconcileID}"),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"controller={controller} key={key} reconcileID={reconcileId}";
    }
}
