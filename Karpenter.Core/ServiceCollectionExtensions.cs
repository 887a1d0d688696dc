using Karpenter.Core.Provisioning;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Karpenter.Core;

/// <summary>The composition root of Karpenter.Core: the one place its services are registered.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the cluster state, the scheduler and the provisioning batcher with its validated settings
    /// (bind <see cref="BatchingOptions"/> from configuration to set <c>BATCH_IDLE_DURATION</c> and <c>BATCH_MAX_DURATION</c>).
    /// The cloud provider (<see cref="CloudProvider.ICloudProvider"/>) is registered by the provider's own root.
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
        return services;
    }
}
