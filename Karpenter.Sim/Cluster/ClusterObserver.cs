using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Karpenter.Sim.Cluster;

/// <summary>What happened in the simulated cluster, as its components saw it.</summary>
public enum ClusterEventKind
{
    /// <summary>A running instance's kubelet could not boot from its user data; the node will never register.</summary>
    NodeBootFailed,

    /// <summary>A kubelet created its Node object.</summary>
    NodeRegistered,

    /// <summary>A Node's Ready condition turned True.</summary>
    NodeReady,

    /// <summary>A Node went NotReady because its instance is shutting down or gone.</summary>
    NodeNotReady,

    /// <summary>The cloud controller manager deleted a Node whose instance is terminated.</summary>
    NodeDeletedByCloudController,

    /// <summary>kube-scheduler bound a pod to a node.</summary>
    PodScheduled,

    /// <summary>kube-scheduler found no node for a pod (the message says why).</summary>
    PodUnschedulable,

    /// <summary>A pod's containers started (phase Running, Ready).</summary>
    PodRunning,

    /// <summary>A pod failed (rejected by the kubelet, or its node shut down).</summary>
    PodFailed,

    /// <summary>A kubelet finished a pod's graceful deletion and removed the object.</summary>
    PodDeleted,
}

/// <summary>One observation: when (simulated), what, about which object, and details.</summary>
/// <param name="Time">Simulated time.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Namespace">The object's namespace (null for nodes).</param>
/// <param name="Name">The pod or node name.</param>
/// <param name="NodeName">The node involved, if any.</param>
/// <param name="Message">Details (the unschedulable reason, the boot failure, the instance id).</param>
public sealed record ClusterEvent(DateTimeOffset Time, ClusterEventKind Kind, string? Namespace, string Name, string? NodeName, string? Message);

/// <summary>
/// The simulated cluster's observation stream for tests and reports: every subscriber gets every event from its
/// subscription on, in order, on its own unbounded channel (a slow reader never blocks a component).
/// </summary>
public sealed class ClusterObserver
{
    private readonly Lock _lock = new();
    private readonly List<Channel<ClusterEvent>> _subscribers = [];
    private readonly Dictionary<ClusterEventKind, long> _counts = [];

    /// <summary>How many events of <paramref name="kind"/> were published so far.</summary>
    public long Count(ClusterEventKind kind)
    {
        lock (_lock)
        {
            return _counts.GetValueOrDefault(kind);
        }
    }

    public void Publish(ClusterEvent clusterEvent)
    {
        ArgumentNullException.ThrowIfNull(clusterEvent);
        lock (_lock)
        {
            _counts[clusterEvent.Kind] = _counts.GetValueOrDefault(clusterEvent.Kind) + 1;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(clusterEvent);
            }
        }
    }

    /// <summary>Every event from this call on until <paramref name="cancellationToken"/> is cancelled.</summary>
    public IAsyncEnumerable<ClusterEvent> WatchAsync(CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<ClusterEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        return ReadAsync(channel, cancellationToken);
    }

    internal void Complete()
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }
        }
    }

    private async IAsyncEnumerable<ClusterEvent> ReadAsync(Channel<ClusterEvent> channel, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return item;
            }
        }
        finally
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }
        }
    }
}
