using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.NodePools;
using Karpenter.Core.Provisioning;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static Karpenter.Tests.Core.Provisioning.ProvisioningEnvironment;

namespace Karpenter.Tests.Core.Provisioning;

/// <summary>The provisioner against the API emulator: pending pods in, NodeClaims of upstream's shape out.</summary>
public sealed class ProvisionerTests
{
    private static IReadOnlyList<InstanceType> Catalog(int count = 24) => FakeInstanceTypes.Synthetic(count);

    /// <summary>One 4-vCPU type, so limits are easy to count.</summary>
    private static IReadOnlyList<InstanceType> FourCpuOnly() =>
        [FakeInstanceTypes.Create("four-cpu", new Resources(4000, 16L << 30, 110))];

    [Fact]
    public async Task Pending_pods_become_NodeClaims_shaped_as_upstream_creates_them()
    {
        await using var env = await StartAsync(Catalog());
        var pool = await env.ExpectNodePoolAsync(NodePool(
            weight: 10,
            labels: new() { ["team"] = "payments" },
            annotations: new() { ["example.com/owner"] = "platform" },
            requirements: [Requirement(Labels.CapacityType, "In", CapacityTypes.OnDemand)]));
        var pods = await env.ExpectPendingAsync(env.Pod("1"), env.Pod("1"), env.Pod("1"));
        using var created = new MetricCollector<long>(env.Metrics.NodeClaimsCreated);

        await env.ReconcileAsync();

        var claim = Assert.Single(await env.NodeClaimsAsync());
        Assert.Equal("default-", claim.Metadata.GenerateName);
        Assert.StartsWith("default-", claim.Metadata.Name, StringComparison.Ordinal);
        var owner = Assert.Single(claim.Metadata.OwnerReferences);
        Assert.Equal(("karpenter.sh/v1", "NodePool", "default", pool.Metadata.Uid, true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.BlockOwnerDeletion));
        Assert.Equal("default", claim.Metadata.Labels[Labels.NodePool]);
        Assert.Equal("default", claim.Metadata.Labels["karpenter.k8s.aws/ec2nodeclass"]);
        Assert.Equal("payments", claim.Metadata.Labels["team"]);
        Assert.Equal("platform", claim.Metadata.Annotations["example.com/owner"]);
        Assert.Equal(NodePoolHash.Compute(pool), claim.Metadata.Annotations[Annotations.NodePoolHash]);
        Assert.Equal(Annotations.NodePoolHashVersionValue, claim.Metadata.Annotations[Annotations.NodePoolHashVersion]);
        Assert.Equal("false", claim.Metadata.Annotations[Annotations.NodeClaimMinValuesRelaxed]);
        Assert.Equal(NodeClassReference.Ec2NodeClass("default"), claim.Spec.NodeClassRef);

        var types = Assert.Single(claim.Spec.Requirements, r => r.Key == Labels.InstanceType);
        Assert.Equal("In", types.Operator);
        var prices = types.Values!.Select(n => env.Cloud.InstanceTypes.Single(t => t.Name == n).CheapestOffering()!.Price).ToList();
        Assert.Equal(prices.Order(), prices);
        Assert.True(types.Values!.Count > 1, "a NodeClaim carries every compatible instance type, not one");
        Assert.Equal(["on-demand"], Assert.Single(claim.Spec.Requirements, r => r.Key == Labels.CapacityType).Values);
        Assert.Equal(["default"], Assert.Single(claim.Spec.Requirements, r => r.Key == Labels.NodePool).Values);
        Assert.Equal(["payments"], Assert.Single(claim.Spec.Requirements, r => r.Key == "team").Values);
        Assert.DoesNotContain(claim.Spec.Requirements, r => r.Key == Labels.Hostname);
        var requests = Resources.FromList(claim.Spec.Resources!.Requests);
        Assert.Equal(3000, requests.CpuMilli);
        Assert.Equal(3, requests.Pods);

        Assert.All(pods, p => Assert.Equal($"Pod should schedule on: nodeclaim/{claim.Metadata.Name}", Assert.Single(env.Events.For(p.Metadata.Name, EventReasons.Nominated)).Message));
        Assert.All(pods, p => Assert.Equal(claim.Metadata.Name, env.State.NominatedTo(p)));
        var count = Assert.Single(created.GetMeasurementSnapshot());
        Assert.Equal(1, count.Value);
        Assert.Equal(("provisioned", "default", "false"), ((string)count.Tags["reason"]!, (string)count.Tags["nodepool"]!, (string)count.Tags["min_values_relaxed"]!));
    }

