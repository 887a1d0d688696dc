using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Provisioning;

/// <summary>
/// The NodePools that can launch capacity right now, as the scheduler sees them (ordered by weight), with the resources
/// they came from, and the others with the reason each cannot launch (for pods' events).
/// </summary>
public sealed class ProvisionableNodePools
{
    public static ProvisionableNodePools Empty { get; } = new([], new Dictionary<string, NodePool>(), new Dictionary<string, string>());

    public ProvisionableNodePools(IReadOnlyList<SchedulingNodePool> pools, IReadOnlyDictionary<string, NodePool> resources, IReadOnlyDictionary<string, string> skipped)
    {
        ArgumentNullException.ThrowIfNull(pools);
        ArgumentNullException.ThrowIfNull(resources);
        ArgumentNullException.ThrowIfNull(skipped);
        Pools = pools;
        Resources = resources;
        Skipped = skipped;
    }

    /// <summary>The scheduler's NodePools, highest weight first (then by name).</summary>
    public IReadOnlyList<SchedulingNodePool> Pools { get; }

    /// <summary>The NodePool resource behind each entry of <see cref="Pools"/>, by name (what NodeClaims are made from).</summary>
    public IReadOnlyDictionary<string, NodePool> Resources { get; }

    /// <summary>NodePools (dynamic ones) that cannot launch now, and why: not ready, being deleted, limits exhausted, no instance types.</summary>
    public IReadOnlyDictionary<string, string> Skipped { get; }
}

/// <summary>
/// Builds the scheduler's input from the cluster state, the NodePools and the cloud provider's instance types: the
/// adapters provisioning uses for every batch and disruption uses to simulate rescheduling a node's pods. Instance types
/// are fetched once per NodePool per call, concurrently (the provider caches them).
/// </summary>
public sealed partial class SchedulingInputs(ClusterState state, ICloudProvider cloudProvider, ILogger<SchedulingInputs> logger)
{
    /// <summary>Label keys Karpenter's nodes carry: the core ones and the cloud provider's.</summary>
    public IReadOnlySet<string> WellKnownLabels { get; } = new HashSet<string>(Scheduler.CoreWellKnownLabels.Concat(cloudProvider.WellKnownLabels), StringComparer.Ordinal);

    /// <summary>
    /// Resolves which of <paramref name="nodePools"/> can launch capacity now: Ready, not being deleted, not static,
    /// with valid requirements, instance types from the cloud provider and room under their limits (usage from their
    /// status and the cluster state, in-flight NodeClaims included). A failing NodePool is skipped with its reason; it
    /// never fails the others.
    /// </summary>
    public async Task<ProvisionableNodePools> ResolveNodePoolsAsync(IEnumerable<NodePool> nodePools, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodePools);
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        var candidates = new List<NodePool>();
        foreach (var pool in nodePools)
        {
            if (pool.IsStatic)
            {
                continue;
            }

            if (SchedulingNodePoolAdapter.NotProvisionableReason(pool) is { } reason)
            {
                skipped[pool.Metadata.Name] = reason;
                continue;
            }

            candidates.Add(pool);
        }

        var fetched = await Task.WhenAll(candidates.Select(async pool =>
        {
            try
            {
                return (Pool: pool, Types: await cloudProvider.GetInstanceTypesAsync(pool, cancellationToken), Error: (string?)null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                InstanceTypesFailed(e, pool.Metadata.Name);
                return (Pool: pool, Types: (IReadOnlyList<InstanceType>)[], Error: $"its instance types could not be resolved ({e.Message})");
            }
        }));

        var pools = new List<SchedulingNodePool>();
        var resources = new Dictionary<string, NodePool>(StringComparer.Ordinal);
        foreach (var (pool, types, fetchError) in fetched)
        {
            var name = pool.Metadata.Name;
            if (fetchError is not null)
            {
                skipped[name] = fetchError;
                continue;
            }

            var usage = SchedulingNodePoolAdapter.Usage(pool, state, types);
            if (SchedulingNodePoolAdapter.ToSchedulingNodePool(pool, types, usage, out var error) is not { } scheduling)
            {
                NodePoolSkipped(name, error!);
                skipped[name] = error!;
                continue;
            }

            pools.Add(scheduling);
            resources[name] = pool;
        }

        pools.Sort((a, b) => a.Weight != b.Weight ? b.Weight.CompareTo(a.Weight) : string.CompareOrdinal(a.Name, b.Name));
        return new ProvisionableNodePools(pools, resources, skipped);
    }

    /// <summary>
    /// One scheduling simulation's input: <paramref name="pods"/> against the cluster's existing nodes and in-flight
    /// NodeClaims (minus <paramref name="excludingNodes"/>, by node or NodeClaim name), its bound pods, DaemonSets,
    /// volumes and namespaces, and <paramref name="nodePools"/>; each pod tries first where it was last nominated.
    /// </summary>
    public SchedulingInput Build(IReadOnlyList<V1Pod> pods, ProvisionableNodePools nodePools, SchedulingOptions options, IReadOnlyCollection<string>? excludingNodes = null)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(nodePools);
        ArgumentNullException.ThrowIfNull(options);
        return new SchedulingInput
        {
            Pods = pods,
            NodePools = nodePools.Pools,
            ExistingNodes = state.ExistingNodes(excludingNodes),
            BoundPods = state.BoundPods(),
            DaemonSetPods = state.DaemonSetPods(),
            Volumes = state.Volumes(),
            NamespaceLabels = state.NamespaceLabels(),
            Options = options,
            PreferredNodes = state.LastNominations(pods),
        };
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "skipping NodePool {NodePool}: unable to resolve its instance types")]
    private partial void InstanceTypesFailed(Exception exception, string nodePool);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "skipping NodePool {NodePool}: {Reason}")]
    private partial void NodePoolSkipped(string nodePool, string reason);
}
