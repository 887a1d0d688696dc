using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Karpenter.Core.Provisioning;

/// <summary>Karpenter's batching settings (<c>BATCH_IDLE_DURATION</c>, <c>BATCH_MAX_DURATION</c>).</summary>
public sealed class BatchingOptions
{
    /// <summary>A batch ends when no new pending pod arrived for this long.</summary>
    public TimeSpan BatchIdleDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A batch ends at the latest this long after its first pending pod.</summary>
    public TimeSpan BatchMaxDuration { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Rejects batching settings that would never end a batch or end it before it starts.</summary>
public sealed class BatchingOptionsValidator : IValidateOptions<BatchingOptions>
{
    public ValidateOptionsResult Validate(string? name, BatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.BatchIdleDuration <= TimeSpan.Zero)
        {
            failures.Add($"BATCH_IDLE_DURATION must be positive, got {options.BatchIdleDuration}");
        }

        if (options.BatchMaxDuration <= TimeSpan.Zero)
        {
            failures.Add($"BATCH_MAX_DURATION must be positive, got {options.BatchMaxDuration}");
        }
        else if (options.BatchMaxDuration < options.BatchIdleDuration)
        {
            failures.Add($"BATCH_MAX_DURATION ({options.BatchMaxDuration}) must not be shorter than BATCH_IDLE_DURATION ({options.BatchIdleDuration})");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Collects triggers (pending pods appearing) into batches, as upstream's batcher: a batch starts with the first
/// trigger and ends after <see cref="BatchingOptions.BatchIdleDuration"/> without a new one, or
/// <see cref="BatchingOptions.BatchMaxDuration"/> after it started, whichever is first.
/// </summary>
public sealed class Batcher(IOptions<BatchingOptions> options, TimeProvider time)
{
    /// <summary>How long <see cref="WaitAsync"/> waits for a first trigger before reporting that none came.</summary>
    public static readonly TimeSpan WakeUpTimeout = TimeSpan.FromSeconds(1);

    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private volatile bool _waiting;

    /// <summary>True while <see cref="WaitAsync"/> waits (for a first trigger, or for the batch window to close).</summary>
    public bool Waiting => _waiting;

    /// <summary>Notes that something needs provisioning; never blocks.</summary>
    public void Trigger() => _signal.Writer.TryWrite(true);

    /// <summary>Waits for a batch to complete: true when one did, false when no trigger came within <see cref="WakeUpTimeout"/>.</summary>
    public async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        _waiting = true;
        try
        {
            if (!await NextAsync(WakeUpTimeout, cancellationToken))
            {
                return false;
            }

            var start = time.GetTimestamp();
            var settings = options.Value;
            while (true)
            {
                var left = settings.BatchMaxDuration - time.GetElapsedTime(start);
                if (left <= TimeSpan.Zero || !await NextAsync(left < settings.BatchIdleDuration ? left : settings.BatchIdleDuration, cancellationToken))
                {
                    return true;
                }
            }
        }
        finally
        {
            _waiting = false;
        }
    }

    private async Task<bool> NextAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_signal.Reader.TryRead(out _))
        {
            return true;
        }

        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            await _signal.Reader.WaitToReadAsync(linked.Token);
            return _signal.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
