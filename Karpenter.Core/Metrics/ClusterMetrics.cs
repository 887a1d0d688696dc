using System.Diagnostics.Metrics;
using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.Validation;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Microsoft.Extensions.Hosting;

namespace Karpenter.Core.Metrics;

/// <summary>
/// Upstream's state gauges, read from the shared informers each time metrics are collected (so they are never stale
/// and need no controller): per node <c>karpenter_nodes_allocatable</c>, <c>_system_overhead</c>,
/// <c>_total_pod_requests</c>, <c>_total_pod_limits</c>, <c>_total_daemon_requests</c>, <c>_total_daemon_limits</c>
/// (labels: the well-known node labels in snake case, <c>node_name</c>, <c>phase</c>, <c>managed</c>,
/// <c>resource_type</c>) and <c>_current_lifetime_seconds</c>; <c>karpenter_cluster_utilization_percent</c>;
/// per NodePool <c>karpenter_nodepools_usage</c> (its <c>status.resources</c>) and <c>karpenter_nodepools_limit</c>;
/// per pod <c>karpenter_pods_state</c> (name, namespace, owner, node, nodepool, zone, arch, capacity_type,
/// instance_type, phase); and <c>karpenter_build_info</c>. CPU is reported in cores, every other resource in its base unit, as upstream.
/// </summary>
public sealed class ClusterMetrics
{
    private const string ResourceType = "resource_type";