    [Fact]
    public async Task A_second_batch_within_the_nomination_window_does_not_launch_for_the_same_pods()
    {
        await using var env = await StartAsync(Catalog());
        await env.ExpectNodePoolAsync(NodePool());
        var pods = await env.ExpectPendingAsync(env.Pod("2"), env.Pod("2"));
        await env.ReconcileAsync();
        var first = await env.NodeClaimsAsync();
        await env.ExpectStateHasNodeClaimsAsync(first.Count);

        // The pods change (kube-scheduler retries them) and wake the provisioner again, inside the window.
        foreach (var pod in pods)
        {
            await MarkUnschedulableAsync(env.Client, await env.Client.PatchAsync<V1Pod>(pod.Metadata.Name, "default", KubePatch.Merge(new { metadata = new { labels = new { retried = "yes" } } })));
        }

        var podInformer = env.Informers.Get<V1Pod>();
        await Eventually(() => pods.All(p => podInformer.Get(new ObjectKey("default", p.Metadata.Name))?.Metadata.Labels?.ContainsKey("retried") == true), "the pods are seen again");
        env.Events.Clear();
        await env.ReconcileAsync();

        Assert.Equal(first.Select(c => c.Metadata.Name), (await env.NodeClaimsAsync()).Select(c => c.Metadata.Name));
        Assert.Empty(env.Events.All);
    }

    [Fact]
    public async Task Pods_still_pending_after_the_window_go_back_onto_their_in_flight_NodeClaim()
    {
        await using var env = await StartAsync(Catalog());
        await env.ExpectNodePoolAsync(NodePool());
        var pods = await env.ExpectPendingAsync(env.Pod("3"), env.Pod("3"));
        var result = await env.ReconcileAsync();
        var claim = Assert.Single(await env.NodeClaimsAsync());
        await env.ExpectStateHasNodeClaimsAsync(1);
        Assert.Equal(env.Provisioner.NominationWindow, result.RequeueAfter!.Value - TimeSpan.FromMilliseconds(1));

        env.Clock.Advance(env.Provisioner.NominationWindow);
        env.Events.Clear();
        await env.ReconcileAsync();

        Assert.Single(await env.NodeClaimsAsync());
        Assert.All(pods, p => Assert.Equal($"Pod should schedule on: nodeclaim/{claim.Metadata.Name}", Assert.Single(env.Events.For(p.Metadata.Name, EventReasons.Nominated)).Message));
    }

