using k8s.Models;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.State;

/// <summary>
/// What the cluster state knows of a NodeClaim: enough to model it as capacity before its node registers, and to
/// charge it to its NodePool's limits.
/// </summary>
public sealed record StateNodeClaim
{
    public required string Name { get; init; }

    public string? NodePoolName { get; init; }

    public string? ProviderId { get; init; }

    /// <summary>The node it became, once registered.</summary>
    public string? NodeName { get; init; }

    /// <summary>Its requirements (instance types, zones, capacity types) and labels.</summary>
    public required Requirements Requirements { get; init; }

    public IReadOnlyList<V1Taint> Taints { get; init; } = [];

    /// <summary>Capacity once launched; before that, nothing is known for sure.</summary>
    public Resources Capacity { get; init; }

    public Resources Allocatable { get; init; }

    /// <summary>What the scheduler planned onto it (pods plus DaemonSet overhead).</summary>
    public Resources Requests { get; init; }

    public bool Deleting { get; init; }
}

/// <summary>
/// The in-memory view of the cluster the scheduler and disruption read: nodes, NodeClaims, pods (bound and pending),
/// DaemonSets and volumes, fed by informers, plus what only Karpenter knows: which nodes are being deleted and which
/// pods were just nominated to capacity that is still coming up. Thread-safe; snapshots are copies.
/// </summary>
public sealed class ClusterState
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, V1Node> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StateNodeClaim> _nodeClaims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1Pod> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _podsByNode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1DaemonSet> _daemonSets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1PersistentVolumeClaim> _claims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1PersistentVolume> _volumes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1StorageClass> _storageClasses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _podNominations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _nodeNominations = new(StringComparer.Ordinal);
    private readonly HashSet<string> _markedForDeletion = new(StringComparer.Ordinal);
    private readonly List<Func<bool>> _syncChecks = [];

    public ClusterState(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>Raised (outside the lock) when a pod that needs capacity appears or changes.</summary>
    public event Action? PendingPodsChanged;

    /// <summary>True once every source feeding the state has completed its first list.</summary>
    public bool Synced
    {
        get
        {
            lock (_lock)
            {
                return _syncChecks.All(c => c());
            }
        }
    }

    /// <summary>Adds a condition <see cref="Synced"/> waits for (an informer's HasSynced).</summary>
    public void AddSyncCheck(Func<bool> check)
    {
        lock (_lock)
        {
            _syncChecks.Add(check);
        }
    }

    // ------------------------------------------------------------------ feeds

    public void UpdateNode(V1Node node)
    {
        lock (_lock)
        {
            _nodes[node.Metadata.Name] = node;
        }
    }

    public void DeleteNode(V1Node node)
    {
        lock (_lock)
        {
            _nodes.Remove(node.Metadata.Name);
            _markedForDeletion.Remove(node.Metadata.Name);
            _nodeNominations.Remove(node.Metadata.Name);
        }
    }

    public void UpdateNodeClaim(StateNodeClaim nodeClaim)
    {
        lock (_lock)
        {
            _nodeClaims[nodeClaim.Name] = nodeClaim;
        }
    }

    public void DeleteNodeClaim(string name)
    {
        lock (_lock)
        {
            _nodeClaims.Remove(name);
            _markedForDeletion.Remove(name);
            _nodeNominations.Remove(name);
        }
    }

    public void UpdatePod(V1Pod pod)
    {
        bool pending;
        lock (_lock)
        {
            var key = Key(pod);
            if (_pods.TryGetValue(key, out var old) && old.Spec?.NodeName is { Length: > 0 } oldNode && _podsByNode.TryGetValue(oldNode, out var oldSet))
            {
                oldSet.Remove(key);
            }

            _pods[key] = pod;
            if (pod.Spec?.NodeName is { Length: > 0 } node)
            {
                (_podsByNode.TryGetValue(node, out var set) ? set : _podsByNode[node] = new HashSet<string>(StringComparer.Ordinal)).Add(key);
                _podNominations.Remove(key);
            }

            pending = IsProvisionable(pod);
        }

        if (pending)
        {
            PendingPodsChanged?.Invoke();
        }
    }

    public void DeletePod(V1Pod pod)
    {
        lock (_lock)
        {
            var key = Key(pod);
            if (_pods.Remove(key, out var old) && old.Spec?.NodeName is { Length: > 0 } node && _podsByNode.TryGetValue(node, out var set))
            {
                set.Remove(key);
            }

            _podNominations.Remove(key);
        }
    }

    public void UpdateDaemonSet(V1DaemonSet daemonSet)
    {
        lock (_lock)
        {
            _daemonSets[$"{daemonSet.Metadata.NamespaceProperty}/{daemonSet.Metadata.Name}"] = daemonSet;
        }
    }

    public void DeleteDaemonSet(V1DaemonSet daemonSet)
    {
        lock (_lock)
        {
            _daemonSets.Remove($"{daemonSet.Metadata.NamespaceProperty}/{daemonSet.Metadata.Name}");
        }
    }

    public void UpdateVolumeClaim(V1PersistentVolumeClaim claim)
    {
        lock (_lock)
        {
            _claims[$"{claim.Metadata.NamespaceProperty}/{claim.Metadata.Name}"] = claim;
        }
    }

    public void DeleteVolumeClaim(V1PersistentVolumeClaim claim)
    {
        lock (_lock)
        {
            _claims.Remove($"{claim.Metadata.NamespaceProperty}/{claim.Metadata.Name}");
        }
    }

    public void UpdateVolume(V1PersistentVolume volume)
    {
        lock (_lock)
        {
            _volumes[volume.Metadata.Name] = volume;
        }
    }

    public void DeleteVolume(V1PersistentVolume volume)
    {
        lock (_lock)
        {
            _volumes.Remove(volume.Metadata.Name);
        }
    }

    public void UpdateStorageClass(V1StorageClass storageClass)
    {
        lock (_lock)
        {
            _storageClasses[storageClass.Metadata.Name] = storageClass;
        }
    }

    public void DeleteStorageClass(V1StorageClass storageClass)
    {
        lock (_lock)
        {
            _storageClasses.Remove(storageClass.Metadata.Name);
        }
    }

    // ------------------------------------------------------------------ Karpenter's own marks

    /// <summary>Marks nodes or NodeClaims as being disrupted: the scheduler no longer places pods on them.</summary>
    public void MarkForDeletion(params IEnumerable<string> names)
    {
        lock (_lock)
        {
            _markedForDeletion.UnionWith(names);
        }
    }

    public void UnmarkForDeletion(params IEnumerable<string> names)
    {
        lock (_lock)
        {
            _markedForDeletion.ExceptWith(names);
        }
    }

    public bool IsMarkedForDeletion(string name)
    {
        lock (_lock)
        {
            return _markedForDeletion.Contains(name);
        }
    }

    /// <summary>
    /// Records that <paramref name="pods"/> are expected on <paramref name="nodeOrClaim"/> until <paramref name="until"/>:
    /// they are not pending meanwhile (a second batch does not launch for them) and the node is not a disruption candidate.
    /// </summary>
    public void Nominate(string nodeOrClaim, IEnumerable<V1Pod> pods, DateTimeOffset until)
    {
        lock (_lock)
        {
            _nodeNominations[nodeOrClaim] = until;
            foreach (var pod in pods)
            {
                _podNominations[Key(pod)] = until;
            }
        }
    }

    public bool IsNominated(string nodeOrClaim)
    {
        lock (_lock)
        {
            return _nodeNominations.TryGetValue(nodeOrClaim, out var until) && until > _time.GetUtcNow();
        }
    }

    // ------------------------------------------------------------------ snapshots

    /// <summary>Pods that need new capacity (upstream's IsProvisionable), minus those nominated to capacity on its way.</summary>
    public IReadOnlyList<V1Pod> PendingPods()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            return [.. _pods.Where(kv => IsProvisionable(kv.Value) && !(_podNominations.TryGetValue(kv.Key, out var until) && until > now)).Select(kv => kv.Value)];
        }
    }

    /// <summary>Pods bound to nodes the scheduler knows (for topology and resource accounting).</summary>
    public IReadOnlyList<BoundPod> BoundPods()
    {
        lock (_lock)
        {
            return [.. _pods.Values.Where(p => p.Spec?.NodeName is { Length: > 0 } && !IsTerminal(p)).Select(p => new BoundPod(p, p.Spec.NodeName))];
        }
    }

    /// <summary>The pod templates of the DaemonSets (their pods run on every compatible new node).</summary>
    public IReadOnlyList<V1Pod> DaemonSetPods()
    {
        lock (_lock)
        {
            return [.. _daemonSets.Values.Where(d => d.Spec?.Template is not null).Select(d => new V1Pod { Metadata = d.Spec.Template.Metadata ?? new V1ObjectMeta(), Spec = d.Spec.Template.Spec })];
        }
    }

    public VolumeCatalog Volumes()
    {
        lock (_lock)
        {
            return new VolumeCatalog
            {
                Claims = new Dictionary<string, V1PersistentVolumeClaim>(_claims, StringComparer.Ordinal),
                Volumes = new Dictionary<string, V1PersistentVolume>(_volumes, StringComparer.Ordinal),
                StorageClasses = new Dictionary<string, V1StorageClass>(_storageClasses, StringComparer.Ordinal),
            };
        }
    }

    /// <summary>
    /// Registered nodes and in-flight NodeClaims (without a node yet) that can take pods: not being deleted, not marked
    /// for deletion, not cordoned. In-flight NodeClaims offer only what they were sized for beyond their planned pods.
    /// </summary>
    public IReadOnlyList<ExistingNode> ExistingNodes()
    {
        lock (_lock)
        {
            var result = new List<ExistingNode>();
            foreach (var node in _nodes.Values)
            {
                var name = node.Metadata.Name;
                if (node.Metadata.DeletionTimestamp is not null || node.Spec?.Unschedulable == true || _markedForDeletion.Contains(name))
                {
                    continue;
                }

                var claim = _nodeClaims.Values.FirstOrDefault(c => c.NodeName == name);
                if (claim is not null && (claim.Deleting || _markedForDeletion.Contains(claim.Name)))
                {
                    continue;
                }

                var requested = default(Resources);
                foreach (var key in _podsByNode.GetValueOrDefault(name) ?? [])
                {
                    if (_pods.TryGetValue(key, out var pod) && !IsTerminal(pod))
                    {
                        requested += PodResources.Requests(pod);
                    }
                }

                var labels = new Dictionary<string, string>(node.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
                labels.TryAdd(Labels.Hostname, name);
                result.Add(new ExistingNode
                {
                    Name = name,
                    Requirements = Requirements.FromLabels(labels),
                    Taints = [.. (node.Spec?.Taints ?? []).Where(t => t.Key != Taints.UnregisteredKey)],
                    Allocatable = Resources.FromList(node.Status?.Allocatable),
                    Requested = requested,
                    HostPortsInUse = [.. (_podsByNode.GetValueOrDefault(name) ?? []).Where(_pods.ContainsKey).SelectMany(k => HostPort.Of(_pods[k]))],
                    NodePoolName = labels.TryGetValue(Labels.NodePool, out var poolName) ? poolName : null,
                });
            }

            foreach (var claim in _nodeClaims.Values)
            {
                if (claim.NodeName is not null && _nodes.ContainsKey(claim.NodeName))
                {
                    continue;
                }

                if (claim.Deleting || _markedForDeletion.Contains(claim.Name))
                {
                    continue;
                }

                result.Add(new ExistingNode
                {
                    Name = claim.Name,
                    Requirements = claim.Requirements.Clone().Add(Requirement.In(Labels.Hostname, claim.Name)),
                    Taints = claim.Taints,
                    Allocatable = claim.Allocatable.IsZero ? claim.Requests : claim.Allocatable,
                    Requested = claim.Requests,
                    NodePoolName = claim.NodePoolName,
                    InFlight = true,
                });
            }

            return result;
        }
    }

    /// <summary>What a NodePool's nodes and NodeClaims already use, for its limits (capacity, and <c>nodes</c>).</summary>
    public Resources NodePoolUsage(string nodePool)
    {
        lock (_lock)
        {
            var usage = default(Resources);
            var count = 0;
            foreach (var claim in _nodeClaims.Values.Where(c => c.NodePoolName == nodePool))
            {
                usage += claim.Capacity.IsZero ? claim.Requests : claim.Capacity;
                count++;
            }

            foreach (var node in _nodes.Values)
            {
                if ((node.Metadata.Labels?.TryGetValue(Labels.NodePool, out var pool) == true && pool == nodePool) && !_nodeClaims.Values.Any(c => c.NodeName == node.Metadata.Name))
                {
                    usage += Resources.FromList(node.Status?.Capacity);
                    count++;
                }
            }

            return usage.With(ResourceNames.Nodes, count);
        }
    }

    /// <summary>
    /// Upstream's IsProvisionable: marked unschedulable by kube-scheduler, not bound, not being preempted into a node,
    /// not a DaemonSet or mirror pod, not finished.
    /// </summary>
    public static bool IsProvisionable(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (pod.Spec is null || !string.IsNullOrEmpty(pod.Spec.NodeName) || !string.IsNullOrEmpty(pod.Status?.NominatedNodeName) || IsTerminal(pod) ||
            pod.Metadata?.DeletionTimestamp is not null)
        {
            return false;
        }

        if (pod.Metadata?.OwnerReferences?.Any(o => o.Kind == "DaemonSet") == true || pod.Metadata?.Annotations?.ContainsKey("kubernetes.io/config.mirror") == true)
        {
            return false;
        }

        return pod.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable") == true;
    }

    private static bool IsTerminal(V1Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";

    private static string Key(V1Pod pod) => $"{pod.Metadata?.NamespaceProperty ?? "default"}/{pod.Metadata?.Name}";
}
