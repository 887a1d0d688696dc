namespace Karpenter.Aws.Batching;

/// <summary>The windows of one batcher: a batch closes when no request arrived for <see cref="Idle"/>, when <see cref="Max"/>
/// passed since its first request, or when it holds <see cref="MaxItems"/> requests.</summary>
public sealed record BatchWindow(TimeSpan Idle, TimeSpan Max, int MaxItems)
{
    /// <summary>CreateFleet (upstream <c>pkg/batcher/createfleet.go</c>): 35 ms idle, 1 s at most, 1,000 requests.</summary>
    public static BatchWindow CreateFleet { get; } = new(TimeSpan.FromMilliseconds(35), TimeSpan.FromSeconds(1), 1000);

    /// <summary>DescribeInstances: 100 ms idle, 1 s at most, 500 requests.</summary>
    public static BatchWindow DescribeInstances { get; } = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), 500);

    /// <summary>TerminateInstances: 100 ms idle, 1 s at most, 500 requests.</summary>
    public static BatchWindow TerminateInstances { get; } = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), 500);
}

/// <summary>One caller's share of a batched call: its output, or the error it gets.</summary>
public readonly record struct BatchResult<T>(T? Output, Exception? Error);

/// <summary>Makes <see cref="BatchResult{T}"/> values.</summary>
public static class BatchResult
{
    public static BatchResult<T> Ok<T>(T output) => new(output, null);

    public static BatchResult<T> Failed<T>(Exception error) => new(default, error);
}

/// <summary>
/// Gathers requests that hash alike into one call (upstream <c>pkg/batcher/batcher.go</c>): requests with the same key that
/// arrive within the idle window of each other share one execution, which returns one result per request in order.
/// Windows run on the <see cref="TimeProvider"/>, so a fake clock must be stepped for a batch to close. The execution runs
/// on the batcher's own lifetime, not a caller's token: one caller giving up does not cancel the others' call.
/// </summary>
public sealed class Batcher<TInput, TOutput> : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopping;
    private long _executions;
    private readonly BatchWindow _window;
    private readonly Func<TInput, string> _hasher;
    private readonly Func<IReadOnlyList<TInput>, CancellationToken, Task<IReadOnlyList<BatchResult<TOutput>>>> _execute;
    private readonly TimeProvider _time;

    public Batcher(BatchWindow window, Func<TInput, string> hasher,
        Func<IReadOnlyList<TInput>, CancellationToken, Task<IReadOnlyList<BatchResult<TOutput>>>> execute, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(hasher);
        ArgumentNullException.ThrowIfNull(execute);
        ArgumentNullException.ThrowIfNull(time);
        _window = window;
        _hasher = hasher;
        _execute = execute;
        _time = time;
        _stopping = _stop.Token;
    }

    /// <summary>How many executions ran (each one call, whatever its batch size).</summary>
    public long Executions => Interlocked.Read(ref _executions);

    /// <summary>Adds <paramref name="input"/> to the open batch of its key (or opens one) and waits for its share of the result.</summary>
    public async Task<TOutput> AddAsync(TInput input, CancellationToken cancellationToken)
    {
        var key = _hasher(input);
        var request = new TaskCompletionSource<TOutput>(TaskCreationOptions.RunContinuationsAsynchronously);
        Bucket? opened = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            var now = _time.GetUtcNow();
            if (!_buckets.TryGetValue(key, out var bucket))
            {
                bucket = new Bucket(now);
                _buckets[key] = bucket;
                opened = bucket;
            }
            bucket.Items.Add((input, request));
            bucket.Last = now;
            if (bucket.Items.Count >= _window.MaxItems)
            {
                _buckets.Remove(key);
                bucket.Full.TrySetResult();
            }
        }
        if (opened is not null)
        {
            _ = Task.Run(() => RunAsync(key, opened), CancellationToken.None);
        }
        return await request.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync(string key, Bucket bucket)
    {
        try
        {
            while (true)
            {
                TimeSpan wait;
                lock (_lock)
                {
                    if (bucket.Full.Task.IsCompleted)
                    {
                        break;
                    }
                    var deadline = Min(bucket.Last + _window.Idle, bucket.First + _window.Max);
                    wait = deadline - _time.GetUtcNow();
                    if (wait <= TimeSpan.Zero)
                    {
                        if (_buckets.TryGetValue(key, out var current) && ReferenceEquals(current, bucket))
                        {
                            _buckets.Remove(key);
                        }
                        break;
                    }
                }
                await Task.WhenAny(Task.Delay(wait, _time, _stopping), bucket.Full.Task);
                _stopping.ThrowIfCancellationRequested();
            }
            var items = bucket.Items;
            Interlocked.Increment(ref _executions);
            var results = await _execute([.. items.Select(i => i.Input)], _stopping);
            for (var i = 0; i < items.Count; i++)
            {
                var result = i < results.Count ? results[i] : BatchResult.Failed<TOutput>(new InvalidOperationException("the batched call returned no result for this request"));
                if (result.Error is { } error)
                {
                    items[i].Result.TrySetException(error);
                }
                else
                {
                    items[i].Result.TrySetResult(result.Output!);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            foreach (var item in bucket.Items)
            {
                item.Result.TrySetCanceled(_stopping);
            }
        }
        catch (Exception e)
        {
            foreach (var item in bucket.Items)
            {
                item.Result.TrySetException(e);
            }
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }
            _stop.Cancel();
            foreach (var bucket in _buckets.Values)
            {
                bucket.Full.TrySetResult();
            }
            _buckets.Clear();
        }
        _stop.Dispose();
    }

    private sealed class Bucket(DateTimeOffset first)
    {
        public DateTimeOffset First { get; } = first;

        public DateTimeOffset Last { get; set; } = first;

        public List<(TInput Input, TaskCompletionSource<TOutput> Result)> Items { get; } = [];

        public TaskCompletionSource Full { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
