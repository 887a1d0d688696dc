using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Lifecycle.Launch;
using Karpenter.Core.Metrics;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.GarbageCollection;

/// <summary>
/// <c>nodeclaim.garbagecollection</c>, the safety net behind the lifecycle (upstream's core and AWS controllers of that
/// name, as one singleton):
/// <list type="bullet">
/// <item>an instance the cloud provider lists for this cluster that no NodeClaim records, older than
/// <see cref="MinInstanceAge"/>, is terminated (with its Node, if a kubelet registered one): a launch interrupted by a
/// crash, or a NodeClaim removed by hand. An instance tagged with the name of a NodeClaim that has no provider ID yet is
/// left to that NodeClaim's launch, which adopts it;</item>
/// <item>a NodeClaim whose instance the cloud provider no longer has (not listed, and <see cref="ICloudProvider.GetAsync"/>
/// says not found) is deleted with a <c>GarbageCollected</c> event, unless its Node is still Ready (the kubelet runs,
/// so the provider's answer is not trusted yet, as upstream).</item>
/// </list>
/// It runs every <see cref="FastPeriod"/> for its first <see cref="FastRuns"/> successful passes (recovering quickly
/// after a restart), then every <see cref="Period"/>.
/// </summary>
/// <remarks>A singleton controller has one worker: the first-seen times below are never touched concurrently.</remarks>
public sealed class NodeClaimGarbageCollector(
    IKubeClient client,
    ICloudProvider cloudProvider,
    ClusterIndexes indexes,
    IEventRecorder events,
    LifecycleMetrics metrics,
    TimeProvider time,
    ILogger<NodeClaimGarbageCollector> logger) : ISingletonReconciler
{
    public const string Name = "nodeclaim.garbagecollection";

    /// <summary>An unrecorded instance younger than this may be a launch whose status write is in flight (upstream: 30 s).</summary>
    public static readonly TimeSpan MinInstanceAge = TimeSpan.FromSeconds(30);

    /// <summary>The steady period (upstream: 2 min).</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(2);

    /// <summary>The period of the first <see cref="FastRuns"/> passes (upstream AWS: 10 s for 20 runs).</summary>
    public static readonly TimeSpan FastPeriod = TimeSpan.FromSeconds(10);

    public const int FastRuns = 20;

    private readonly Dictionary<string, DateTimeOffset> _firstSeen = new(StringComparer.Ordinal);
    private int _runs;

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        var machines = await cloudProvider.ListAsync(cancellationToken);
        var nodeClaims = indexes.NodeClaims.List();
        var now = time.GetUtcNow();

        await CollectInstancesAsync(machines, nodeClaims, now, cancellationToken);
        await CollectNodeClaimsAsync(machines, nodeClaims, cancellationToken);

        _runs++;
        return ReconcileResult.After(_runs < FastRuns ? FastPeriod : Period);
    }

    private async Task CollectInstancesAsync(IReadOnlyList<NodeClaim> machines, IReadOnlyList<NodeClaim> nodeClaims, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var recorded = nodeClaims.Select(c => c.Status?.ProviderId).Where(id => !string.IsNullOrEmpty(id)).ToHashSet(StringComparer.Ordinal);
        var awaitingLaunch = nodeClaims.Where(c => string.IsNullOrEmpty(c.Status?.ProviderId)).Select(c => c.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var machine in machines)
        {
            if (machine.Status?.ProviderId is not { Length: > 0 } providerId)
            {
                continue;
            }

            listed.Add(providerId);
            if (machine.Metadata?.DeletionTimestamp is not null || recorded.Contains(providerId) ||
                (InheritedLaunches.OwnerName(machine) is { } owner && awaitingLaunch.Contains(owner)))
            {
                _firstSeen.Remove(providerId);
                continue;
            }

            if (now - LaunchedAt(machine, providerId, now) < MinInstanceAge)
            {
                continue;
            }

            try
            {
                await cloudProvider.DeleteAsync(machine, cancellationToken);
            }
            catch (NodeClaimNotFoundException)
            {
            }

            _firstSeen.Remove(providerId);
            var launchedFor = InheritedLaunches.OwnerName(machine);
            logger.InstanceCollected(providerId, launchedFor);
            foreach (var node in indexes.NodesForProviderId(providerId).Where(n => n.Metadata.DeletionTimestamp is null))
            {
                await client.DeleteIfExistsAsync<V1Node>(node.Metadata.Name, null, KubeClientExtensions.Preconditions(node.Metadata.Uid), cancellationToken);
            }
        }

        // Forget instances that are gone.
        foreach (var id in _firstSeen.Keys.Where(id => !listed.Contains(id)).ToList())
        {
            _firstSeen.Remove(id);
        }
    }

    private async Task CollectNodeClaimsAsync(IReadOnlyList<NodeClaim> machines, IReadOnlyList<NodeClaim> nodeClaims, CancellationToken cancellationToken)
    {
        var listed = machines.Select(m => m.Status?.ProviderId).Where(id => !string.IsNullOrEmpty(id)).ToHashSet(StringComparer.Ordinal);
        foreach (var nodeClaim in nodeClaims)
        {
            if (nodeClaim.Metadata.DeletionTimestamp is not null ||
                nodeClaim.Status?.ProviderId is not { Length: > 0 } providerId ||
                listed.Contains(providerId) ||
                !NodeClaims.IsManaged(nodeClaim, cloudProvider) ||
                indexes.NodesForProviderId(providerId).Any(NodeClaims.IsNodeReady))
            {
                continue;
            }

            // Launched after the list was taken, or a listing gap: ask for this one instance before acting.
            try
            {
                await cloudProvider.GetAsync(providerId, cancellationToken);
                continue;
            }
            catch (NodeClaimNotFoundException)
            {
            }

            var deleted = await client.DeleteIfExistsAsync<NodeClaim>(nodeClaim.Metadata.Name, null, KubeClientExtensions.Preconditions(nodeClaim.Metadata.Uid), cancellationToken);
            if (deleted)
            {
                logger.NodeClaimCollected(nodeClaim.Metadata.Name, providerId);
                events.Publish(new KubeEvent(nodeClaim, EventTypes.Normal, EventReasons.GarbageCollected,
                    $"Deleted the NodeClaim: its instance {providerId} no longer exists"));
                metrics.NodeClaimsDisrupted.Add(1, LifecycleMetrics.Disruption(DisruptionReasons.GarbageCollected, nodeClaim.NodePoolName, nodeClaim.Label(Labels.CapacityType)));
            }
        }
    }

    /// <summary>When the instance was launched: its creation time as the provider reports it, else when this process first saw it unrecorded.</summary>
    private DateTimeOffset LaunchedAt(NodeClaim machine, string providerId, DateTimeOffset now)
    {
        if (machine.Metadata?.CreationTimestamp is { } created)
        {
            return new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc));
        }

        if (!_firstSeen.TryGetValue(providerId, out var seen))
        {
            _firstSeen[providerId] = seen = now;
        }

        return seen;
    }
}
