using System.Diagnostics.Metrics;
using k8s.Models;
using Karpenter.Core.Metrics;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Tests.Core.Lifecycle.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Karpenter.Tests.Core.Metrics;

/// <summary>
/// The state gauges under upstream's names and labels, read from the shared informers when metrics are collected:
/// a dashboard built on upstream Karpenter finds the same series here.
/// </summary>
public sealed class ClusterMetricsTests : IAsyncLifetime
{
    private ControllerEnvironment _env = null!;

    public async Task InitializeAsync() => _env = await ControllerEnvironment.StartAsync();

    public async Task DisposeAsync() => await _env.DisposeAsync();

    [Fact]
    public async Task Node_gauges_sum_the_pods_bound_to_each_node_with_its_well_known_labels()
    {
        var claim = await _env.CreateAsync(ControllerEnvironment.NodeClaim("claim-a"));
        await _env.SetStatusAsync(claim, c => c.Status = new NodeClaimStatus { ProviderId = "aws:///us-west-2a/i-a" });
        var managed = ControllerEnvironment.Node("node-a", "aws:///us-west-2a/i-a", withUnregisteredTaint: false);
        managed.Metadata.Labels[Labels.NodePool] = "default";
        managed.Metadata.Labels[Labels.TopologyZone] = "us-west-2a";
        managed.Metadata.Labels[Labels.InstanceType] = "m5.large";
        managed.Metadata.Labels[Labels.CapacityType] = CapacityTypes.Spot;
        managed.Metadata.Labels[Labels.Arch] = "amd64";
        await _env.CreateAsync(managed);
        await _env.CreateAsync(ControllerEnvironment.Node("node-b", "aws:///us-west-2b/i-unmanaged", withUnregisteredTaint: false));
        await CreatePodAsync("web", "node-a", cpu: "500m", memory: "1Gi", cpuLimit: "1");
        await CreatePodAsync("agent", "node-a", cpu: "100m", memory: "128Mi", cpuLimit: "200m", daemonSet: true);
        await CreatePodAsync("done", "node-a", cpu: "1", memory: "1Gi", cpuLimit: null, phase: "Succeeded");

        var requests = Collect("karpenter_nodes_total_pod_requests");
        Assert.Equal(0.6, Value(requests, "node-a", "cpu"), 6);
        Assert.Equal(1152.0 * 1024 * 1024, Value(requests, "node-a", "memory"));
        Assert.Equal(0, Value(requests, "node-b", "cpu"));
        Assert.Equal(1.2, Value(Collect("karpenter_nodes_total_pod_limits"), "node-a", "cpu"), 6);
        Assert.Equal(0.1, Value(Collect("karpenter_nodes_total_daemon_requests"), "node-a", "cpu"), 6);
        Assert.Equal(0.2, Value(Collect("karpenter_nodes_total_daemon_limits"), "node-a", "cpu"), 6);
        Assert.Equal(1.9, Value(Collect("karpenter_nodes_allocatable"), "node-a", "cpu"), 6);
        Assert.Equal(20, Value(Collect("karpenter_nodes_allocatable"), "node-a", "pods"));
        Assert.Equal(0.1, Value(Collect("karpenter_nodes_system_overhead"), "node-a", "cpu"), 6);
        Assert.Equal(1024.0 * 1024 * 1024, Value(Collect("karpenter_nodes_system_overhead"), "node-a", "memory"));

        var series = Collect("karpenter_nodes_allocatable").Single(m => Tag(m, "node_name") == "node-a" && Tag(m, "resource_type") == "cpu");
        Assert.Equal(("default", "us-west-2a", "m5.large", "spot", "amd64", "true"),
            (Tag(series, "nodepool"), Tag(series, "zone"), Tag(series, "instance_type"), Tag(series, "capacity_type"), Tag(series, "arch"), Tag(series, "managed")));
        Assert.Equal("false", Tag(Collect("karpenter_nodes_allocatable").First(m => Tag(m, "node_name") == "node-b"), "managed"));

        // 600m of 3800m allocatable across both nodes.
        var utilization = Collect("karpenter_cluster_utilization_percent").Single(m => Tag(m, "resource_type") == "cpu");
        Assert.Equal(100.0 * 600 / 3800, utilization.Value, 6);
    }

