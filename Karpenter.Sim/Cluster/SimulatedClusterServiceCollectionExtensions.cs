using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Events;
using Karpenter.Kube.Hosting;
using Karpenter.Kube.LeaderElection;
using Karpenter.Sim.Aws.World;
using Karpenter.Sim.Clock;
using Karpenter.Sim.Cluster.CloudController;
using Karpenter.Sim.Cluster.Common;
using Karpenter.Sim.Cluster.Disruption;
using Karpenter.Sim.Cluster.GarbageCollection;
using Karpenter.Sim.Cluster.Kubelet;
using Karpenter.Sim.Cluster.NodeAgents;
using Karpenter.Sim.Cluster.NodeLifecycle;
using Karpenter.Sim.Cluster.Scheduler;
using Karpenter.Sim.Cluster.Workloads.DaemonSets;
using Karpenter.Sim.Cluster.Workloads.Deployments;
using Karpenter.Sim.Cluster.Workloads.ReplicaSets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Karpenter.Sim.Cluster;

/// <summary>The composition root of the simulated cluster: everything of a Kubernetes cluster on AWS that is not Karpenter.</summary>
public static class SimulatedClusterServiceCollectionExtensions
{
    /// <summary>
    /// Registers the simulated cluster's components as controllers on the operator runtime (one informer cache, no
    /// leader election): kubelets booting <paramref name="aws"/>'s instances into Nodes and running their pods, the
    /// cloud controller manager, kube-controller-manager's node lifecycle, disruption (PDB status), ReplicaSet,
    /// Deployment, DaemonSet and garbage collectors, and kube-scheduler. The caller registers the
    /// <see cref="TimeProvider"/> and the <c>KubernetesClientConfiguration</c> of the API server.
    /// </summary>
    public static IServiceCollection AddSimulatedCluster(
        this IServiceCollection services,
        AwsWorld aws,
        Action<KubeletOptions>? kubelet = null,
        Action<SchedulerOptions>? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(aws);
        services.AddSingleton(aws);
        services.AddOptions<KubeletOptions>().Configure(o => kubelet?.Invoke(o)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SchedulerOptions>().Configure(o => scheduler?.Invoke(o)).ValidateDataAnnotations().ValidateOnStart();
        services.Configure<LeaderElectionOptions>(o => o.Enabled = false);
        services.Configure<KubeClientOptions>(o => o.FieldManager = "kube-controller-manager");
        services.Configure<EventRecorderOptions>(o => o.ReportingController = "kube-controller-manager");
        services.TryAddSingleton<SimulatedNodes>();
        services.TryAddSingleton<ClusterObserver>();
        services.TryAddSingleton<ClusterCaches>();
        services.TryAddSingleton<ComponentEvents>();
        services.TryAddSingleton(sp => ClockHold.Of(sp.GetRequiredService<TimeProvider>()));

        var operators = services.AddKubeOperator();
        services.AddHostedService(sp => sp.GetRequiredService<ComponentEvents>());
        services.AddHostedService<InstanceEventPump>();

        operators
            .AddSingletonController<KubeletBootstrapController>(KubeletBootstrapController.Name)
            .AddController<V1Node, KubeletNodeController>(KubeletNodeController.Name, b => b.WithWorkers(2))
            .AddController<V1Pod, KubeletPodController>(KubeletPodController.Name, b => b
                .WithWorkers(4)
                .Watches<V1Node>(sp => PodsOnNode(sp)))
            .AddController<V1Node, StartupTaintController>(StartupTaintController.Name)
            .AddController<V1Node, CloudNodeLifecycleController>(CloudNodeLifecycleController.Name)
            .AddController<V1Node, NodeLifecycleController>(NodeLifecycleController.Name, b => b
                .Watches<V1Pod>(pod => string.IsNullOrEmpty(pod.Spec?.NodeName) ? [] : [ObjectKey.Cluster(pod.Spec.NodeName)]))
            .AddSingletonController<KubeSchedulerController>(KubeSchedulerController.Name, b => b
                .Watches<V1Pod>()
                .Watches<V1Node>()
                .Watches<Corev1Event>(scope: ClusterCaches.NominationEvents)
                .WaitsFor<V1Namespace>())
            .AddController<V1PodDisruptionBudget, DisruptionBudgetController>(DisruptionBudgetController.Name, b => b
                .Watches<V1Pod>(sp => BudgetsOfPod(sp)))
            .AddController<V1ReplicaSet, ReplicaSetController>(ReplicaSetController.Name, b => b
                .WithWorkers(2)
                .Watches<V1Pod>(pod => Controller(pod, "ReplicaSet")))
            .AddController<V1Deployment, DeploymentController>(DeploymentController.Name, b => b
                .Watches<V1ReplicaSet>(rs => Controller(rs, "Deployment")))
            .AddController<V1DaemonSet, DaemonSetController>(DaemonSetController.Name, b => b
                .Watches<V1Pod>(pod => Controller(pod, "DaemonSet"))
                .Watches<V1Node>(sp => AllDaemonSets(sp)))
            .AddController<V1Pod, PodGarbageCollector>(PodGarbageCollector.Name, b => b
                .Watches<V1Node>(sp => PodsOnNode(sp)))
            .AddSingletonController<OwnerGarbageCollector>(OwnerGarbageCollector.Name, b => b
                .Watches<V1Deployment>()
                .Watches<V1ReplicaSet>()
                .Watches<V1DaemonSet>()
                .Watches<V1Node>()
                .WaitsFor<V1Pod>()
                .WaitsFor<V1Lease>(ClusterCaches.NodeLeaseScope));
        return services;
    }

    private static Func<V1Node, IEnumerable<ObjectKey>> PodsOnNode(IServiceProvider services)
    {
        var caches = services.GetRequiredService<ClusterCaches>();
        return node => caches.PodsOn(node.Metadata.Name).Select(ObjectKey.Of);
    }

    private static Func<V1Pod, IEnumerable<ObjectKey>> BudgetsOfPod(IServiceProvider services)
    {
        var caches = services.GetRequiredService<ClusterCaches>();
        return pod => caches.Budgets.List()
            .Where(b => b.Metadata.NamespaceProperty == pod.Metadata.NamespaceProperty && NodeSelection.SelectorMatches(b.Spec?.Selector, pod.Metadata.Labels))
            .Select(ObjectKey.Of);
    }

    private static Func<V1Node, IEnumerable<ObjectKey>> AllDaemonSets(IServiceProvider services)
    {
        var caches = services.GetRequiredService<ClusterCaches>();
        return _ => caches.DaemonSets.Keys();
    }

    private static IEnumerable<ObjectKey> Controller(IMetadata<V1ObjectMeta> obj, string kind) =>
        PodFacts.ControllerOf(obj) is { } owner && owner.Kind == kind ? [new ObjectKey(obj.Metadata.NamespaceProperty, owner.Name)] : [];
}
