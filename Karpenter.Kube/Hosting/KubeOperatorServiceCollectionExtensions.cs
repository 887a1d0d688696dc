using k8s;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Kube.Finalizers;
using Karpenter.Kube.Informers;
using Karpenter.Kube.LeaderElection;
using Karpenter.Kube.Queue;
using Karpenter.Kube.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Karpenter.Kube.Hosting;

/// <summary>The composition root of the operator runtime.</summary>
public static class KubeOperatorServiceCollectionExtensions
{
    /// <summary>
    /// Registers the runtime: one <see cref="IKubernetes"/> (from a registered <see cref="KubernetesClientConfiguration"/>,
    /// else kubeconfig or in-cluster), <see cref="IKubeClient"/>, the shared <see cref="InformerFactory"/>, the
    /// controller host, the event recorder, finalizer helpers, metrics, and validated options. Controllers are added on
    /// the returned builder. Options bind from configuration sections named after their type via
    /// <c>services.Configure&lt;T&gt;</c> or <c>AddOptions&lt;T&gt;().Bind(...)</c>.
    /// </summary>
    public static KubeOperatorBuilder AddKubeOperator(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IKubernetes>(sp =>
        {
            var client = sp.GetRequiredService<IOptions<KubeClientOptions>>().Value;
            return new Kubernetes(
                sp.GetService<KubernetesClientConfiguration>() ?? KubernetesClientConfiguration.BuildDefaultConfig(),
                // Real time, as client-go's flowcontrol: the limit protects a real server's real capacity, and a test's
                // fake clock that never advances must not stall the 301st request.
                new ClientRateLimitHandler(client.Qps, client.Burst, TimeProvider.System));
        });
        services.AddOptions<KubeClientOptions>().ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<InformerOptions>().ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InformerOptions>, InformerOptionsValidator>());
        services.AddOptions<EventRecorderOptions>().ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IKubeClient, KubeClient>();
        services.TryAddSingleton<FinalizerClient>();
        services.TryAddSingleton<WorkQueueMetrics>();
        services.TryAddSingleton<ControllerMetrics>();
        services.TryAddSingleton<InformerFactory>();
        services.TryAddSingleton<ControllerManager>();
        services.AddOptions<LeaderElectionOptions>().ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LeaderElectionOptions>, LeaderElectionOptionsValidator>());
        services.TryAddSingleton<LeaderElector>();
        services.TryAddSingleton<ILeadership>(sp => sp.GetRequiredService<IOptions<LeaderElectionOptions>>().Value.Enabled
            ? sp.GetRequiredService<LeaderElector>()
            : new AlwaysLeader());
        services.AddOptions<WebhookOptions>().ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<WebhookCertificates>();
        services.TryAddSingleton<EventRecorder>();
        services.TryAddSingleton<IEventRecorder>(sp => sp.GetRequiredService<EventRecorder>());

        // Order matters: hosted services start in this order and stop in reverse (controllers stop before informers).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, InformerHost>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LeaderElectionHost>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EventRecorderHost>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ControllerHost>());
        return new KubeOperatorBuilder(services);
    }
}

/// <summary>Runs the singleton <see cref="EventRecorder"/> as a hosted service.</summary>
internal sealed class EventRecorderHost(EventRecorder recorder) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => recorder.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => recorder.StopAsync(cancellationToken);
}
