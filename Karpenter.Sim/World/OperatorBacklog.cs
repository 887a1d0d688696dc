using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Karpenter.Sim.World;

/// <summary>
/// A lag signal for the <see cref="Clock.ClockGovernor"/> read from the operator's own work-queue metrics (the
/// controller-runtime instruments <c>workqueue_depth</c> and <c>workqueue_queue_duration_seconds</c> of the meter
/// factory of one operator host, so that other hosts in the process are not counted): how long items waited in a
/// queue before a worker took them (simulated time) since the last read, and how many wait now. Nothing of the
/// operator's internals is read beyond what its metrics endpoint publishes.
/// </summary>
public sealed class OperatorBacklog : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _depth = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeSpan _waitThreshold;
    private readonly long _depthThreshold;
    private double _longestWait;

    /// <param name="operatorMeters">The operator host's <see cref="IMeterFactory"/>.</param>
    /// <param name="waitThreshold">A queue wait this long (simulated time) is a pressure of 1.</param>
    /// <param name="depthThreshold">This many items waiting over all queues is a pressure of 1.</param>
    public OperatorBacklog(IMeterFactory operatorMeters, TimeSpan waitThreshold, long depthThreshold)
    {
        ArgumentNullException.ThrowIfNull(operatorMeters);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(waitThreshold, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(depthThreshold, 0);
        _waitThreshold = waitThreshold;
        _depthThreshold = depthThreshold;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, operatorMeters) && instrument.Name is "workqueue_depth" or "workqueue_queue_duration_seconds")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var name = string.Empty;
            foreach (var tag in tags)
            {
                if (tag.Key == "name")
                {
                    name = tag.Value as string ?? string.Empty;
                }
            }

            _depth.AddOrUpdate(name, value, (_, d) => d + value);
        });
        _listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
        {
            lock (_lock)
            {
                _longestWait = Math.Max(_longestWait, seconds);
            }
        });
        _listener.Start();
    }

    /// <summary>Items waiting now over all queues (queues whose adds predate the listener count from zero).</summary>
    public long Depth => _depth.Values.Sum(d => Math.Max(0, d));

    /// <summary>The pressure since the last read: the larger of the longest queue wait and the depth, over their thresholds.</summary>
    public double Pressure()
    {
        double wait;
        lock (_lock)
        {
            wait = _longestWait;
            _longestWait = 0;
        }

        return Math.Max(wait / _waitThreshold.TotalSeconds, (double)Depth / _depthThreshold);
    }

    public void Dispose() => _listener.Dispose();
}
