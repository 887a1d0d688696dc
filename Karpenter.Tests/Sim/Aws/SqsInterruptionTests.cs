using System.Text.Json;
using Amazon.SQS;
using Amazon.SQS.Model;
using Karpenter.Sim.Aws.World;
using InstanceState = Karpenter.Sim.Aws.World.InstanceState;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>
/// SQS through the real client (JSON 1.0, MD5 verified by the SDK's own handler) and the EventBridge messages the
/// interruption controller parses (aws-provider.md §1.8).
/// </summary>
public sealed class SqsInterruptionTests
{
    private static ReceiveMessageRequest KarpenterReceive(string url, int wait = 0) => new()
    {
        QueueUrl = url,
        MaxNumberOfMessages = 10,
        VisibilityTimeout = 20,
        WaitTimeSeconds = wait,
        MessageSystemAttributeNames = ["SentTimestamp"],
        MessageAttributeNames = ["All"],
    };

    [Fact]
    public async Task Messages_round_trip_with_a_body_MD5_the_SDK_accepts()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var url = (await h.Sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = "test-cluster", Attributes = new() { ["MessageRetentionPeriod"] = "300" } })).QueueUrl;
        Assert.Equal(url, (await h.Sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = "test-cluster" })).QueueUrl);

        var sent = await h.Sqs.SendMessageAsync(new SendMessageRequest { QueueUrl = url, MessageBody = "{\"héllo\":\"wörld\"}" });
        var message = Assert.Single((await h.Sqs.ReceiveMessageAsync(KarpenterReceive(url))).Messages);
        Assert.Equal(sent.MessageId, message.MessageId);
        Assert.Equal(sent.MD5OfMessageBody, message.MD5OfBody);
        Assert.True(message.Attributes.ContainsKey("SentTimestamp"));

        // In flight for 20 s: not received again until the visibility timeout passes on the clock.
        Assert.True((await h.Sqs.ReceiveMessageAsync(KarpenterReceive(url))).Messages is null or { Count: 0 });
        h.Clock.Advance(TimeSpan.FromSeconds(21));
        var again = Assert.Single((await h.Sqs.ReceiveMessageAsync(KarpenterReceive(url))).Messages);
        await h.Sqs.DeleteMessageAsync(new DeleteMessageRequest { QueueUrl = url, ReceiptHandle = again.ReceiptHandle });
        h.Clock.Advance(TimeSpan.FromSeconds(21));
        Assert.True((await h.Sqs.ReceiveMessageAsync(KarpenterReceive(url))).Messages is null or { Count: 0 });
    }

    [Fact]
    public async Task A_missing_queue_is_QueueDoesNotExist()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await Assert.ThrowsAsync<QueueDoesNotExistException>(() => h.Sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = "nope" }));
    }

    [Fact]
    public async Task A_long_poll_returns_when_a_message_arrives_without_the_clock_moving()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var url = (await h.Sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = "long-poll" })).QueueUrl;
        var poll = h.Sqs.ReceiveMessageAsync(KarpenterReceive(url, wait: 20));
        await EventuallyAsync(() => h.Emulator.Faults.CallCount("ReceiveMessage") == 1);

        await h.Sqs.SendMessageAsync(new SendMessageRequest { QueueUrl = url, MessageBody = "wake up" });
        Assert.Equal("wake up", Assert.Single((await poll).Messages).Body);
        Assert.Equal(EmulatorHarness.Epoch, h.Clock.GetUtcNow());
    }

    [Fact]
    public async Task An_empty_long_poll_ends_only_once_the_wait_has_passed_on_the_clock()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var url = (await h.Sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = "empty" })).QueueUrl;
        var poll = h.Sqs.ReceiveMessageAsync(KarpenterReceive(url, wait: 20));
        await EventuallyAsync(() => h.Emulator.Faults.CallCount("ReceiveMessage") == 1);

        var advanced = TimeSpan.Zero;
        for (var i = 0; i < 600 && !poll.IsCompleted; i++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
            await Task.WhenAny(poll, Task.Delay(5));
        }

        Assert.True((await poll).Messages is null or { Count: 0 });
        Assert.True(advanced >= TimeSpan.FromSeconds(20), $"the poll ended after {advanced} of emulated time");
    }

    /// <summary>Waits (boundedly) for the emulator to reach a state another thread is driving it to.</summary>
    private static async Task EventuallyAsync(Func<bool> condition)
    {
        // Bounded generously: a loaded two-core machine may take seconds to JIT and send the first request.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition() && !limit.IsCancellationRequested)
        {
            await Task.Delay(5, CancellationToken.None);
        }

        Assert.True(condition());
    }

    [Fact]
    public async Task A_spot_interruption_sends_the_warning_and_reclaims_the_instance_two_minutes_later()
    {
        await using var h = await EmulatorHarness.StartAsync(o => o.EmitStateChangeNotifications = false);
        var url = (await h.Sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = "test-cluster" })).QueueUrl;
        h.Emulator.World.RouteEventsToQueue("test-cluster");
        var id = Assert.Single(Assert.Single((await h.LaunchAsync("spot", "m5.large")).Instances).InstanceIds);
        h.Clock.Advance(TimeSpan.FromSeconds(10));

        var reclaimAt = h.Emulator.World.InterruptSpotInstance(id);
        Assert.Equal(h.Clock.GetUtcNow().AddMinutes(2), reclaimAt);

        var message = Assert.Single((await h.Sqs.ReceiveMessageAsync(KarpenterReceive(url))).Messages);
        using var body = JsonDocument.Parse(message.Body);
        var root = body.RootElement;
        Assert.Equal("0", root.GetProperty("version").GetString());
        Assert.Equal("aws.ec2", root.GetProperty("source").GetString());
        Assert.Equal("EC2 Spot Instance Interruption Warning", root.GetProperty("detail-type").GetString());
        Assert.Equal("us-east-1", root.GetProperty("region").GetString());
        Assert.Equal(h.Emulator.AccountId, root.GetProperty("account").GetString());
        Assert.Equal(id, root.GetProperty("detail").GetProperty("instance-id").GetString());
        Assert.Equal("terminate", root.GetProperty("detail").GetProperty("instance-action").GetString());
        Assert.EndsWith("instance/" + id, root.GetProperty("resources")[0].GetString(), StringComparison.Ordinal);

        h.Clock.Advance(TimeSpan.FromSeconds(119));
        h.Emulator.World.Tick();
        Assert.Equal(InstanceState.Running, h.Emulator.World.FindInstance(id)!.State);
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        h.Emulator.World.Tick();
        var reclaimed = h.Emulator.World.FindInstance(id)!;
        Assert.Equal(InstanceState.ShuttingDown, reclaimed.State);
        Assert.Equal("Server.SpotInstanceTermination", reclaimed.StateReason);
    }

    [Fact]
    public async Task On_demand_instances_cannot_be_spot_interrupted()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var id = Assert.Single(Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances).InstanceIds);
        Assert.Throws<InvalidOperationException>(() => h.Emulator.World.InterruptSpotInstance(id));
    }

    [Fact]
    public async Task Rebalance_scheduled_change_and_state_change_messages_have_the_shapes_Karpenter_dispatches_on()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var url = (await h.Sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = "events" })).QueueUrl;
        var id = Assert.Single(Assert.Single((await h.LaunchAsync("spot", "m5.large")).Instances).InstanceIds);
        h.Clock.Advance(TimeSpan.FromSeconds(10));
        h.Emulator.World.SendRebalanceRecommendation(id);
        h.Emulator.World.ScheduleMaintenance(id, h.Clock.GetUtcNow().AddDays(1));
        await h.Ec2.TerminateInstancesAsync(new Amazon.EC2.Model.TerminateInstancesRequest { InstanceIds = [id] });

        var bodies = new List<JsonElement>();
        while (true)
        {
            var messages = (await h.Sqs.ReceiveMessageAsync(KarpenterReceive(url))).Messages;
            if (messages is null or { Count: 0 })
            {
                break;
            }

            bodies.AddRange(messages.Select(m => JsonDocument.Parse(m.Body).RootElement));
        }

        var kinds = bodies.Select(b => (b.GetProperty("source").GetString(), b.GetProperty("detail-type").GetString(),
            b.GetProperty("detail").TryGetProperty("state", out var s) ? s.GetString() : null)).ToList();
        Assert.Equal(
        [
            ("aws.ec2", "EC2 Instance State-change Notification", "pending"),
            ("aws.ec2", "EC2 Instance State-change Notification", "running"),
            ("aws.ec2", "EC2 Instance Rebalance Recommendation", null),
            ("aws.health", "AWS Health Event", null),
            ("aws.ec2", "EC2 Instance State-change Notification", "shutting-down"),
        ], kinds);
        var health = bodies[3].GetProperty("detail");
        Assert.Equal("EC2", health.GetProperty("service").GetString());
        Assert.Equal("scheduledChange", health.GetProperty("eventTypeCategory").GetString());
        Assert.Equal(id, health.GetProperty("affectedEntities")[0].GetProperty("entityValue").GetString());
    }
}