    // Well-known label key → metric label name (the part after the prefix, snake-cased), as upstream derives them.
    private static readonly KeyValuePair<string, string>[] NodeLabelNames =
    [
        .. RestrictedLabels.WellKnown
            .Select(key => KeyValuePair.Create(key, key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..].ToLowerInvariant().Replace('-', '_')))
            .DistinctBy(kv => kv.Value, StringComparer.Ordinal),
    ];

    // One collection reads every gauge in turn: the per-node sums are computed once per second at most.
    private static readonly TimeSpan Reuse = TimeSpan.FromSeconds(1);

    private readonly ClusterIndexes _indexes;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private (long At, IReadOnlyList<NodeUsage> Nodes)? _last;

    public ClusterMetrics(ClusterIndexes indexes, TimeProvider time, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _indexes = indexes;
        _time = time;
        var meter = meterFactory.Create(LifecycleMetrics.MeterName);
        meter.CreateObservableGauge("karpenter_nodes_allocatable", () => NodeResources(n => n.Allocatable), description: "Node allocatable are the resources allocatable by nodes.");
        meter.CreateObservableGauge("karpenter_nodes_system_overhead", () => NodeResources(n => n.Overhead), description: "Node system daemon overhead are the resources reserved for system overhead, the difference between the node's capacity and allocatable values are reported by the status.");
        meter.CreateObservableGauge("karpenter_nodes_total_pod_requests", () => NodeResources(n => n.PodRequests), description: "Node total pod requests are the resources requested by pods bound to nodes, including the DaemonSet pods.");
        meter.CreateObservableGauge("karpenter_nodes_total_pod_limits", () => NodeResources(n => n.PodLimits), description: "Node total pod limits are the resources specified by pod limits, including the DaemonSet pods.");
        meter.CreateObservableGauge("karpenter_nodes_total_daemon_requests", () => NodeResources(n => n.DaemonRequests), description: "Node total daemon requests are the resource requested by DaemonSet pods bound to nodes.");
        meter.CreateObservableGauge("karpenter_nodes_total_daemon_limits", () => NodeResources(n => n.DaemonLimits), description: "Node total daemon limits are the resources specified by DaemonSet pod limits.");
        meter.CreateObservableGauge("karpenter_nodes_current_lifetime_seconds", NodeLifetimes, unit: "s", description: "Node age in seconds");
        meter.CreateObservableGauge("karpenter_cluster_utilization_percent", ClusterUtilization, description: "Utilization of allocatable resources by pod requests");
        meter.CreateObservableGauge("karpenter_nodepools_usage", () => NodePoolResources(p => p.Status?.Resources), description: "The amount of resources that have been provisioned for a nodepool. Labeled by nodepool name and resource type.");
        meter.CreateObservableGauge("karpenter_nodepools_limit", () => NodePoolResources(p => p.Spec?.Limits), description: "Limits specified on the nodepool that restrict the quantity of resources provisioned. Labeled by nodepool name and resource type.");
        meter.CreateObservableGauge("karpenter_build_info", BuildInfo, description: "A metric with a constant '1' value labeled by version from which karpenter was built.");
        meter.CreateObservableGauge("karpenter_pods_state", PodStates, description: "Pod state is the current state of pods. This metric can be used several ways as it is labeled by the pod name, namespace, owner, node, nodepool name, zone, architecture, capacity type, instance type and pod phase.");
    }

    /// <summary>What one node holds, in scheduler units (millicores for cpu).</summary>
    public sealed record NodeUsage(V1Node Node, bool Managed, Resources Allocatable, Resources Overhead, Resources PodRequests, Resources PodLimits, Resources DaemonRequests, Resources DaemonLimits);

    /// <summary>Every node with the pods bound to it summed up (pods that finished are not counted, as upstream).</summary>
    public IReadOnlyList<NodeUsage> Nodes()
    {
        lock (_lock)
        {
            if (_last is { } last && _time.GetElapsedTime(last.At) < Reuse)
            {
                return last.Nodes;
            }

            var nodes = ComputeNodes();
            _last = (_time.GetTimestamp(), nodes);
            return nodes;
        }
    }

    private List<NodeUsage> ComputeNodes()
    {
        var result = new List<NodeUsage>();
        foreach (var node in _indexes.Nodes.List())
        {
            Resources podRequests = default, podLimits = default, daemonRequests = default, daemonLimits = default;
            foreach (var pod in _indexes.PodsOnNode(node.Metadata.Name))
            {
                if (pod.Status?.Phase is "Succeeded" or "Failed")
                {
                    continue;
                }

                var requests = PodResources.Requests(pod).WithPods(0);
                var limits = PodResources.Limits(pod);
                podRequests += requests;
                podLimits += limits;
                if (pod.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Kind == "DaemonSet") == true)
                {
                    daemonRequests += requests;
                    daemonLimits += limits;
                }
            }

            var capacity = Resources.FromList(node.Status?.Capacity);
            var allocatable = Resources.FromList(node.Status?.Allocatable);
            var managed = _indexes.NodeClaimsForProviderId(node.Spec?.ProviderID).Count > 0;
            result.Add(new NodeUsage(node, managed, allocatable, NonNegative(capacity - allocatable), podRequests, podLimits, daemonRequests, daemonLimits));
        }

        return result;
    }

    private IEnumerable<Measurement<double>> NodeResources(Func<NodeUsage, Resources> select)
    {
        foreach (var usage in Nodes())
        {
            var amounts = select(usage);
            foreach (var name in amounts.Names.Union([ResourceNames.Cpu, ResourceNames.Memory]))
            {
                var labels = NodeLabels(usage);
                labels.Add(new(ResourceType, MetricResourceName(name)));
                yield return new Measurement<double>(InMetricUnit(name, amounts.Get(name)), labels);
            }
        }
    }

    private IEnumerable<Measurement<double>> NodeLifetimes()
    {
        var now = _time.GetUtcNow();
        foreach (var usage in Nodes())
        {
            if (usage.Node.Metadata.CreationTimestamp is { } created)
            {
                yield return new Measurement<double>(Math.Max(0, (now - new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc))).TotalSeconds), NodeLabels(usage));
            }
        }
    }

    private IEnumerable<Measurement<double>> ClusterUtilization()
    {
        Resources allocatable = default, requested = default;
        foreach (var usage in Nodes())
        {
            allocatable += usage.Allocatable;
            requested += usage.PodRequests;
        }

        foreach (var name in allocatable.Names)
        {
            var total = allocatable.Get(name);
            if (total > 0)
            {
                yield return new Measurement<double>(100.0 * requested.Get(name) / total, new KeyValuePair<string, object?>(ResourceType, MetricResourceName(name)));
            }
        }
    }

    private IEnumerable<Measurement<double>> NodePoolResources(Func<Entities.V1.NodePool, IDictionary<string, k8s.Models.ResourceQuantity>?> select)
    {
        foreach (var pool in _indexes.NodePools.List())
        {
            var amounts = Resources.FromList(select(pool));
            foreach (var name in amounts.Names)
            {
                yield return new Measurement<double>(
                    InMetricUnit(name, amounts.Get(name)),
                    new KeyValuePair<string, object?>(ResourceType, MetricResourceName(name)),
                    new KeyValuePair<string, object?>(LifecycleMetrics.NodePoolLabel, pool.Metadata.Name));
            }
        }
    }

    private IEnumerable<Measurement<long>> PodStates()
    {
        foreach (var pod in _indexes.Pods.List())
        {
            var nodeName = pod.Spec?.NodeName ?? "";
            var nodeLabels = nodeName.Length > 0 ? _indexes.Nodes.Get(ObjectKey.Cluster(nodeName))?.Metadata.Labels : null;
            string Label(string key) => nodeLabels?.TryGetValue(key, out var value) == true ? value : "";
            var owner = pod.Metadata.OwnerReferences?.FirstOrDefault();
            var selfLink = owner is null ? "" : $"/apis/{owner.ApiVersion}/namespaces/{pod.Metadata.NamespaceProperty}/{owner.Kind.ToLowerInvariant()}s/{owner.Name}";
            yield return new Measurement<long>(1,
                new("name", pod.Metadata.Name),
                new("namespace", pod.Metadata.NamespaceProperty),
                new("owner", selfLink),
                new("node", nodeName),
                new(LifecycleMetrics.NodePoolLabel, Label(Labels.NodePool)),
                new("zone", Label(Labels.TopologyZone)),
                new("arch", Label(Labels.Arch)),
                new(LifecycleMetrics.CapacityTypeLabel, Label(Labels.CapacityType)),
                new("instance_type", Label(Labels.InstanceType)),
                new("phase", pod.Status?.Phase ?? ""));
        }
    }

    /// <summary>The entry assembly's informational version (<c>1.2.3+commit</c>), the commit after the <c>+</c>, and the runtime.</summary>
    private static Measurement<long> BuildInfo()
    {
        var informational = (System.Reflection.Assembly.GetEntryAssembly() ?? typeof(ClusterMetrics).Assembly)
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return new Measurement<long>(1,
            new("version", plus < 0 ? informational : informational[..plus]),
            new("goversion", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription),
            new("commit", plus < 0 ? "" : informational[(plus + 1)..]));
    }

    private static List<KeyValuePair<string, object?>> NodeLabels(NodeUsage usage)
    {
        var labels = new List<KeyValuePair<string, object?>>(NodeLabelNames.Length + 4);
        var nodeLabels = usage.Node.Metadata.Labels;
        foreach (var (key, name) in NodeLabelNames)
        {
            labels.Add(new(name, nodeLabels?.TryGetValue(key, out var value) == true ? value : ""));
        }

        labels.Add(new("node_name", usage.Node.Metadata.Name));
        labels.Add(new("phase", usage.Node.Status?.Phase ?? ""));
        labels.Add(new("managed", usage.Managed ? "true" : "false"));
        return labels;
    }

    private static Resources NonNegative(Resources r)
    {
        foreach (var name in r.Names.ToList())
        {
            if (r.Get(name) < 0)
            {
                r = r.With(name, 0);
            }
        }

        return r;
    }

    private static double InMetricUnit(string name, long amount) => name == ResourceNames.Cpu ? amount / 1000.0 : amount;

    private static string MetricResourceName(string name) => name.ToLowerInvariant().Replace('-', '_');
}

/// <summary>Creates <see cref="ClusterMetrics"/> when the host starts, so its gauges are registered before the first scrape.</summary>
internal sealed class ClusterMetricsHost(ClusterMetrics metrics) : IHostedService
{
    public ClusterMetrics Metrics { get; } = metrics;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
