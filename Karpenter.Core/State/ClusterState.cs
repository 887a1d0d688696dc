using k8s.Models;
using Karpenter.Core.Lifecycle.Initialization;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.State;

/// <summary>
/// The in-memory view of the cluster the scheduler and disruption read: nodes, NodeClaims, pods (bound and pending),
/// DaemonSets, namespaces and volumes, fed by informers, plus what only Karpenter knows: which nodes are being deleted
/// and which pods were just nominated to capacity that is still coming up. Thread-safe; snapshots are copies.
/// </summary>
/// <remarks>
/// A nomination hides its pod from <see cref="PendingPods"/> and <see cref="ReschedulablePods"/> until it expires, and
/// reserves the pod's requests on its target in <see cref="ExistingNodes"/>, so a second batch neither launches for the
/// pod again nor gives its room to another pod. When it expires while the pod still waits, the room is released and the
/// pod is scheduled afresh (usually back onto the same capacity).
/// </remarks>
public sealed class ClusterState
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, V1Node> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _nodeByProviderId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StateNodeClaim> _nodeClaims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Resources> _claimOverhead = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1Pod> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _podsByNode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1DaemonSet> _daemonSets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IDictionary<string, string>> _namespaceLabels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1PersistentVolumeClaim> _claims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1PersistentVolume> _volumes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1StorageClass> _storageClasses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Nomination> _podNominations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _nodeNominations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _podFirstSeen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _podDecided = new(StringComparer.Ordinal);
    private readonly HashSet<string> _markedForDeletion = new(StringComparer.Ordinal);
    private readonly List<Func<bool>> _syncChecks = [];

    public ClusterState(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>
    /// Raised (outside the lock) when something may need new capacity: a provisionable pod appeared or changed, or a
    /// node or NodeClaim started being deleted (its pods need a new home). The provisioner's batcher listens to it.
    /// </summary>
    public event Action? CapacityNeeded;

    /// <summary>True once every source feeding the state has completed its first list (never while no source feeds it).</summary>
    public bool Synced
    {
        get
        {
            lock (_lock)
            {
                return _syncChecks.Count > 0 && _syncChecks.All(c => c());
            }
        }
    }

    /// <summary>How many nodes the state holds.</summary>
    public int NodeCount
    {
        get
        {
            lock (_lock)
            {
                return _nodes.Count;
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
        ArgumentNullException.ThrowIfNull(node);
        bool startedDeleting;
        lock (_lock)
        {
            var name = node.Metadata.Name;
            _nodes.TryGetValue(name, out var old);
            if (old?.Spec?.ProviderID is { Length: > 0 } oldId && oldId != node.Spec?.ProviderID)
            {
                _nodeByProviderId.Remove(oldId);
            }

            if (node.Spec?.ProviderID is { Length: > 0 } id)
            {
                _nodeByProviderId[id] = name;
            }

            _nodes[name] = node;
            startedDeleting = node.Metadata.DeletionTimestamp is not null && old?.Metadata.DeletionTimestamp is null;
        }

        if (startedDeleting)
        {
            CapacityNeeded?.Invoke();
        }
    }

    public void DeleteNode(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        lock (_lock)
        {
            _nodes.Remove(node.Metadata.Name);
            if (node.Spec?.ProviderID is { Length: > 0 } id && _nodeByProviderId.TryGetValue(id, out var name) && name == node.Metadata.Name)
            {
                _nodeByProviderId.Remove(id);
            }

            _markedForDeletion.Remove(node.Metadata.Name);
            _nodeNominations.Remove(node.Metadata.Name);
        }
    }

    public void UpdateNodeClaim(StateNodeClaim nodeClaim)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        bool startedDeleting;
        lock (_lock)
        {
            startedDeleting = nodeClaim.Deleting && !(_nodeClaims.TryGetValue(nodeClaim.Name, out var old) && old.Deleting);
            _nodeClaims[nodeClaim.Name] = nodeClaim;
        }

        if (startedDeleting)
        {
            CapacityNeeded?.Invoke();
        }
    }

    public void DeleteNodeClaim(string name)
    {
        lock (_lock)
        {
            _nodeClaims.Remove(name);
            _claimOverhead.Remove(name);
            _markedForDeletion.Remove(name);
            _nodeNominations.Remove(name);
        }
    }

    /// <summary>
    /// Records a NodeClaim this process just created, before its informer reports it (so the next batch and the
    /// NodePool limits see it at once), and nominates <paramref name="pods"/> to it until <paramref name="nominateUntil"/>.
    /// The claim's requests beyond its pods' (its DaemonSet overhead) are remembered, so that a pod whose nomination
    /// expires can be placed back onto it.
    /// </summary>
    public void AddCreatedNodeClaim(StateNodeClaim nodeClaim, IReadOnlyList<V1Pod> pods, DateTimeOffset nominateUntil)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        ArgumentNullException.ThrowIfNull(pods);
        var podRequests = default(Resources);
        foreach (var pod in pods)
        {
            podRequests += PodResources.Requests(pod);
        }

        lock (_lock)
        {
            if (!_nodeClaims.ContainsKey(nodeClaim.Name))
            {
                _nodeClaims[nodeClaim.Name] = nodeClaim;
            }

            var overhead = nodeClaim.Requests - podRequests;
            _claimOverhead[nodeClaim.Name] = overhead.AnyNegative ? default : overhead;
        }

        Nominate(nodeClaim.Name, pods, nominateUntil);
    }

    public void UpdatePod(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        bool pending;
        lock (_lock)
        {
            var key = Key(pod);
            var oldNode = _pods.TryGetValue(key, out var old) ? old.Spec?.NodeName : null;
            var node = pod.Spec?.NodeName;
            if (!string.IsNullOrEmpty(oldNode) && oldNode != node && _podsByNode.TryGetValue(oldNode, out var oldSet))
            {
                oldSet.Remove(key);
            }

            _pods[key] = pod;
            if (!string.IsNullOrEmpty(node))
            {
                (_podsByNode.TryGetValue(node, out var set) ? set : _podsByNode[node] = new HashSet<string>(StringComparer.Ordinal)).Add(key);
                if (oldNode != node)
                {
                    // Bound (or moved): whatever it was nominated to no longer matters.
                    _podNominations.Remove(key);
                }

                _podFirstSeen.Remove(key);
                _podDecided.Remove(key);
            }

            pending = IsProvisionable(pod);
            if (pending)
            {
                _podFirstSeen.TryAdd(key, _time.GetUtcNow());
            }
        }

        if (pending)
        {
            CapacityNeeded?.Invoke();
        }
    }

    public void DeletePod(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (_lock)
        {
            var key = Key(pod);
            if (_pods.Remove(key, out var old) && old.Spec?.NodeName is { Length: > 0 } node && _podsByNode.TryGetValue(node, out var set))
            {
                set.Remove(key);
            }

            _podNominations.Remove(key);
            _podFirstSeen.Remove(key);
            _podDecided.Remove(key);
        }
    }

    public void UpdateDaemonSet(V1DaemonSet daemonSet)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        lock (_lock)
        {
            _daemonSets[$"{daemonSet.Metadata.NamespaceProperty}/{daemonSet.Metadata.Name}"] = daemonSet;
        }
    }

    public void DeleteDaemonSet(V1DaemonSet daemonSet)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        lock (_lock)
        {
            _daemonSets.Remove($"{daemonSet.Metadata.NamespaceProperty}/{daemonSet.Metadata.Name}");
        }
    }

    public void UpdateNamespace(V1Namespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        lock (_lock)
        {
            _namespaceLabels[ns.Metadata.Name] = new Dictionary<string, string>(ns.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        }
    }

    public void DeleteNamespace(V1Namespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        lock (_lock)
        {
            _namespaceLabels.Remove(ns.Metadata.Name);
        }
    }

    public void UpdateVolumeClaim(V1PersistentVolumeClaim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        lock (_lock)
        {
            _claims[$"{claim.Metadata.NamespaceProperty}/{claim.Metadata.Name}"] = claim;
        }
    }

    public void DeleteVolumeClaim(V1PersistentVolumeClaim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        lock (_lock)
        {
            _claims.Remove($"{claim.Metadata.NamespaceProperty}/{claim.Metadata.Name}");
        }
    }

    public void UpdateVolume(V1PersistentVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        lock (_lock)
        {
            _volumes[volume.Metadata.Name] = volume;
        }
    }

    public void DeleteVolume(V1PersistentVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        lock (_lock)
        {
            _volumes.Remove(volume.Metadata.Name);
        }
    }

    public void UpdateStorageClass(V1StorageClass storageClass)
    {
        ArgumentNullException.ThrowIfNull(storageClass);
        lock (_lock)
        {
            _storageClasses[storageClass.Metadata.Name] = storageClass;
        }
    }

    public void DeleteStorageClass(V1StorageClass storageClass)
    {
        ArgumentNullException.ThrowIfNull(storageClass);
        lock (_lock)
        {
            _storageClasses.Remove(storageClass.Metadata.Name);
        }
    }

    // ------------------------------------------------------------------ Karpenter's own marks

    /// <summary>
    /// Marks nodes or NodeClaims as being disrupted: the scheduler no longer places pods on them, and their pods count
    /// as needing a new home (<see cref="ReschedulablePods"/>) unless nominated elsewhere.
    /// </summary>
    public void MarkForDeletion(params IEnumerable<string> names)
    {
        bool added;
        lock (_lock)
        {
            var before = _markedForDeletion.Count;
            _markedForDeletion.UnionWith(names);
            added = _markedForDeletion.Count > before;
        }

        if (added)
        {
            CapacityNeeded?.Invoke();
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
    /// they are not pending meanwhile (a second batch does not launch for them), their requests are reserved on it, and
    /// it is not a disruption candidate.
    /// </summary>
    public void Nominate(string nodeOrClaim, IEnumerable<V1Pod> pods, DateTimeOffset until)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeOrClaim);
        ArgumentNullException.ThrowIfNull(pods);
        var requests = pods.Select(p => (Key: Key(p), Requests: PodResources.Requests(p))).ToList();
        lock (_lock)
        {
            _nodeNominations[nodeOrClaim] = _nodeNominations.TryGetValue(nodeOrClaim, out var current) && current > until ? current : until;
            foreach (var (key, request) in requests)
            {
                _podNominations[key] = new Nomination(nodeOrClaim, until, request);
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

    /// <summary>The node or NodeClaim <paramref name="pod"/> is nominated to, while the nomination lasts.</summary>
    public string? NominatedTo(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (_lock)
        {
            return _podNominations.TryGetValue(Key(pod), out var n) && n.Until > _time.GetUtcNow() ? n.Target : null;
        }
    }

    /// <summary>
    /// Notes that the scheduler decided about <paramref name="pods"/> (placed or reported unschedulable) and returns, for
    /// each pod decided for the first time since it became pending, how long it had waited
    /// (<c>karpenter_pods_scheduling_decision_duration_seconds</c>).
    /// </summary>
    public IReadOnlyList<TimeSpan> RecordSchedulingDecisions(IEnumerable<V1Pod> pods)
    {
        ArgumentNullException.ThrowIfNull(pods);
        var now = _time.GetUtcNow();
        var waits = new List<TimeSpan>();
        lock (_lock)
        {
            foreach (var pod in pods)
            {
                var key = Key(pod);
                if (_podFirstSeen.TryGetValue(key, out var seen) && _podDecided.Add(key))
                {
                    waits.Add(now - seen);
                }
            }
        }

        return waits;
    }

    // ------------------------------------------------------------------ snapshots

    /// <summary>Pods that need new capacity (upstream's IsProvisionable), minus those nominated to capacity on its way.</summary>
    public IReadOnlyList<V1Pod> PendingPods()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            return [.. _pods.Where(kv => IsProvisionable(kv.Value) && !IsNominatedLocked(kv.Key, now)).Select(kv => kv.Value)];
        }
    }

    /// <summary>
    /// Pods of nodes being deleted (deletion timestamp on the node or its NodeClaim, or marked for deletion) that need a
    /// new home (upstream's IsReschedulable), minus those nominated elsewhere.
    /// </summary>
    public IReadOnlyList<V1Pod> ReschedulablePods()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var claims = ClaimIndex();
            var result = new List<V1Pod>();
            foreach (var node in _nodes.Values)
            {
                var claim = ClaimOf(node, claims);
                var deleting = node.Metadata.DeletionTimestamp is not null || _markedForDeletion.Contains(node.Metadata.Name) ||
                    (claim is not null && (claim.Deleting || _markedForDeletion.Contains(claim.Name)));
                if (!deleting || !_podsByNode.TryGetValue(node.Metadata.Name, out var keys))
                {
                    continue;
                }

                foreach (var key in keys)
                {
                    if (_pods.TryGetValue(key, out var pod) && IsReschedulable(pod) && !IsNominatedLocked(key, now))
                    {
                        result.Add(pod);
                    }
                }
            }

            return result;
        }
    }

    /// <summary>
    /// How many provisionable pods wait without a nomination, and when the earliest nomination of a pod that still
    /// waits (pending, or on a node being deleted) expires: when the provisioner should look again.
    /// </summary>
    public (int Waiting, DateTimeOffset? NextNominationExpiry) PendingPodsSummary()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var waiting = 0;
            foreach (var (key, pod) in _pods)
            {
                if (IsProvisionable(pod) && !IsNominatedLocked(key, now))
                {
                    waiting++;
                }
            }

            DateTimeOffset? next = null;
            foreach (var (key, nomination) in _podNominations)
            {
                if (nomination.Until > now && _pods.TryGetValue(key, out var pod) && (IsProvisionable(pod) || pod.Spec?.NodeName is { Length: > 0 }) &&
                    (next is null || nomination.Until < next))
                {
                    next = nomination.Until;
                }
            }

            return (waiting, next);
        }
    }

    /// <summary>
    /// Where each of <paramref name="pods"/> was last nominated, expired or not, while it has not been bound, by
    /// <see cref="SchedulingInput.PodKey"/>: the name its target has in <see cref="ExistingNodes"/> (a NodeClaim's node
    /// once it has registered). The scheduler tries it first (<see cref="SchedulingInput.PreferredNodes"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string> LastNominations(IEnumerable<V1Pod> pods)
    {
        ArgumentNullException.ThrowIfNull(pods);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var pod in pods)
            {
                var key = Key(pod);
                if (_podNominations.TryGetValue(key, out var nomination))
                {
                    result[key] = _nodeClaims.TryGetValue(nomination.Target, out var claim) ? NodeNameOf(claim) ?? claim.Name : nomination.Target;
                }
            }
        }

        return result;
    }

    /// <summary>Pods bound to nodes (for topology and resource accounting).</summary>
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

    /// <summary>Namespace labels by namespace name, for pod-affinity namespace selectors.</summary>
    public IReadOnlyDictionary<string, IDictionary<string, string>> NamespaceLabels()
    {
        lock (_lock)
        {
            return new Dictionary<string, IDictionary<string, string>>(_namespaceLabels, StringComparer.Ordinal);
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

    /// <summary>Every NodeClaim the state knows (in-flight and registered).</summary>
    public IReadOnlyList<StateNodeClaim> NodeClaims()
    {
        lock (_lock)
        {
            return [.. _nodeClaims.Values];
        }
    }

    /// <summary>
    /// Registered nodes and in-flight NodeClaims (without a node yet) that can take pods: not being deleted, not marked
    /// for deletion, not cordoned, and not named in <paramref name="excluding"/> (node or NodeClaim names, e.g. the
    /// candidates a disruption simulation removes). Each carries what its bound pods and the pods nominated to it request.
    /// An in-flight NodeClaim that has not launched offers exactly what it was sized for.
    /// </summary>
    public IReadOnlyList<ExistingNode> ExistingNodes(IReadOnlyCollection<string>? excluding = null)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var claims = ClaimIndex();
            var reserved = new Dictionary<string, Resources>(StringComparer.Ordinal);
            foreach (var nomination in _podNominations.Values)
            {
                if (nomination.Until > now)
                {
                    reserved[nomination.Target] = reserved.GetValueOrDefault(nomination.Target) + nomination.Requests;
                }
            }

            bool Excluded(string name) => _markedForDeletion.Contains(name) || (excluding?.Contains(name) ?? false);

            var result = new List<ExistingNode>();
            var claimsWithNodes = new HashSet<string>(StringComparer.Ordinal);
            foreach (var node in _nodes.Values)
            {
                var name = node.Metadata.Name;
                var claim = ClaimOf(node, claims);
                if (claim is not null)
                {
                    claimsWithNodes.Add(claim.Name);
                }

                if (node.Metadata.DeletionTimestamp is not null || node.Spec?.Unschedulable == true || Excluded(name) ||
                    (claim is not null && (claim.Deleting || Excluded(claim.Name))))
                {
                    continue;
                }

                var requested = reserved.GetValueOrDefault(name) + (claim is null ? default : reserved.GetValueOrDefault(claim.Name));
                var ports = new List<HostPort>();
                foreach (var key in _podsByNode.GetValueOrDefault(name) ?? [])
                {
                    if (_pods.TryGetValue(key, out var pod) && !IsTerminal(pod))
                    {
                        requested += PodResources.Requests(pod);
                        ports.AddRange(HostPort.Of(pod));
                    }
                }

                var labels = new Dictionary<string, string>(node.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
                labels.TryAdd(Labels.Hostname, name);
                var starting = claim is not null && !claim.Initialized && !labels.ContainsKey(Labels.NodeInitialized);
                var allocatable = Resources.FromList(node.Status?.Allocatable);
                result.Add(new ExistingNode
                {
                    Name = name,
                    Requirements = starting ? StartingNodeRequirements(claim!, labels) : Requirements.FromLabels(labels),
                    Taints = [.. (node.Spec?.Taints ?? []).Where(t => t.Key != Taints.UnregisteredKey && !(starting && IsStartingTaint(t, claim!)))],
                    Allocatable = starting && !claim!.Allocatable.IsZero && allocatable.IsZero ? claim.Allocatable : allocatable,
                    Requested = requested,
                    HostPortsInUse = ports,
                    NodePoolName = labels.TryGetValue(Labels.NodePool, out var poolName) ? poolName : null,
                });
            }

            foreach (var claim in _nodeClaims.Values)
            {
                if (claimsWithNodes.Contains(claim.Name) || claim.Deleting || Excluded(claim.Name))
                {
                    continue;
                }

                var baseline = _claimOverhead.TryGetValue(claim.Name, out var overhead) ? overhead : claim.Requests;
                result.Add(new ExistingNode
                {
                    Name = claim.Name,
                    Requirements = claim.Requirements.Clone().Add(Requirement.In(Labels.Hostname, claim.Name)),
                    Taints = claim.Taints,
                    Allocatable = claim.Allocatable.IsZero ? claim.Requests : claim.Allocatable,
                    Requested = baseline + reserved.GetValueOrDefault(claim.Name),
                    NodePoolName = claim.NodePoolName,
                    InFlight = true,
                });
            }

            return result;
        }
    }

    /// <summary>
    /// What a registered node that is still starting offers, as upstream's <c>StateNode.Labels</c> reads it: its
    /// NodeClaim's requirements and labels (the launched instance type, zone and capacity type, the template's labels),
    /// the node's own labels only for keys the NodeClaim leaves open. A node registers before its labels are synced
    /// from the NodeClaim (and the cloud's zone label comes later still): read from the node alone, it would fit every
    /// zone, and spread pods placed there would be counted in a domain they will not land in.
    /// </summary>
    private static Requirements StartingNodeRequirements(StateNodeClaim claim, Dictionary<string, string> nodeLabels)
    {
        var requirements = claim.Requirements.Clone();
        foreach (var (key, value) in nodeLabels)
        {
            if (key == Labels.Hostname || !requirements.Has(key))
            {
                requirements.Add(Requirement.In(key, value));
            }
        }

        return requirements;
    }

    /// <summary>
    /// A taint a managed node carries only while it starts (the known ephemeral taints initialization waits out, and the
    /// NodeClaim's startup taints): until the node is initialized the scheduler looks past them, as upstream's
    /// <c>StateNode.Taints</c>, so pods waiting for a registered but not yet ready node do not make the provisioner launch
    /// a second one for them.
    /// </summary>
    private static bool IsStartingTaint(V1Taint taint, StateNodeClaim claim) =>
        InitializationStep.IsKnownEphemeral(taint)
        || claim.StartupTaints.Any(s => s.Key == taint.Key && s.Effect == taint.Effect && (s.Value ?? string.Empty) == (taint.Value ?? string.Empty));

    /// <summary>
    /// What a NodePool's nodes and NodeClaims already use, for its limits (capacity, and <c>nodes</c>). A NodeClaim that
    /// has not launched yet counts as <paramref name="unlaunched"/> estimates it (e.g. the largest of its instance types,
    /// so limits hold whichever launches), else as its requests.
    /// </summary>
    public Resources NodePoolUsage(string nodePool, Func<StateNodeClaim, Resources?>? unlaunched = null)
    {
        lock (_lock)
        {
            var usage = default(Resources);
            var count = 0;
            var claimed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var claim in _nodeClaims.Values)
            {
                if (claim.NodeName is not null)
                {
                    claimed.Add(claim.NodeName);
                }

                if (claim.ProviderId is not null && _nodeByProviderId.TryGetValue(claim.ProviderId, out var nodeName))
                {
                    claimed.Add(nodeName);
                }

                if (claim.NodePoolName != nodePool)
                {
                    continue;
                }

                usage += !claim.Capacity.IsZero ? claim.Capacity : unlaunched?.Invoke(claim) ?? claim.Requests;
                count++;
            }

            foreach (var node in _nodes.Values)
            {
                if (node.Metadata.Labels?.TryGetValue(Labels.NodePool, out var pool) == true && pool == nodePool && !claimed.Contains(node.Metadata.Name))
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
    /// not a DaemonSet or mirror pod, not finished or being deleted.
    /// </summary>
    public static bool IsProvisionable(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (pod.Spec is null || !string.IsNullOrEmpty(pod.Spec.NodeName) || !string.IsNullOrEmpty(pod.Status?.NominatedNodeName) || IsTerminal(pod) ||
            pod.Metadata?.DeletionTimestamp is not null || IsOwnedByDaemonSetOrNode(pod))
        {
            return false;
        }

        return pod.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable") == true;
    }

    /// <summary>
    /// Upstream's IsReschedulable: a pod that must find a new node when its node goes (active, or a terminating
    /// StatefulSet pod that will be recreated with the same identity), excluding DaemonSet and mirror pods.
    /// </summary>
    public static bool IsReschedulable(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var terminating = pod.Metadata?.DeletionTimestamp is not null;
        var active = !IsTerminal(pod) && !terminating;
        var statefulSetTerminating = terminating && pod.Metadata?.OwnerReferences?.Any(o => o.Kind == "StatefulSet") == true;
        return (active || statefulSetTerminating) && !IsOwnedByDaemonSetOrNode(pod);
    }

    private static bool IsOwnedByDaemonSetOrNode(V1Pod pod) =>
        pod.Metadata?.OwnerReferences?.Any(o => o.Kind is "DaemonSet" or "Node") == true ||
        pod.Metadata?.Annotations?.ContainsKey("kubernetes.io/config.mirror") == true;

    private static bool IsTerminal(V1Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";

    private static string Key(V1Pod pod) => SchedulingInput.PodKey(pod);

    private bool IsNominatedLocked(string podKey, DateTimeOffset now) => _podNominations.TryGetValue(podKey, out var n) && n.Until > now;

    /// <summary>NodeClaims by the node they became (by status.nodeName, and by provider ID before that is written).</summary>
    private (Dictionary<string, StateNodeClaim> ByNodeName, Dictionary<string, StateNodeClaim> ByProviderId) ClaimIndex()
    {
        var byNode = new Dictionary<string, StateNodeClaim>(StringComparer.Ordinal);
        var byProvider = new Dictionary<string, StateNodeClaim>(StringComparer.Ordinal);
        foreach (var claim in _nodeClaims.Values)
        {
            if (claim.NodeName is not null)
            {
                byNode[claim.NodeName] = claim;
            }

            if (claim.ProviderId is not null)
            {
                byProvider[claim.ProviderId] = claim;
            }
        }

        return (byNode, byProvider);
    }

    /// <summary>The node <paramref name="claim"/> became, if it has registered (by status.nodeName, or by provider ID before that is written).</summary>
    private string? NodeNameOf(StateNodeClaim claim) =>
        claim.NodeName is { } name && _nodes.ContainsKey(name) ? name
        : claim.ProviderId is { } id && _nodeByProviderId.TryGetValue(id, out var byId) ? byId
        : null;

    private static StateNodeClaim? ClaimOf(V1Node node, (Dictionary<string, StateNodeClaim> ByNodeName, Dictionary<string, StateNodeClaim> ByProviderId) index) =>
        index.ByNodeName.TryGetValue(node.Metadata.Name, out var claim) ? claim
        : node.Spec?.ProviderID is { Length: > 0 } id && index.ByProviderId.TryGetValue(id, out claim) ? claim
        : null;

    private readonly record struct Nomination(string Target, DateTimeOffset Until, Resources Requests);
}
