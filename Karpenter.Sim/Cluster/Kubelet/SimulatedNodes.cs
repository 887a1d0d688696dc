using System.Collections.Concurrent;
using Karpenter.Kube.Client;
using Karpenter.Sim.Aws.World;
using Karpenter.Sim.Cluster.Kubelet.Bootstrap;
using Karpenter.Sim.Cluster.Resources;

namespace Karpenter.Sim.Cluster.Kubelet;

/// <summary>Where a simulated machine is in its life, as its kubelet sees it.</summary>
public enum SimulatedNodePhase
{
    /// <summary>The instance is running; the kubelet has not registered yet.</summary>
    Booting,

    /// <summary>The Node object exists (or existed) for this instance.</summary>
    Registered,

    /// <summary>The kubelet could not start from the user data; the node never registers.</summary>
    BootFailed,

    /// <summary>The instance is shutting down or terminated; its kubelet is gone.</summary>
    Stopped,
}

/// <summary>Why an instance never became a Node.</summary>
public sealed record BootFailure(string InstanceId, string NodeName, string InstanceType, string Reason, DateTimeOffset Time);

/// <summary>One EC2 instance as its kubelet sees it.</summary>
public sealed class SimulatedNode
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (ObjectKey Pod, ResourceAmounts Requests)> _admitted = new(StringComparer.Ordinal);

    internal SimulatedNode(InstanceSnapshot instance, DateTimeOffset runningSince)
    {
        Instance = instance;
        RunningSince = runningSince;
    }

    public string InstanceId => Instance.InstanceId;

    /// <summary>The name the kubelet registers (the instance's private DNS name).</summary>
    public string NodeName => Instance.PrivateDnsName;

    public string ProviderId => Instance.ProviderId;

    /// <summary>The latest state of the instance the kubelet knows.</summary>
    public InstanceSnapshot Instance { get; internal set; }

    public DateTimeOffset RunningSince { get; }

    public SimulatedNodePhase Phase { get; internal set; }

    public DateTimeOffset? RegisteredAt { get; internal set; }

    /// <summary>Why the node never registered, when <see cref="Phase"/> is <see cref="SimulatedNodePhase.BootFailed"/>.</summary>
    public string? FailureReason { get; internal set; }

    public NodeBootstrapConfig? Config { get; internal set; }

    public NodeShape? Shape { get; internal set; }

    /// <summary>The instance is pending or running (its kubelet can act).</summary>
    public bool InstanceAlive => Instance.State is InstanceState.Pending or InstanceState.Running;

    /// <summary>When the kubelet last renewed the node's Lease.</summary>
    internal DateTimeOffset? LeaseRenewedAt { get; set; }

    /// <summary>
    /// The kubelet's admission: the pod is admitted when its requests fit in what the admitted, still-running pods leave
    /// of allocatable. Returns null when admitted, else the resource that did not fit.
    /// </summary>
    internal string? Admit(string podUid, ObjectKey pod, ResourceAmounts requests, ResourceAmounts allocatable, Func<ObjectKey, string, bool> stillActive)
    {
        lock (_lock)
        {
            if (_admitted.ContainsKey(podUid))
            {
                return null;
            }

            foreach (var (uid, entry) in _admitted.ToList())
            {
                if (!stillActive(entry.Pod, uid))
                {
                    _admitted.Remove(uid);
                }
            }

            var used = _admitted.Values.Aggregate(ResourceAmounts.Empty, (sum, e) => sum.Add(e.Requests));
            foreach (var name in requests.Names)
            {
                if (requests[name] > 0 && used[name] + requests[name] > allocatable[name])
                {
                    return name;
                }
            }

            _admitted[podUid] = (pod, requests);
            return null;
        }
    }

    internal void Release(string podUid)
    {
        lock (_lock)
        {
            _admitted.Remove(podUid);
        }
    }
}

/// <summary>Every machine the simulated kubelets know, by instance and by node name.</summary>
public sealed class SimulatedNodes
{
    private readonly ConcurrentDictionary<string, SimulatedNode> _byInstance = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SimulatedNode> _byNodeName = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<BootFailure> _failures = new();
    private long _podAddresses;

    public IReadOnlyList<SimulatedNode> All => [.. _byInstance.Values];

    /// <summary>Instances whose kubelet could not boot, with the reason, in the order they failed.</summary>
    public IReadOnlyList<BootFailure> BootFailures => [.. _failures];

    public SimulatedNode? ByInstance(string instanceId) => _byInstance.GetValueOrDefault(instanceId);

    /// <summary>The machine currently registered under <paramref name="nodeName"/> (names are reused with private IPs).</summary>
    public SimulatedNode? ByNodeName(string nodeName) => _byNodeName.GetValueOrDefault(nodeName);

    /// <summary>Records the latest state of an instance; returns its machine once it has been seen running.</summary>
    internal SimulatedNode? Observe(InstanceSnapshot instance, DateTimeOffset now)
    {
        if (_byInstance.TryGetValue(instance.InstanceId, out var known))
        {
            known.Instance = instance;
            if (!known.InstanceAlive && known.Phase != SimulatedNodePhase.BootFailed)
            {
                known.Phase = SimulatedNodePhase.Stopped;
            }

            return known;
        }

        if (instance.State != InstanceState.Running)
        {
            return null;
        }

        return _byInstance.GetOrAdd(instance.InstanceId, _ => new SimulatedNode(instance, now));
    }

    /// <summary>A pod address from the pod network (100.64.0.0/10), unique in the world.</summary>
    internal string NextPodAddress()
    {
        var n = Interlocked.Increment(ref _podAddresses);
        var ip = (100u << 24) | (64u << 16) | (uint)(n & 0x3FFFFF);
        return $"{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}";
    }

    internal void Registered(SimulatedNode node, DateTimeOffset now)
    {
        node.Phase = SimulatedNodePhase.Registered;
        node.RegisteredAt = now;
        _byNodeName[node.NodeName] = node;
    }

    internal void Failed(SimulatedNode node, string reason, DateTimeOffset now)
    {
        node.Phase = SimulatedNodePhase.BootFailed;
        node.FailureReason = reason;
        _failures.Enqueue(new BootFailure(node.InstanceId, node.NodeName, node.Instance.InstanceType, reason, now));
    }
}
