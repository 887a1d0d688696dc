using k8s;
using k8s.Models;
using Karpenter.Core.Disruption;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Metrics;
using Karpenter.Core.NodePools;
using Karpenter.Core.Provisioning;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Karpenter.Kube.Hosting;
using Karpenter.Kube.Informers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Karpenter.Core;

/// <summary>The composition root of Karpenter.Core: the one place its services are registered.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the cluster state, the scheduler and the provisioning batcher with its validated settings
    /// (bind <see cref="BatchingOptions"/> from configuration to set <c>BATCH_IDLE_DURATION</c> and <c>BATCH_MAX_DURATION</c>),
    /// the provisioner, cluster-state feed and NodePool controllers (<see cref="ProvisioningOperatorBuilderExtensions.AddProvisioning"/>),
    /// the NodeClaim lifecycle, node termination and garbage collection controllers (<see cref="LifecycleOperatorBuilderExtensions.AddNodeClaimLifecycle"/>),
    /// the NodePool hash and counter controllers (<see cref="NodePoolOperatorBuilderExtensions.AddNodePoolControllers"/>)
    /// the disruption controllers (<see cref="DisruptionRegistration.AddDisruptionControllers"/>) and the state gauges
    /// (<see cref="ClusterMetrics"/>).
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

        // ---- Provisioning, cluster state and NodePools (Provisioning/, State/, NodePools/)
        services.AddKubeOperator().AddProvisioning();

        // ---- NodeClaim lifecycle and termination (Lifecycle/, Termination/)
        services.AddKubeOperator().AddNodeClaimLifecycle().AddNodePoolControllers();

        // ---- Disruption (Disruption/)
        services.AddKubeOperator().AddDisruptionControllers();

        // ---- Node, NodePool, pod and cluster gauges read from the shared informers (Metrics/)
        services.TryAddSingleton<ClusterIndexes>();
        services.TryAddSingleton<ClusterMetrics>();
        services.AddHostedService<ClusterMetricsHost>();
        return services;
    }

    /// <summary>
    /// Registers the cloud provider's NodeClass kind (e.g. EC2NodeClass), read through <paramref name="readyCondition"/>:
    /// launches refuse NodeClaims whose NodeClass is gone or not ready, and <c>nodepool.readiness</c> mirrors its readiness
    /// onto the NodePools that reference it.
    /// </summary>
    public static IServiceCollection AddKarpenterNodeClass<TNodeClass>(this IServiceCollection services, Func<TNodeClass, V1Condition?> readyCondition)
        where TNodeClass : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(readyCondition);
        services.TryAddSingleton<INodeClassReadiness>(sp => new NodeClassReadiness<TNodeClass>(sp.GetRequiredService<InformerFactory>(), readyCondition));
        services.AddKubeOperator().AddNodePoolReadiness<TNodeClass>();
        return services;
    }
}
