using k8s.Models;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Karpenter.Kube.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Karpenter.Core.Provisioning;

/// <summary>Registers the provisioner, the cluster state's informer feed and its settings on an operator.</summary>
public static class ProvisioningOperatorBuilderExtensions
{
    /// <summary>
    /// Adds the cluster state fed by the shared informers (nodes, NodeClaims, pods, DaemonSets, namespaces, volumes)
    /// with its gauges, and the <c>provisioner</c> singleton controller woken by provisionable pods and by nodes and
    /// NodeClaims starting deletion, with its validated settings (<see cref="BatchingOptions"/>,
    /// <see cref="ProvisionerOptions"/>). Idempotent. Needs an <see cref="CloudProvider.ICloudProvider"/> registered by
    /// the provider. Export the <see cref="ProvisioningMetrics.MeterName"/> meter.
    /// </summary>
    public static KubeOperatorBuilder AddProvisioning(this KubeOperatorBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(ProvisioningRegistered)))
        {
            return builder;
        }

        services.AddSingleton<ProvisioningRegistered>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<BatchingOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BatchingOptions>, BatchingOptionsValidator>());
        services.AddOptions<ProvisionerOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProvisionerOptions>, ProvisionerOptionsValidator>());
        services.TryAddSingleton<ClusterState>();
        services.TryAddSingleton<ClusterStateMetrics>();
        services.TryAddSingleton<Scheduler>();
        services.TryAddSingleton<Batcher>();
        services.TryAddSingleton<SchedulingInputs>();
        services.TryAddSingleton<ProvisioningMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ClusterStateHost>());

        builder.AddSingletonController<Provisioner>(Provisioner.ControllerName, c => c
            .Watches<V1Pod>(ClusterState.IsProvisionable)
            .Watches<V1Node>(n => n.Metadata.DeletionTimestamp is not null)
            .Watches<NodeClaim>(n => n.Metadata.DeletionTimestamp is not null)
            .WaitsFor<NodePool>());
        return builder;
    }

    /// <summary>Marks that <see cref="AddProvisioning"/> ran.</summary>
    private sealed class ProvisioningRegistered;
}
