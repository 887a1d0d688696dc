using k8s;
using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Lifecycle.Drift;
using Karpenter.Core.Lifecycle.Expiration;
using Karpenter.Core.Lifecycle.Initialization;
using Karpenter.Core.Lifecycle.Launch;
using Karpenter.Core.Lifecycle.Liveness;
using Karpenter.Core.Lifecycle.Registration;
using Karpenter.Core.Metrics;
using Karpenter.Core.NodePools;
using Karpenter.Core.Provisioning;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Karpenter.Core.Termination;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Hosting;
using Karpenter.Kube.Informers;
using Karpenter.Kube.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Karpenter.Core;

/// <summary>The composition root of Karpenter.Core: the one place its services are registered.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>Concurrent reconciles of <c>nodeclaim.lifecycle</c>: launches wait on the cloud, so many run at once.</summary>
    public const int LifecycleWorkers = 100;

    /// <summary>
    /// Registers the cluster state, the scheduler and the provisioning batcher with its validated settings
    /// (bind <see cref="BatchingOptions"/> from configuration to set <c>BATCH_IDLE_DURATION</c> and <c>BATCH_MAX_DURATION</c>),
    /// and the NodeClaim controllers (<c>nodeclaim.lifecycle</c>, <c>nodeclaim.expiration</c>, <c>nodeclaim.disruption</c>).
    /// The cloud provider (<see cref="CloudProvider.ICloudProvider"/>) is registered by the provider's own root, and its
    /// NodeClass kind by <see cref="AddKarpenterNodeClass{TNodeClass}"/>.
    /// </summary>
    public static IServiceCollection AddKarpenterCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<BatchingOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BatchingOptions>, BatchingOptionsValidator>());
        services.TryAddSingleton<ClusterState>();
        services.TryAddSingleton<Scheduler>();
        services.TryAddSingleton<Batcher>();

        // ---- NodeClaim lifecycle (Lifecycle/, Termination/)
        services.TryAddSingleton<ClusterIndexes>();
        services.TryAddSingleton<LifecycleMetrics>();
        services.TryAddSingleton<LaunchCache>();
        services.TryAddSingleton<InheritedLaunches>();
        services.TryAddSingleton<LaunchStep>();
        services.TryAddSingleton<RegistrationStep>();
        services.TryAddSingleton<InitializationStep>();
        services.TryAddSingleton<LivenessStep>();
        services.TryAddSingleton<NodeClaimTermination>();
        var controllers = services.AddKubeOperator();
        controllers.AddController<NodeClaim, NodeClaimLifecycleController>(NodeClaimLifecycleController.Name, c => c
            .WithWorkers(LifecycleWorkers)
            // Upstream: 1 s..1 min per NodeClaim (the last retry lands well before the launch timeout), 10/s burst 100 overall.
            .WithRateLimiter(time => RateLimiters.Exponential<ObjectKey>(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 10, 100, time))
            .Watches<V1Node>(NodeToNodeClaims)
            .WaitsFor<NodePool>());
        controllers.AddController<NodeClaim, ExpirationController>(ExpirationController.Name, c => c.WithWorkers(10));
        controllers.AddController<NodeClaim, DriftController>(DriftController.Name, c => c
            .WithWorkers(10)
            .Watches<NodePool>(NodePoolToNodeClaims));
        return services;
    }

    /// <summary>
    /// Registers the cloud provider's NodeClass kind (e.g. EC2NodeClass), read through <paramref name="readyCondition"/>:
    /// launches refuse NodeClaims whose NodeClass is gone or not ready.
    /// </summary>
    public static IServiceCollection AddKarpenterNodeClass<TNodeClass>(this IServiceCollection services, Func<TNodeClass, V1Condition?> readyCondition)
        where TNodeClass : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(readyCondition);
        services.TryAddSingleton<INodeClassReadiness>(sp => new NodeClassReadiness<TNodeClass>(sp.GetRequiredService<InformerFactory>(), readyCondition));
        return services;
    }

    private static Func<V1Node, IEnumerable<ObjectKey>> NodeToNodeClaims(IServiceProvider services) =>
        services.GetRequiredService<ClusterIndexes>().NodeClaimKeysForNode;

    private static Func<NodePool, IEnumerable<ObjectKey>> NodePoolToNodeClaims(IServiceProvider services)
    {
        var indexes = services.GetRequiredService<ClusterIndexes>();
        return pool => indexes.NodeClaimsOfNodePool(pool.Metadata.Name).Select(ObjectKey.Of);
    }
}
