using k8s.Models;
using Karpenter.Core.Disruption.Consolidatable;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Kube.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Karpenter.Core.Disruption;

/// <summary>Registers disruption: its services (from <c>AddKarpenterCore</c>) and its controllers (on the operator builder).</summary>
public static class DisruptionRegistration
{
    /// <summary>
    /// The disruption services: validated <see cref="DisruptionOptions"/>, metrics, the replacement factory, the snapshot
    /// builder, the <see cref="Consolidator"/> and the <see cref="DisruptionOrchestrator"/>. Needs the cluster state, the
    /// scheduler, the cloud provider and the operator runtime (informers, client, events).
    /// </summary>
    public static IServiceCollection AddKarpenterDisruption(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        // FEATURE_GATES=SpotToSpotConsolidation=true reaches the operator as KarpenterOptions.FeatureGates; without this
        // line the gate was read and validated but disruption never saw it, and spot nodes were never replaced.
        services.AddOptions<DisruptionOptions>()
            .Configure<IOptions<KarpenterOptions>>((disruption, karpenter) => disruption.SpotToSpotConsolidation |= karpenter.Value.FeatureGates.SpotToSpotConsolidation)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DisruptionOptions>, DisruptionOptionsValidator>());
        services.TryAddSingleton<DisruptionMetrics>();
        services.TryAddSingleton<Karpenter.Core.Metrics.LifecycleMetrics>();
        services.TryAddSingleton<IReplacementFactory, ReplacementFactory>();
        services.TryAddSingleton<ClusterIndexes>();
        services.TryAddSingleton<SnapshotBuilder>();
        services.TryAddSingleton(sp => new Consolidator(sp.GetRequiredService<Scheduler>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<DisruptionOptions>>().Value));
        services.TryAddSingleton<DisruptionOrchestrator>();
        return services;
    }

    /// <summary>
    /// The disruption controllers: the <c>disruption</c> singleton loop (every 10 s), the NodeClaim <c>Consolidatable</c>
    /// condition (re-evaluated when a NodeClaim or its NodePool changes) and the pod-event time it counts from.
    /// The entry point the operator host calls after <c>AddKubeOperator()</c>.
    /// </summary>
    public static KubeOperatorBuilder AddDisruptionControllers(this KubeOperatorBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddKarpenterDisruption();
        builder.AddSingletonController<DisruptionController>(DisruptionController.Name, c => c
            .WaitsFor<NodeClaim>()
            .WaitsFor<NodePool>()
            .WaitsFor<V1Node>()
            .WaitsFor<V1Pod>()
            .WaitsFor<V1PodDisruptionBudget>());
        builder.AddController<NodeClaim, ConsolidatableController>(ConsolidatableController.Name, c => c
            .Watches<NodePool>(sp => pool => ConsolidatableController.ForNodePool(sp.GetRequiredService<ClusterIndexes>(), pool)));
        builder.AddController<V1Pod, PodEventsController>(PodEventsController.Name, c => c.WaitsFor<NodeClaim>());
        return builder;
    }
}
