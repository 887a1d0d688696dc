using k8s;
using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.NodePools.Counter;
using Karpenter.Core.NodePools.Hash;
using Karpenter.Core.NodePools.Readiness;
using Karpenter.Entities.V1;
using Karpenter.Entities.Validation;
using Karpenter.Kube.Client;
using Karpenter.Kube.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Karpenter.Core.NodePools;

/// <summary>Registers the NodePool controllers.</summary>
public static class NodePoolOperatorBuilderExtensions
{
    /// <summary>
    /// Adds <c>nodepool.hash</c> and <c>nodepool.counter</c> (fed by the pool's NodeClaims and Nodes). Idempotent.
    /// <c>nodepool.readiness</c> needs the NodeClass type: <see cref="AddNodePoolReadiness{TNodeClass}"/>.
    /// </summary>
    public static KubeOperatorBuilder AddNodePoolControllers(this KubeOperatorBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(Registered<NodePoolHashController>)))
        {
            return builder;
        }

        builder.Services.AddSingleton<Registered<NodePoolHashController>>();
        builder.Services.TryAddSingleton<ClusterIndexes>();
        builder.AddController<NodePool, NodePoolHashController>(NodePoolHashController.Name, c => c
            .WaitsFor<NodeClaim>());
        builder.AddController<NodePool, NodePoolCounterController>(NodePoolCounterController.Name, c => c
            .Watches<NodeClaim>(_ => claim => claim.NodePoolName is { Length: > 0 } pool ? [ObjectKey.Cluster(pool)] : [])
            .Watches<V1Node>(_ => node => node.Metadata.Labels?.TryGetValue(Entities.WellKnown.Labels.NodePool, out var pool) == true ? [ObjectKey.Cluster(pool)] : []));
        return builder;
    }

    /// <summary>
    /// Adds <c>nodepool.readiness</c> for NodePools referencing <typeparamref name="TNodeClass"/>, woken by changes of
    /// the NodeClasses they reference. Idempotent.
    /// </summary>
    public static KubeOperatorBuilder AddNodePoolReadiness<TNodeClass>(this KubeOperatorBuilder builder)
        where TNodeClass : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(Registered<NodePoolReadinessController>)))
        {
            return builder;
        }

        builder.Services.AddSingleton<Registered<NodePoolReadinessController>>();
        builder.Services.TryAddSingleton<ClusterIndexes>();
        builder.Services.TryAddSingleton<NodePoolValidator>();
        builder.AddController<NodePool, NodePoolReadinessController>(NodePoolReadinessController.Name, c => c
            .Watches<TNodeClass>(NodeClassToNodePools<TNodeClass>));
        return builder;
    }

    private static Func<TNodeClass, IEnumerable<ObjectKey>> NodeClassToNodePools<TNodeClass>(IServiceProvider services)
        where TNodeClass : class, IKubernetesObject<V1ObjectMeta>
    {
        var indexes = services.GetRequiredService<ClusterIndexes>();
        return nodeClass => indexes.NodePools.List()
            .Where(p => p.Spec?.Template?.Spec?.NodeClassRef?.Name == nodeClass.Metadata.Name)
            .Select(ObjectKey.Of);
    }

    /// <summary>Marks that a registration ran.</summary>
    private sealed class Registered<T>;
}
