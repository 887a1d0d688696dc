using k8s.Models;
using Karpenter.Core.GarbageCollection;
using Karpenter.Core.Lifecycle.Drift;
using Karpenter.Core.Lifecycle.Expiration;
using Karpenter.Core.Lifecycle.Initialization;
using Karpenter.Core.Lifecycle.Launch;
using Karpenter.Core.Lifecycle.Liveness;
using Karpenter.Core.Lifecycle.Registration;
using Karpenter.Core.Metrics;
using Karpenter.Core.NodePools;
using Karpenter.Core.Termination;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Hosting;
using Karpenter.Kube.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Karpenter.Core.Lifecycle;

/// <summary>Registers the NodeClaim lifecycle, node termination and their helpers on an operator.</summary>
public static class LifecycleOperatorBuilderExtensions
{
    /// <summary>Concurrent reconciles of <c>nodeclaim.lifecycle</c>: launches wait on the cloud, so many run at once.</summary>
    public const int LifecycleWorkers = 100;

    /// <summary>Concurrent evictions (upstream runs 100 to 5000 eviction workers).</summary>
    public const int EvictionWorkers = 100;

    /// <summary>
    /// Adds <c>nodeclaim.lifecycle</c> (launch, registration, initialization, liveness and the NodeClaim finalizer),
    /// <c>nodeclaim.expiration</c>, <c>nodeclaim.disruption</c> (drift), <c>node.termination</c> (the Node finalizer:
    /// taint, drain, volumes, instance), <c>node.termination.eviction</c> (the eviction queue) and
    /// <c>nodeclaim.garbagecollection</c> (leaked instances, NodeClaims whose instance is gone). Idempotent: calling it
    /// twice registers them once. Needs an <see cref="CloudProvider.ICloudProvider"/> registered by the provider.
    /// </summary>
    public static KubeOperatorBuilder AddNodeClaimLifecycle(this KubeOperatorBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(LifecycleRegistered)))
        {
            return builder;
        }

        services.AddSingleton<LifecycleRegistered>();
        services.TryAddSingleton<ClusterIndexes>();
        services.TryAddSingleton<LifecycleMetrics>();
        services.TryAddSingleton<LaunchCache>();
        services.TryAddSingleton<InheritedLaunches>();
        services.TryAddSingleton<LaunchStep>();
        services.TryAddSingleton<RegistrationStep>();
        services.TryAddSingleton<InitializationStep>();
        services.TryAddSingleton<NodePoolRegistrationHealth>();
        services.TryAddSingleton<LivenessStep>();
        services.TryAddSingleton<InstanceTermination>();
        services.TryAddSingleton<NodeClaimTermination>();
        services.TryAddSingleton<Terminator>();

        builder.AddController<NodeClaim, NodeClaimLifecycleController>(NodeClaimLifecycleController.Name, c => c
            .WithWorkers(LifecycleWorkers)
            // Upstream: 1 s..1 min per NodeClaim (the last retry lands well before the launch timeout), 10/s burst 100 overall.
            .WithRateLimiter(time => RateLimiters.Exponential<ObjectKey>(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 10, 100, time))
            .Watches<V1Node>(NodeToNodeClaims)
            .WaitsFor<NodePool>());
        builder.AddController<NodeClaim, ExpirationController>(ExpirationController.Name, c => c.WithWorkers(10));
        builder.AddController<NodeClaim, DriftController>(DriftController.Name, c => c
            .WithWorkers(10)
            .Watches<NodePool>(NodePoolToNodeClaims));
        builder.AddController<V1Node, NodeTerminationController>(NodeTerminationController.Name, c => c
            .WithWorkers(100)
            .Watches<NodeClaim>(NodeClaimToNodes)
            .Watches<V1Pod>(PodToTerminatingNode));
        builder.AddController<V1Pod, EvictionController>(EvictionController.Name, c => c
            .WithWorkers(EvictionWorkers)
            // Upstream's eviction queue: 100 ms..10 s per pod; the overall bucket keeps a large drain from flooding the API server.
            .WithRateLimiter(time => RateLimiters.Exponential<ObjectKey>(EvictionController.MinBackoff, EvictionController.MaxBackoff, 100, 1000, time))
            // A pod is evicted when Terminator enqueues it; its own changes matter only while its node terminates.
            .WithUpdateFilter((_, pod) => pod.Metadata.DeletionTimestamp is null && !string.IsNullOrEmpty(pod.Spec?.NodeName))
            .WaitsFor<V1Node>());
        builder.AddSingletonController<NodeClaimGarbageCollector>(NodeClaimGarbageCollector.Name, c => c
            .WaitsFor<NodeClaim>()
            .WaitsFor<V1Node>());
        return builder;
    }

    private static Func<V1Node, IEnumerable<ObjectKey>> NodeToNodeClaims(IServiceProvider services) =>
        services.GetRequiredService<ClusterIndexes>().NodeClaimKeysForNode;

    private static Func<NodePool, IEnumerable<ObjectKey>> NodePoolToNodeClaims(IServiceProvider services)
    {
        var indexes = services.GetRequiredService<ClusterIndexes>();
        return pool => indexes.NodeClaimsOfNodePool(pool.Metadata.Name).Select(ObjectKey.Of);
    }

    private static Func<NodeClaim, IEnumerable<ObjectKey>> NodeClaimToNodes(IServiceProvider services)
    {
        var indexes = services.GetRequiredService<ClusterIndexes>();
        return nodeClaim => indexes.NodesForProviderId(nodeClaim.Status?.ProviderId).Select(ObjectKey.Of);
    }

    /// <summary>A pod's change on a terminating node (evicted, gone) lets the drain move on without waiting for its poll.</summary>
    private static Func<V1Pod, IEnumerable<ObjectKey>> PodToTerminatingNode(IServiceProvider services)
    {
        var indexes = services.GetRequiredService<ClusterIndexes>();
        return pod => pod.Spec?.NodeName is { Length: > 0 } name &&
            indexes.Nodes.Get(ObjectKey.Cluster(name)) is { Metadata.DeletionTimestamp: not null }
                ? [ObjectKey.Cluster(name)]
                : [];
    }

    /// <summary>Marks that <see cref="AddNodeClaimLifecycle"/> ran.</summary>
    private sealed class LifecycleRegistered;
}