    [Fact]
    public async Task NodePool_usage_and_limit_come_from_its_status_and_spec()
    {
        var pool = await _env.CreateAsync(ControllerEnvironment.NodePool("limited", configure: p =>
            p.Spec.Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100"), ["memory"] = new("400Gi") }));
        await _env.SetStatusAsync(pool, p => p.Status = new NodePoolStatus { Resources = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("6"), ["memory"] = new("24Gi"), ["nodes"] = new("3") } });

        var limit = Collect("karpenter_nodepools_limit").Where(m => Tag(m, "nodepool") == "limited").ToList();
        Assert.Equal(100, limit.Single(m => Tag(m, "resource_type") == "cpu").Value);
        Assert.Equal(400.0 * 1024 * 1024 * 1024, limit.Single(m => Tag(m, "resource_type") == "memory").Value);
        var usage = Collect("karpenter_nodepools_usage").Where(m => Tag(m, "nodepool") == "limited").ToList();
        Assert.Equal(6, usage.Single(m => Tag(m, "resource_type") == "cpu").Value);
        Assert.Equal(3, usage.Single(m => Tag(m, "resource_type") == "nodes").Value);
    }

    [Fact]
    public async Task Pod_state_names_the_owner_node_and_the_node_placement()
    {
        var node = ControllerEnvironment.Node("node-c", "aws:///us-west-2c/i-c", withUnregisteredTaint: false);
        node.Metadata.Labels[Labels.NodePool] = "default";
        node.Metadata.Labels[Labels.TopologyZone] = "us-west-2c";
        await _env.CreateAsync(node);
        await CreatePodAsync("api", "node-c", cpu: "1", memory: "1Gi", cpuLimit: null, phase: "Running");
        await CreatePodAsync("queued", null, cpu: "1", memory: "1Gi", cpuLimit: null);

        using var collector = new MetricCollector<long>(_env.Get<IMeterFactory>(), LifecycleMetrics.MeterName, "karpenter_pods_state");
        _env.Get<ClusterMetrics>();
        collector.RecordObservableInstruments();
        var states = collector.GetMeasurementSnapshot();
        var api = states.Single(m => Tag(m, "name") == "api");
        Assert.Equal(("default", "node-c", "default", "us-west-2c", "Running", "/apis/apps/v1/namespaces/default/replicasets/api-rs"),
            (Tag(api, "namespace"), Tag(api, "node"), Tag(api, "nodepool"), Tag(api, "zone"), Tag(api, "phase"), Tag(api, "owner")));
        Assert.Equal(1, api.Value);
        var queued = states.Single(m => Tag(m, "name") == "queued");
        Assert.Equal(("", ""), (Tag(queued, "node"), Tag(queued, "zone")));
    }

    /// <summary>Creates the pod, then writes its phase (the API server resets the status a create sends).</summary>
    private async Task CreatePodAsync(string name, string? nodeName, string cpu, string memory, string? cpuLimit, bool daemonSet = false, string phase = "Pending")
    {
        var pod = await _env.CreateAsync(Pod(name, nodeName, cpu, memory, cpuLimit, daemonSet));
        if (phase != "Pending")
        {
            await _env.SetStatusAsync(pod, p => p.Status.Phase = phase);
        }
    }

    private IReadOnlyList<CollectedMeasurement<double>> Collect(string instrument)
    {
        using var collector = new MetricCollector<double>(_env.Get<IMeterFactory>(), LifecycleMetrics.MeterName, instrument);
        _env.Get<ClusterMetrics>();
        collector.RecordObservableInstruments();
        return collector.GetMeasurementSnapshot();
    }

    private static double Value(IReadOnlyList<CollectedMeasurement<double>> measurements, string node, string resource) =>
        measurements.Single(m => Tag(m, "node_name") == node && Tag(m, "resource_type") == resource).Value;

    private static string? Tag<T>(CollectedMeasurement<T> measurement, string name)
        where T : struct => measurement.Tags.TryGetValue(name, out var value) ? value as string : null;

    private static V1Pod Pod(string name, string? nodeName, string cpu, string memory, string? cpuLimit, bool daemonSet) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = "default",
            OwnerReferences =
            [
                daemonSet
                    ? new V1OwnerReference { ApiVersion = "apps/v1", Kind = "DaemonSet", Name = "agent", Uid = "ds-uid", Controller = true }
                    : new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = name + "-rs", Uid = name + "-uid", Controller = true },
            ],
        },
        Spec = new V1PodSpec
        {
            NodeName = nodeName,
            Containers =
            [
                new V1Container
                {
                    Name = "main",
                    Image = "example",
                    Resources = new V1ResourceRequirements
                    {
                        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new(memory) },
                        Limits = cpuLimit is null ? null : new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpuLimit) },
                    },
                },
            ],
        },
    };
}