    [Fact]
    public async Task Limits_stop_provisioning_and_count_in_flight_NodeClaims()
    {
        await using var env = await StartAsync(FourCpuOnly());
        await env.ExpectNodePoolAsync(NodePool(limits: new() { ["cpu"] = new("8") }));

        // One batch: two 3-CPU pods need two 4-CPU nodes (8 CPU, the limit); the third does not fit under it.
        var first = await env.ExpectPendingAsync(env.Pod("3"), env.Pod("3"), env.Pod("3"));
        await env.ReconcileAsync();
        Assert.Equal(2, (await env.NodeClaimsAsync()).Count);
        var refused = Assert.Single(first, p => env.State.NominatedTo(p) is null);
        Assert.Contains("limits", Assert.Single(env.Events.For(refused.Metadata.Name, EventReasons.FailedScheduling)).Message, StringComparison.Ordinal);

        // A later batch: the in-flight NodeClaims (not launched, not yet in status.resources) still count.
        var late = (await env.ExpectPendingAsync(env.Pod("1")))[0];
        await env.ReconcileAsync();

        Assert.Equal(2, (await env.NodeClaimsAsync()).Count);
        var message = Assert.Single(env.Events.For(late.Metadata.Name, EventReasons.FailedScheduling)).Message;
        Assert.EndsWith("nodepool \"default\" was skipped, its limits are exhausted (cpu: 8 of 8)", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_in_the_NodePool_status_counts_against_its_limits()
    {
        await using var env = await StartAsync(FourCpuOnly());
        await env.ExpectNodePoolAsync(NodePool(limits: new() { ["cpu"] = new("10") }), usage: new() { ["cpu"] = new("8") });
        await env.ExpectPendingAsync(env.Pod("1"), env.Pod("1"), env.Pod("3"), env.Pod("3"));

        await env.ReconcileAsync();

        // 10 - 8 leaves room for no 4-CPU node.
        Assert.Empty(await env.NodeClaimsAsync());
    }

    [Fact]
    public async Task A_NodePool_that_is_not_Ready_is_skipped_even_when_it_weighs_more()
    {
        await using var env = await StartAsync(Catalog());
        await env.ExpectNodePoolAsync(NodePool("heavy", weight: 90), ready: false);
        await env.ExpectNodePoolAsync(NodePool("light", weight: 10));
        await env.ExpectPendingAsync(env.Pod("1"));

        await env.ReconcileAsync();

        Assert.Equal(["light"], (await env.NodeClaimsAsync()).Select(c => c.Metadata.Labels[Labels.NodePool]));
    }

    [Fact]
    public async Task Without_a_Ready_NodePool_pods_are_told_why()
    {
        await using var env = await StartAsync(Catalog());
        await env.ExpectNodePoolAsync(NodePool("default"), ready: false);
        var pod = (await env.ExpectPendingAsync(env.Pod("1")))[0];

        await env.ReconcileAsync();

        Assert.Empty(await env.NodeClaimsAsync());
        var message = Assert.Single(env.Events.For(pod.Metadata.Name, EventReasons.FailedScheduling)).Message;
        Assert.StartsWith("Failed to schedule pod, no NodePool is ready to launch capacity; nodepool \"default\" was skipped, it is not ready (Ready=False, UnhealthyDependents: NodeClassReady=False", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pod_that_fits_nowhere_gets_FailedScheduling_with_a_reason_per_NodePool_and_the_rest_proceed()
    {
        await using var env = await StartAsync(Catalog());
        await env.ExpectNodePoolAsync(NodePool("general", weight: 20));
        await env.ExpectNodePoolAsync(NodePool("gpu", weight: 10, taints: [new Taint { Key = "nvidia.com/gpu", Effect = Taints.EffectNoSchedule }]));
        var huge = env.Pod("500");
        var contradictory = env.Pod("1", spec: s => s.Affinity = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                {
                    NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new() { Key = Labels.Arch, OperatorProperty = "In", Values = ["amd64"] }, new() { Key = Labels.Arch, OperatorProperty = "NotIn", Values = ["amd64"] }] }],
                },
            },
        });
        var restricted = env.Pod("1", spec: s => s.NodeSelector = new Dictionary<string, string> { ["karpenter.sh/custom"] = "x" });
        var fine = env.Pod("1");
        await env.ExpectPendingAsync(huge, contradictory, restricted, fine);

        await env.ReconcileAsync();

