namespace Karpenter.Kube.Queue;

/// <summary>What <see cref="RateLimitingQueue{T}.GetAsync"/> hands out: an item, or the news that the queue shut down.</summary>
public readonly record struct WorkItem<T>(T Item, bool Shutdown);

/// <summary>
/// client-go's deduplicating, delaying, rate-limited work queue, on a <see cref="TimeProvider"/>.
/// <list type="bullet">
/// <item>An item waiting in the queue is held once however often it is added.</item>
/// <item>An item is never handed to two workers at once: adding it while it is processed marks it dirty, and
/// <see cref="Done"/> puts it back, so any number of adds during processing collapse into exactly one more run.</item>
/// <item><see cref="AddAfter"/> keeps the earliest ready time of an item already waiting.</item>
/// <item><see cref="AddRateLimited"/> waits as long as the rate limiter says; <see cref="Forget"/> resets it.</item>
/// <item>Nothing is dropped: after <see cref="ShutDown"/> new adds are ignored, but items already queued are still
/// handed out, and only then does <see cref="GetAsync"/> report the shutdown.</item>
/// </list>
/// </summary>
/// <typeparam name="T">The item, compared by value (usually <c>ObjectKey</c>).</typeparam>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "client-go's name for it, which readers of the Go sources look for.")]
public sealed class RateLimitingQueue<T>
    where T : notnull
{
    private readonly Lock _lock = new();
    private readonly Queue<T> _queue = new();
    private readonly HashSet<T> _dirty = [];
    private readonly HashSet<T> _processing = [];
    private readonly Dictionary<T, DateTimeOffset> _waiting = [];
    private readonly PriorityQueue<T, DateTimeOffset> _waitingByTime = new();
    private readonly LinkedList<TaskCompletionSource> _getters = new();
    private readonly Dictionary<T, long> _queuedAt = [];
    private readonly Dictionary<T, long> _startedAt = [];
    private readonly TimeProvider _time;
    private readonly IRateLimiter<T> _limiter;
    private readonly WorkQueueMetrics? _metrics;
    private readonly ITimer _timer;
    private DateTimeOffset? _timerDue;
    private bool _shuttingDown;

    public RateLimitingQueue(string name, IRateLimiter<T> rateLimiter, TimeProvider time, WorkQueueMetrics? metrics = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(rateLimiter);
        ArgumentNullException.ThrowIfNull(time);
        Name = name;
        _limiter = rateLimiter;
        _time = time;
        _metrics = metrics;
        _timer = time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _metrics?.Track(this, name, InProgressSeconds);
    }

    /// <summary>
    /// The seconds spent so far by the items being processed, summed and the longest (client-go's
    /// <c>unfinished_work_seconds</c> and <c>longest_running_processor_seconds</c>): large values mean stuck workers.
    /// </summary>
    public (double Unfinished, double Longest) InProgressSeconds()
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            double total = 0, longest = 0;
            foreach (var started in _startedAt.Values)
            {
                var seconds = _time.GetElapsedTime(started, now).TotalSeconds;
                total += seconds;
                longest = Math.Max(longest, seconds);
            }

            return (total, longest);
        }
    }

    /// <summary>The queue's name (the <c>name</c> label of its metrics).</summary>
    public string Name { get; }

    /// <summary>Items ready to be handed out (not counting those being processed or waiting for their time).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Items waiting for their <see cref="AddAfter"/> time.</summary>
    public int WaitingCount
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Items handed out and not yet <see cref="Done"/>.</summary>
    public int ProcessingCount
    {
        get
        {
            lock (_lock)
            {
                return _processing.Count;
            }
        }
    }

    public bool ShuttingDown
    {
        get
        {
            lock (_lock)
            {
                return _shuttingDown;
            }
        }
    }

    /// <summary>Marks <paramref name="item"/> as needing processing.</summary>
    public void Add(T item)
    {
        TaskCompletionSource? wake;
        lock (_lock)
        {
            wake = AddLocked(item);
        }

        wake?.TrySetResult();
    }

    /// <summary>
    /// Adds <paramref name="item"/> once <paramref name="delay"/> has passed; if it is already waiting, the earlier of
    /// the two times wins. A delay of zero or less adds at once.
    /// </summary>
    public void AddAfter(T item, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(item);
            return;
        }

        lock (_lock)
        {
            if (_shuttingDown)
            {
                return;
            }

            var readyAt = _time.GetUtcNow() + delay;
            if (_waiting.TryGetValue(item, out var existing) && existing <= readyAt)
            {
                return;
            }

            _waiting[item] = readyAt;
            _waitingByTime.Enqueue(item, readyAt);
            ArmTimerLocked();
        }
    }

    /// <summary>Adds <paramref name="item"/> after the rate limiter's delay (one more failure for it).</summary>
    public void AddRateLimited(T item)
    {
        _metrics?.Retries.Add(1, WorkQueueMetrics.Tags(Name));
        AddAfter(item, _limiter.NextDelay(item));
    }

    /// <summary>Resets <paramref name="item"/>'s backoff (call it when processing succeeded).</summary>
    public void Forget(T item) => _limiter.Forget(item);

    /// <summary>How often <paramref name="item"/> was retried since it was last forgotten.</summary>
    public int NumRequeues(T item) => _limiter.NumRequeues(item);

    /// <summary>
    /// Waits for an item and marks it as processing; the caller must call <see cref="Done"/> when finished.
    /// Reports <see cref="WorkItem{T}.Shutdown"/> once the queue is shut down and empty.
    /// </summary>
    public async Task<WorkItem<T>> GetAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource waiter;
            LinkedListNode<TaskCompletionSource> node;
            lock (_lock)
            {
                if (_queue.Count > 0)
                {
                    var item = _queue.Dequeue();
                    _processing.Add(item);
                    _dirty.Remove(item);
                    var now = _time.GetTimestamp();
                    if (_queuedAt.Remove(item, out var queuedAt) && _metrics is not null)
                    {
                        _metrics.QueueDuration.Record(_time.GetElapsedTime(queuedAt, now).TotalSeconds, WorkQueueMetrics.Tags(Name));
                    }

                    _startedAt[item] = now;
                    _metrics?.Depth.Add(-1, WorkQueueMetrics.Tags(Name));
                    return new WorkItem<T>(item, false);
                }

                if (_shuttingDown)
                {
                    return new WorkItem<T>(default!, true);
                }

                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                node = _getters.AddLast(waiter);
            }

            try
            {
                await waiter.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                TaskCompletionSource? pass = null;
                lock (_lock)
                {
                    if (node.List is not null)
                    {
                        _getters.Remove(node);
                    }
                    else if (_queue.Count > 0 && _getters.First is { } next)
                    {
                        // We were woken for an item but leave without it: wake the next getter instead.
                        _getters.RemoveFirst();
                        pass = next.Value;
                    }
                }

                pass?.TrySetResult();
                throw;
            }
        }
    }

    /// <summary>Marks <paramref name="item"/> as finished; if it was added meanwhile it is queued again.</summary>
    public void Done(T item)
    {
        TaskCompletionSource? wake = null;
        lock (_lock)
        {
            if (_startedAt.Remove(item, out var started) && _metrics is not null)
            {
                _metrics.WorkDuration.Record(_time.GetElapsedTime(started).TotalSeconds, WorkQueueMetrics.Tags(Name));
            }

            _processing.Remove(item);
            if (_dirty.Contains(item))
            {
                wake = EnqueueLocked(item);
            }
        }

        wake?.TrySetResult();
    }

    /// <summary>
    /// Stops accepting new items and wakes every waiting <see cref="GetAsync"/>. Items already queued are still
    /// handed out; delayed items that have not come due are not.
    /// </summary>
    public void ShutDown()
    {
        List<TaskCompletionSource> wake;
        lock (_lock)
        {
            _shuttingDown = true;
            _metrics?.Untrack(this);
            _waiting.Clear();
            _waitingByTime.Clear();
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timerDue = null;
            wake = [.. _getters];
            _getters.Clear();
        }

        foreach (var w in wake)
        {
            w.TrySetResult();
        }
    }

    private TaskCompletionSource? AddLocked(T item)
    {
        if (_shuttingDown || !_dirty.Add(item))
        {
            return null;
        }

        _metrics?.Adds.Add(1, WorkQueueMetrics.Tags(Name));
        return _processing.Contains(item) ? null : EnqueueLocked(item);
    }

    private TaskCompletionSource? EnqueueLocked(T item)
    {
        _queue.Enqueue(item);
        _queuedAt[item] = _time.GetTimestamp();
        _metrics?.Depth.Add(1, WorkQueueMetrics.Tags(Name));
        if (_getters.First is { } first)
        {
            _getters.RemoveFirst();
            return first.Value;
        }

        return null;
    }

    private void OnTimer()
    {
        var wake = new List<TaskCompletionSource>();
        lock (_lock)
        {
            _timerDue = null;
            var now = _time.GetUtcNow();
            while (_waitingByTime.TryPeek(out var item, out var readyAt) && readyAt <= now)
            {
                _waitingByTime.Dequeue();

                // Entries superseded by an earlier AddAfter stay in the heap; only the current one counts.
                if (_waiting.TryGetValue(item, out var current) && current == readyAt)
                {
                    _waiting.Remove(item);
                    if (AddLocked(item) is { } w)
                    {
                        wake.Add(w);
                    }
                }
            }

            ArmTimerLocked();
        }

        foreach (var w in wake)
        {
            w.TrySetResult();
        }
    }

    private void ArmTimerLocked()
    {
        // Drop stale heap heads so the timer is armed for a time that still matters.
        while (_waitingByTime.TryPeek(out var head, out var at) && !(_waiting.TryGetValue(head, out var cur) && cur == at))
        {
            _waitingByTime.Dequeue();
        }

        if (!_waitingByTime.TryPeek(out _, out var due))
        {
            return;
        }

        if (_timerDue is { } armed && armed <= due)
        {
            return;
        }

        _timerDue = due;
        var dueIn = due - _time.GetUtcNow();
        _timer.Change(dueIn < TimeSpan.Zero ? TimeSpan.Zero : dueIn, Timeout.InfiniteTimeSpan);
    }
}
