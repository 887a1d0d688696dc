using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Karpenter.Kube.Queue;

/// <summary>
/// The client-go/controller-runtime work-queue instruments (<c>workqueue_*</c>, labelled <c>name</c> and
/// <c>controller</c>), shared by every queue of a process.
/// </summary>
public sealed class WorkQueueMetrics
{
    /// <summary>Name of the meter every Karpenter.Kube instrument is created on.</summary>
    public const string MeterName = "Karpenter.Kube";

    public WorkQueueMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        Adds = meter.CreateCounter<long>("workqueue_adds_total", description: "Total number of adds handled by workqueue");
        Retries = meter.CreateCounter<long>("workqueue_retries_total", description: "Total number of retries handled by workqueue");
        Depth = meter.CreateUpDownCounter<long>("workqueue_depth", description: "Current depth of workqueue");
        QueueDuration = meter.CreateHistogram<double>("workqueue_queue_duration_seconds", description: "How long in seconds an item stays in workqueue before being requested");
        WorkDuration = meter.CreateHistogram<double>("workqueue_work_duration_seconds", description: "How long in seconds processing an item from workqueue takes");
        meter.CreateObservableGauge(
            "workqueue_unfinished_work_seconds",
            () => InProgress(p => p.Unfinished),
            description: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.");
        meter.CreateObservableGauge(
            "workqueue_longest_running_processor_seconds",
            () => InProgress(p => p.Longest),
            description: "How many seconds has the longest running processor for workqueue been running.");
    }

    private readonly ConcurrentDictionary<object, (string Name, Func<(double Unfinished, double Longest)> Read)> _queues = new();

    internal Counter<long> Adds { get; }

    internal Counter<long> Retries { get; }

    internal UpDownCounter<long> Depth { get; }

    internal Histogram<double> QueueDuration { get; }

    internal Histogram<double> WorkDuration { get; }

    /// <summary>Reports <paramref name="queue"/>'s work in progress until <see cref="Untrack"/>.</summary>
    internal void Track(object queue, string name, Func<(double Unfinished, double Longest)> read) => _queues[queue] = (name, read);

    internal void Untrack(object queue) => _queues.TryRemove(queue, out _);

    private IEnumerable<Measurement<double>> InProgress(Func<(double Unfinished, double Longest), double> select)
    {
        foreach (var (name, read) in _queues.Values)
        {
            yield return new Measurement<double>(select(read()), Tags(name));
        }
    }

    internal static TagList Tags(string name) => new() { { "name", name }, { "controller", name } };
}