        var hugeMessage = Assert.Single(env.Events.For(huge.Metadata.Name, EventReasons.FailedScheduling)).Message;
        Assert.Contains("incompatible with nodepool \"general\", ", hugeMessage, StringComparison.Ordinal);
        Assert.Contains("incompatible with nodepool \"gpu\", ", hugeMessage, StringComparison.Ordinal);
        Assert.Contains("did not tolerate taint nvidia.com/gpu", hugeMessage, StringComparison.Ordinal);
        var contradictoryMessage = Assert.Single(env.Events.For(contradictory.Metadata.Name, EventReasons.FailedScheduling)).Message;
        Assert.Contains("incompatible with nodepool \"general\"", contradictoryMessage, StringComparison.Ordinal);
        var restrictedMessage = Assert.Single(env.Events.For(restricted.Metadata.Name, EventReasons.FailedScheduling)).Message;
        Assert.StartsWith("Failed to schedule pod, ignoring pod, label karpenter.sh/custom is restricted", restrictedMessage, StringComparison.Ordinal);
        var claim = Assert.Single(await env.NodeClaimsAsync());
        Assert.Equal("general", claim.Metadata.Labels[Labels.NodePool]);
        Assert.Equal(claim.Metadata.Name, env.State.NominatedTo(fine));
    }

    [Fact]
    public async Task A_failed_create_does_not_lose_the_other_NodeClaims_and_its_pods_are_retried()
    {
        await using var env = await StartAsync(FourCpuOnly());
        await env.ExpectNodePoolAsync(NodePool());
        var pods = await env.ExpectPendingAsync(env.Pod("3"), env.Pod("3"), env.Pod("3"));
        var fault = env.Server.Faults.FailRequests(1, 500, "create", "nodeclaims.karpenter.sh", maxCount: 1);

        var result = await env.ReconcileAsync();

        Assert.Equal(1, fault.Hits);
        Assert.True(result.Requeue, "a failed create requeues with backoff");
        Assert.Equal(2, (await env.NodeClaimsAsync()).Count);
        var orphan = Assert.Single(pods, p => env.State.NominatedTo(p) is null);
        Assert.Single(env.State.PendingPods(), p => p.Metadata.Name == orphan.Metadata.Name);

        await env.ReconcileAsync();

        Assert.Equal(3, (await env.NodeClaimsAsync()).Count);
        Assert.NotNull(env.State.NominatedTo(orphan));
    }

    [Fact]
    public async Task Pods_of_a_node_being_deleted_get_new_capacity()
    {
        await using var env = await StartAsync(Catalog());
        await env.ExpectNodePoolAsync(NodePool());
        var node = await env.Client.CreateAsync(new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta { Name = "old-node", Labels = new Dictionary<string, string> { [Labels.NodePool] = "default" }, Finalizers = [Finalizers.Termination] },
            Spec = new V1NodeSpec(),
        });
        var pod = env.Pod("2");
        pod.Spec.NodeName = node.Metadata.Name;
        await env.Client.CreateAsync(pod);
        await Eventually(() => env.State.BoundPods().Any(b => b.Pod.Metadata.Name == pod.Metadata.Name), "the state sees the bound pod");

        await env.Client.DeleteAsync<V1Node>(node.Metadata.Name);
        await Eventually(() => env.State.ReschedulablePods().Count == 1, "the state sees the node being deleted");
        await env.ReconcileAsync();

        var claim = Assert.Single(await env.NodeClaimsAsync());
        Assert.Equal(2000, Resources.FromList(claim.Spec.Resources!.Requests).CpuMilli);
        Assert.Empty(env.State.ReschedulablePods());
    }

    [Fact]
    public async Task A_thousand_pending_pods_become_NodeClaims_in_one_batch()
    {
        await using var env = await StartAsync(Catalog(64));
        await env.ExpectNodePoolAsync(NodePool());
        var sizes = new[] { "250m", "500m", "1", "2" };
        var pods = await env.ExpectPendingAsync([.. Enumerable.Range(0, 1000).Select(i => env.Pod(sizes[i % sizes.Length], $"{256 << (i % 3)}Mi"))]);

        await env.ReconcileAsync();

        var claims = await env.NodeClaimsAsync();
        Assert.NotEmpty(claims);
        var byClaim = pods.GroupBy(p => env.State.NominatedTo(p)).ToDictionary(g => g.Key ?? "(none)", g => g.Count());
        Assert.False(byClaim.ContainsKey("(none)"), $"{byClaim.GetValueOrDefault("(none)")} pod(s) were left without a NodeClaim");
        Assert.Equal(claims.Select(c => c.Metadata.Name).Order(StringComparer.Ordinal), byClaim.Keys.Order(StringComparer.Ordinal));
        Assert.All(claims, c => Assert.Equal(byClaim[c.Metadata.Name], Resources.FromList(c.Spec.Resources!.Requests).Pods));
        Assert.Empty(env.State.PendingPods());
    }
}
