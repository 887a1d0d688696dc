using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.Interruption;
using Karpenter.Core.Metrics;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Sim.Aws.World;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using CapacityTypes = Karpenter.Entities.WellKnown.CapacityTypes;

namespace Karpenter.Tests.Aws.Interruption;

/// <summary>The interruption controller against both emulators: EventBridge messages in the SQS queue become NodeClaim deletions.</summary>
public sealed class InterruptionControllerTests
{
    private const string Queue = "karpenter-interruption";

    private const string Spot = """
          - key: karpenter.sh/capacity-type
            operator: In
            values: ["spot"]
        """;

    private static async Task<AwsProviderHarness> StartAsync()
    {
        var h = await AwsProviderHarness.StartAsync(provider: o => o.InterruptionQueue = Queue, withKube: true);
        h.Emulator.World.CreateQueue(Queue);
        h.Emulator.World.RouteEventsToQueue(Queue);
        await h.ReadyNodeClassAsync();
        return h;
    }

    /// <summary>Launches a NodeClaim and records it in the API server with its provider ID, as the lifecycle controller would.</summary>
    private static async Task<(NodeClaim Claim, string InstanceId)> LaunchAsync(AwsProviderHarness h, string name, string requirements = "")
    {
        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim(name, requirements), default));
        var created = await h.KubeClient.CreateAsync(AwsProviderHarness.NodeClaim(name, requirements));
        created.Status = launched.Status;
        created.Metadata.Labels = launched.Metadata.Labels;
        created = await h.KubeClient.UpdateAsync(created);
        created.Status = launched.Status;
        created = await h.KubeClient.UpdateStatusAsync(created);
        return (created, launched.Status.ProviderId!.Split('/').Last());
    }

    /// <summary>Lets the launched instances boot and handles their state-change notifications, so the queue starts empty.</summary>
    private static async Task DrainAsync(AwsProviderHarness h)
    {
        h.Time.Advance(TimeSpan.FromSeconds(15));
        while (h.Emulator.World.QueueMessages(Queue).Count > 0)
        {
            await ReconcileAsync(h);
        }
    }

    private static Task<ReconcileResult> ReconcileAsync(AwsProviderHarness h) => h.RunAsync(h.Get<InterruptionController>().ReconcileAsync(default));

    [Fact]
    public async Task A_spot_interruption_deletes_the_NodeClaim_marks_the_offering_and_deletes_the_message()
    {
        await using var h = await StartAsync();
        var (claim, instanceId) = await LaunchAsync(h, "spot-1", Spot);
        var (other, _) = await LaunchAsync(h, "spot-2", Spot);
        await DrainAsync(h);

        var metrics = h.Get<InterruptionMetrics>();
        using var received = new MetricCollector<long>(metrics.ReceivedMessages);
        using var deleted = new MetricCollector<long>(metrics.DeletedMessages);
        using var disrupted = new MetricCollector<long>(h.Get<LifecycleMetrics>().NodeClaimsDisrupted);

        h.Emulator.World.InterruptSpotInstance(instanceId);
        Assert.Single(h.Emulator.World.QueueMessages(Queue));
        await ReconcileAsync(h);

        var measurement = Assert.Single(received.GetMeasurementSnapshot());
        Assert.Equal("spot_interrupted", measurement.Tags["message_type"]);
        Assert.Equal("true", measurement.Tags["actionable"]);
        Assert.Equal(1, deleted.GetMeasurementSnapshot().Sum(m => m.Value));
        var disruption = Assert.Single(disrupted.GetMeasurementSnapshot());
        Assert.Equal(("spot_interrupted", "default", "spot"), (disruption.Tags["reason"], disruption.Tags["nodepool"], disruption.Tags["capacity_type"]));

        Assert.Null(await h.KubeClient.TryGetAsync<NodeClaim>(claim.Metadata.Name));
        Assert.NotNull(await h.KubeClient.TryGetAsync<NodeClaim>(other.Metadata.Name));
        Assert.True(h.Get<UnavailableOfferings>().IsUnavailable(CapacityTypes.Spot, claim.Metadata.Labels[Labels.InstanceType],
            claim.Metadata.Labels[Labels.TopologyZone]));
        Assert.Empty(h.Emulator.World.QueueMessages(Queue));
    }

    [Fact]
    public async Task A_rebalance_recommendation_keeps_the_NodeClaim_and_an_unparseable_message_is_deleted()
    {
        await using var h = await StartAsync();
        var (claim, instanceId) = await LaunchAsync(h, "rebalance-1", Spot);
        await DrainAsync(h);

        h.Emulator.World.SendRebalanceRecommendation(instanceId);
        var sqs = h.Aws.Clients.Sqs;
        var url = (await sqs.GetQueueUrlAsync(Queue)).QueueUrl;
        await sqs.SendMessageAsync(url, "this is not an EventBridge event");
        Assert.Equal(2, h.Emulator.World.QueueMessages(Queue).Count);
        await ReconcileAsync(h);

        Assert.NotNull(await h.KubeClient.TryGetAsync<NodeClaim>(claim.Metadata.Name));
        Assert.Empty(h.Emulator.World.QueueMessages(Queue));
    }

    [Fact]
    public async Task An_instance_terminated_outside_Karpenter_deletes_its_NodeClaim()
    {
        await using var h = await StartAsync();
        var (claim, instanceId) = await LaunchAsync(h, "od-1");
        await DrainAsync(h);

        h.Emulator.World.TerminateInstance(instanceId);
        await ReconcileAsync(h);

        Assert.Null(await h.KubeClient.TryGetAsync<NodeClaim>(claim.Metadata.Name));
        Assert.Equal(InstanceState.ShuttingDown, h.Emulator.World.FindInstance(instanceId)!.State);
    }

    [Fact]
    public async Task A_scheduled_maintenance_deletes_the_NodeClaim_as_a_scheduled_change_without_marking_capacity()
    {
        await using var h = await StartAsync();
        var (claim, instanceId) = await LaunchAsync(h, "od-maintenance");
        await DrainAsync(h);
        using var disrupted = new MetricCollector<long>(h.Get<LifecycleMetrics>().NodeClaimsDisrupted);

        h.Emulator.World.ScheduleMaintenance(instanceId, h.Time.GetUtcNow() + TimeSpan.FromDays(2));
        await ReconcileAsync(h);

        Assert.Null(await h.KubeClient.TryGetAsync<NodeClaim>(claim.Metadata.Name));
        Assert.Equal("scheduled_change", Assert.Single(disrupted.GetMeasurementSnapshot()).Tags["reason"]);
        Assert.False(h.Get<UnavailableOfferings>().IsUnavailable(CapacityTypes.OnDemand, claim.Metadata.Labels[Labels.InstanceType],
            claim.Metadata.Labels[Labels.TopologyZone]));
        Assert.Empty(h.Emulator.World.QueueMessages(Queue));
    }

    [Fact]
    public async Task An_empty_poll_asks_to_poll_again_at_once()
    {
        await using var h = await StartAsync();

        // The empty queue holds the long poll for its whole 20 s wait: step the clock a second at a time, not 10 ms
        // (which took 20+ s of real time on a loaded machine, close to the pump's 30 s limit).
        var result = await h.RunFastAsync(h.Get<InterruptionController>().ReconcileAsync(default), TimeSpan.FromSeconds(1));

        // Zero would mean "done" to the controller host: the queue would never be read again.
        Assert.True(result.RequeueAfter > TimeSpan.Zero && result.RequeueAfter < TimeSpan.FromMilliseconds(1), $"requeue after {result.RequeueAfter}");
    }

    [Fact]
    public async Task Without_an_interruption_queue_the_controller_is_idle()
    {
        await using var h = await AwsProviderHarness.StartAsync(withKube: true);

        Assert.Equal(ReconcileResult.Done, await h.Get<InterruptionController>().ReconcileAsync(default));
        Assert.Equal(0, h.Emulator.Faults.CallCount("ReceiveMessage"));
    }
}
