using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using static Karpenter.Tests.Core.Provisioning.ProvisioningEnvironment;

namespace Karpenter.Tests.Core.Provisioning;

/// <summary>
/// In-flight NodeClaims are existing capacity: pods still pending once their nominations expire go back onto the
/// NodeClaims made for them (launched, not yet registered), and the provisioner creates nothing more for them.
/// </summary>
public sealed class InFlightNodeClaimTests
{
    private static readonly string[] Zones = ["zone-a", "zone-b", "zone-c"];

    /// <summary>
    /// t3/t3a-like burstable types in three zones, with the allocatable the AWS provider gives them (CPU and memory net
    /// of kube-reserved and the VM overhead). Spot is cheapest in zone-a, so a NodeClaim whose zone is left open
    /// launches there.
    /// </summary>
    private static IReadOnlyList<InstanceType> Burstable() =>
    [
        Type("t3a.micro", 2040, 558L << 20, 4, 0.0094m),
        Type("t3.micro", 2040, 558L << 20, 4, 0.0104m),
        Type("t3a.small", 2040, 1428L << 20, 11, 0.0188m),
        Type("t3.small", 2040, 1428L << 20, 11, 0.0208m),
        Type("t3a.medium", 2040, 3320L << 20, 17, 0.0376m),
        Type("t3a.large", 2040, 7200L << 20, 35, 0.0752m),
        Type("t3a.xlarge", 4040, 14800L << 20, 58, 0.1504m),
    ];

    private static InstanceType Type(string name, long cpuMilli, long memory, long pods, decimal onDemand)
    {
        var offerings = new List<Offering>();
        for (var i = 0; i < Zones.Length; i++)
        {
            offerings.Add(new Offering(Zones[i], CapacityTypes.Spot, Math.Round(onDemand * (0.30m + (0.05m * i)), 5)));
            offerings.Add(new Offering(Zones[i], CapacityTypes.OnDemand, onDemand));
        }

        return FakeInstanceTypes.Create(name, new Resources(cpuMilli, memory, pods), offerings: offerings);
    }

    [Fact]
    public async Task Spread_pods_go_back_onto_their_launched_NodeClaims_once_their_nominations_expire()
    {
        await using var env = await StartAsync(Burstable());
        await env.ExpectNodePoolAsync(NodePool());
        var pods = await env.ExpectPendingAsync([.. Enumerable.Range(0, 9).Select(_ => Frontend(env))]);

        await ExpectNoSecondLaunchAsync(env, pods);
    }

    [Fact]
    public async Task Spread_pods_go_back_onto_their_NodeClaims_nodes_registered_before_their_zone_label()
    {
        await using var env = await StartAsync(Burstable());
        await env.ExpectNodePoolAsync(NodePool());
        var pods = await env.ExpectPendingAsync([.. Enumerable.Range(0, 9).Select(_ => Frontend(env))]);

        await ExpectNoSecondLaunchAsync(env, pods, register: true);
    }

    [Fact]
    public async Task Plain_pods_of_two_sizes_go_back_onto_their_launched_NodeClaims_once_their_nominations_expire()
    {
        await using var env = await StartAsync(Burstable());
        await env.ExpectNodePoolAsync(NodePool());
        var pods = await env.ExpectPendingAsync([
            .. Enumerable.Range(0, 7).Select(_ => env.Pod("1", "1Gi")),
            .. Enumerable.Range(0, 9).Select(_ => env.Pod("250m", "256Mi")),
        ]);

        await ExpectNoSecondLaunchAsync(env, pods);
    }

    [Fact]
    public async Task The_default_scenarios_first_scale_up_goes_back_onto_its_NodeClaims_before_they_launch()
    {
        await using var env = await StartAsync(Burstable());
        await env.ExpectNodePoolAsync(NodePool());
        await ExpectDaemonSetAsync(env, "150m");
        var pods = await env.ExpectPendingAsync([
            .. Enumerable.Range(0, 10).Select(_ => env.Pod("250m", "256Mi")),
            .. Enumerable.Range(0, 6).Select(_ => Api(env)),
        ]);

        await ExpectNoSecondLaunchAsync(env, pods, launch: false);
    }

