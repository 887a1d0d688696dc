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
    }

    internal Counter<long> Adds { get; }

    internal Counter<long> Retries { get; }

    internal UpDownCounter<long> Depth { get; }

    internal Histogram<double> QueueDuration { get; }

    internal Histogram<double> WorkDuration { get; }

    internal static TagList Tags(string name) => new() { { "name", name }, { "controller", name } };
}
