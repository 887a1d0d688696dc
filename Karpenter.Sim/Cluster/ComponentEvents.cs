using System.Diagnostics.Metrics;
using Karpenter.Kube.Client;
using Karpenter.Kube.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Sim.Cluster;

/// <summary>The reporting components of the simulated cluster, as their real counterparts name themselves in events.</summary>
public static class Components
{
    public const string Scheduler = "default-scheduler";
    public const string Kubelet = "kubelet";
    public const string DeploymentController = "deployment-controller";
    public const string ReplicaSetController = "replicaset-controller";
    public const string DaemonSetController = "daemonset-controller";
    public const string DisruptionController = "controllermanager";
    public const string NodeController = "node-controller";
    public const string CloudNodeLifecycle = "cloud-node-lifecycle-controller";
    public const string TaintEvictionController = "taint-eviction-controller";
}

/// <summary>
/// One event recorder per simulated component (so each event carries its real <c>reportingController</c>), built
/// from the runtime's <see cref="EventRecorder"/> and run as one hosted service.
/// </summary>
public sealed class ComponentEvents : IHostedService
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, EventRecorder> _recorders = new(StringComparer.Ordinal);
    private readonly IKubeClient _client;
    private readonly TimeProvider _time;
    private readonly IMeterFactory _meters;
    private readonly ILoggerFactory _loggers;
    private bool _started;

    public ComponentEvents(IKubeClient client, TimeProvider time, IMeterFactory meters, ILoggerFactory loggers)
    {
        _client = client;
        _time = time;
        _meters = meters;
        _loggers = loggers;
    }

    /// <summary>The recorder of <paramref name="component"/> (see <see cref="Components"/>).</summary>
    public IEventRecorder For(string component)
    {
        lock (_lock)
        {
            if (_recorders.TryGetValue(component, out var existing))
            {
                return existing;
            }

            var recorder = new EventRecorder(
                _client,
                Options.Create(new EventRecorderOptions { ReportingController = component, ReportingInstance = component, RatePerSecond = 100, Burst = 1000, Capacity = 10_000 }),
                _time,
                _meters,
                _loggers.CreateLogger<EventRecorder>());
            _recorders[component] = recorder;
            if (_started)
            {
                _ = recorder.StartAsync(CancellationToken.None);
            }

            return recorder;
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        EventRecorder[] recorders;
        lock (_lock)
        {
            _started = true;
            recorders = [.. _recorders.Values];
        }

        foreach (var recorder in recorders)
        {
            await recorder.StartAsync(cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        EventRecorder[] recorders;
        lock (_lock)
        {
            recorders = [.. _recorders.Values];
        }

        foreach (var recorder in recorders)
        {
            await recorder.StopAsync(cancellationToken);
            recorder.Dispose();
        }
    }
}