    [Fact]
    public async Task A_spread_pod_pins_its_NodeClaim_to_the_zone_the_plan_chose()
    {
        await using var env = await StartAsync(Burstable());
        await env.ExpectNodePoolAsync(NodePool());
        await env.ExpectPendingAsync([.. Enumerable.Range(0, 3).Select(_ => Frontend(env))]);

        await env.ReconcileAsync();

        var claims = await env.NodeClaimsAsync();
        var zones = claims.Select(c => Assert.Single(c.Spec.Requirements, r => r.Key == Labels.TopologyZone)).ToList();
        Assert.All(zones, z => Assert.Equal(("In", 1), (z.Operator, z.Values!.Count)));
        Assert.Equal(Zones, zones.Select(z => z.Values![0]).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Provisions <paramref name="pods"/>, launches every NodeClaim unless told not to (as the lifecycle controller records a launch: the
    /// type, zone and capacity type as labels, the capacity in the status), registers a node for every other one when
    /// <paramref name="register"/> says so (none initialized), lets the
    /// nominations expire, and provisions again: the same NodeClaims, every pod nominated back onto them.
    /// </summary>
    private static async Task ExpectNoSecondLaunchAsync(ProvisioningEnvironment env, IReadOnlyList<V1Pod> pods, bool launch = true, bool register = false)
    {
        await env.ReconcileAsync();
        var first = await env.NodeClaimsAsync();
        Assert.NotEmpty(first);
        var registered = 0;
        foreach (var (claim, i) in first.Select((c, i) => (c, i)).Where(_ => launch))
        {
            var launched = await LaunchAsync(env, claim);
            if (register && i % 2 == 0)
            {
                await RegisterAsync(env, launched);
                registered++;
            }
        }

        await Eventually(() => env.State.NodeClaims().Count(c => c.ProviderId is not null && !c.Allocatable.IsZero) == (launch ? first.Count : 0), "the state sees the NodeClaims launched");
        await Eventually(() => env.State.NodeCount == registered, "the state sees the nodes registered");
        env.Clock.Advance(env.Provisioner.NominationWindow);
        Assert.Equal(pods.Count, env.State.PendingPods().Count);

        var again = await env.Provisioner.ProvisionAsync(CancellationToken.None);

        var inFlight = string.Join(", ", env.State.NodeClaims().Select(c => $"{c.Name} {c.Requirements}"));
        Assert.True(again.Launches.Count == 0, $"{again.Launches.Count} NodeClaim(s) created again for pods nominated to in-flight NodeClaims ({inFlight}); " +
            $"new: {string.Join("; ", again.Launches.Select(l => $"{l.Planned.Pods.Count} pod(s) {l.Planned.Requirements}"))}");
        Assert.Empty(again.Unschedulable);
        Assert.Equal(pods.Count, again.PlacedOnExisting);
        Assert.Equal(first.Select(c => c.Metadata.Name), (await env.NodeClaimsAsync()).Select(c => c.Metadata.Name));
    }

    /// <summary>
    /// The node of a launched NodeClaim as the kubelet first registers it: its provider ID and capacity, the
    /// unregistered and not-ready taints, and none of the NodeClaim's labels yet (no zone, no instance type).
    /// </summary>
    private static async Task RegisterAsync(ProvisioningEnvironment env, NodeClaim launched)
    {
        var node = await env.Client.CreateAsync(new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta { Name = $"node-{launched.Metadata.Name}", Labels = new Dictionary<string, string> { [Labels.Hostname] = $"node-{launched.Metadata.Name}" } },
            Spec = new V1NodeSpec
            {
                ProviderID = launched.Status.ProviderId,
                Taints =
                [
                    new V1Taint { Key = Taints.UnregisteredKey, Effect = "NoExecute" },
                    new V1Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoSchedule" },
                ],
            },
        });
        node.Status = new V1NodeStatus
        {
            Capacity = launched.Status.Capacity!.ToDictionary(kv => kv.Key, kv => kv.Value),
            Allocatable = launched.Status.Allocatable!.ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        await env.Client.UpdateStatusAsync(node);
    }

    private static async Task<NodeClaim> LaunchAsync(ProvisioningEnvironment env, NodeClaim claim)
    {
        var launched = await env.Cloud.CreateAsync(claim, CancellationToken.None);
        var stored = await env.Client.GetAsync<NodeClaim>(claim.Metadata.Name);
        foreach (var (key, value) in launched.Metadata.Labels)
        {
            stored.Metadata.Labels[key] = value;
        }

        stored = await env.Client.UpdateAsync(stored);
        stored.Status ??= new NodeClaimStatus();
        stored.Status.ProviderId = launched.Status.ProviderId;
        stored.Status.Capacity = launched.Status.Capacity;
        stored.Status.Allocatable = launched.Status.Allocatable;
        return await env.Client.UpdateStatusAsync(stored);
    }

    /// <summary>A 500m/512Mi pod of app <c>frontend</c>, spread over zones with maxSkew 1 (DoNotSchedule).</summary>
    private static V1Pod Frontend(ProvisioningEnvironment env)
    {
        var pod = env.Pod("500m", "512Mi", spec: ZoneSpread("frontend"));
        pod.Metadata.Labels = new Dictionary<string, string> { ["app"] = "frontend" };
        return pod;
    }

    /// <summary>A DaemonSet whose pod requests <paramref name="cpu"/> on every node (as the simulated cluster's kube-proxy and CNI).</summary>
    private static async Task ExpectDaemonSetAsync(ProvisioningEnvironment env, string cpu)
    {
        var template = env.Pod(cpu, "0", name: "agent");
        await env.Client.CreateAsync(new V1DaemonSet
        {
            ApiVersion = "apps/v1",
            Kind = "DaemonSet",
            Metadata = new V1ObjectMeta { Name = "agent", NamespaceProperty = "kube-system" },
            Spec = new V1DaemonSetSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "agent" } },
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "agent" } }, Spec = template.Spec },
            },
        });
        await Eventually(() => env.State.DaemonSetPods().Count == 1, "the state sees the DaemonSet");
    }

    /// <summary>A 500m/1Gi pod of app <c>api</c>, spread over zones with maxSkew 1 (ScheduleAnyway), as the default scenario's.</summary>
    private static V1Pod Api(ProvisioningEnvironment env)
    {
        var pod = env.Pod("500m", "1Gi", spec: ZoneSpread("api", "ScheduleAnyway"));
        pod.Metadata.Labels = new Dictionary<string, string> { ["app"] = "api" };
        return pod;
    }

    private static Action<V1PodSpec> ZoneSpread(string app, string whenUnsatisfiable = "DoNotSchedule") => spec =>
        spec.TopologySpreadConstraints =
        [
            new V1TopologySpreadConstraint
            {
                MaxSkew = 1,
                TopologyKey = Labels.TopologyZone,
                WhenUnsatisfiable = whenUnsatisfiable,
                LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = app } },
            },
        ];
}
