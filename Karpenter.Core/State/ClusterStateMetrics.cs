using System.Diagnostics.Metrics;
using Karpenter.Core.Provisioning;

namespace Karpenter.Core.State;

/// <summary>
/// The cluster state's gauges, under upstream's names: <c>karpenter_cluster_state_synced</c>,
/// <c>karpenter_cluster_state_node_count</c> and <c>karpenter_cluster_state_unsynced_time_seconds</c>.
/// </summary>
public sealed class ClusterStateMetrics
{
    private readonly ClusterState _state;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long? _unsyncedSince;

    public ClusterStateMetrics(ClusterState state, TimeProvider time, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _state = state;
        _time = time;
        var meter = meterFactory.Create(ProvisioningMetrics.MeterName);
        meter.CreateObservableGauge("karpenter_cluster_state_synced", () => _state.Synced ? 1 : 0, description: "Returns 1 if cluster state is synced and 0 otherwise.");
        meter.CreateObservableGauge("karpenter_cluster_state_node_count", () => _state.NodeCount, description: "Current count of nodes in cluster state");
        meter.CreateObservableGauge("karpenter_cluster_state_unsynced_time_seconds", UnsyncedSeconds, description: "The time for which cluster state is not synced");
    }

    /// <summary>Seconds since the state was first seen unsynced (0 while synced).</summary>
    public double UnsyncedSeconds()
    {
        var synced = _state.Synced;
        lock (_lock)
        {
            if (synced)
            {
                _unsyncedSince = null;
                return 0;
            }

            _unsyncedSince ??= _time.GetTimestamp();
            return _time.GetElapsedTime(_unsyncedSince.Value).TotalSeconds;
        }
    }
}
