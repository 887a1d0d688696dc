using System.Diagnostics;
using System.Diagnostics.Metrics;
using Karpenter.Kube.Queue;

namespace Karpenter.Kube.Controllers;

/// <summary>controller-runtime's controller instruments (<c>controller_runtime_*</c>), labelled by <c>controller</c>.</summary>
public sealed class ControllerMetrics
{
    /// <summary>The activity source of reconcile spans.</summary>
    public const string ActivitySourceName = "Karpenter.Kube.Controllers";

    public ControllerMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(WorkQueueMetrics.MeterName);
        Total = meter.CreateCounter<long>("controller_runtime_reconcile_total", description: "Total number of reconciliations per controller");
        Errors = meter.CreateCounter<long>("controller_runtime_reconcile_errors_total", description: "Total number of reconciliation errors per controller");
        TerminalErrors = meter.CreateCounter<long>("controller_runtime_terminal_reconcile_errors_total", description: "Total number of terminal reconciliation errors per controller");
        Time = meter.CreateHistogram<double>("controller_runtime_reconcile_time_seconds", description: "Length of time per reconciliation per controller");
        ActiveWorkers = meter.CreateUpDownCounter<long>("controller_runtime_active_workers", description: "Number of currently used workers per controller");
        MaxConcurrent = meter.CreateUpDownCounter<long>("controller_runtime_max_concurrent_reconciles", description: "Maximum number of concurrent reconciles per controller");
    }

    internal Counter<long> Total { get; }

    internal Counter<long> Errors { get; }

    internal Counter<long> TerminalErrors { get; }

    internal Histogram<double> Time { get; }

    internal UpDownCounter<long> ActiveWorkers { get; }

    internal UpDownCounter<long> MaxConcurrent { get; }

    internal static TagList Tags(string controller) => new() { { "controller", controller } };

    internal static TagList Tags(string controller, string result) => new() { { "controller", controller }, { "result", result } };
}
