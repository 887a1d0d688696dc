using System.Text.Json.Nodes;

namespace Karpenter.Sim.Aws.World;

/// <summary>
/// The EventBridge envelopes EC2 and AWS Health deliver to the interruption queue, in the shape Karpenter parses
/// (<c>version</c>, <c>id</c>, <c>detail-type</c>, <c>source</c>, <c>account</c>, <c>time</c>, <c>region</c>,
/// <c>resources</c>, <c>detail</c>).
/// </summary>
internal static class EventBridgeMessages
{
    public static string SpotInterruption(AwsWorld world, Ec2Instance instance) =>
        Envelope(world, "EC2 Spot Instance Interruption Warning", "aws.ec2", [InstanceArn(world, instance)],
            new JsonObject { ["instance-id"] = instance.Id, ["instance-action"] = "terminate" });

    public static string RebalanceRecommendation(AwsWorld world, Ec2Instance instance) =>
        Envelope(world, "EC2 Instance Rebalance Recommendation", "aws.ec2", [InstanceArn(world, instance)],
            new JsonObject { ["instance-id"] = instance.Id });

    public static string StateChange(AwsWorld world, Ec2Instance instance) =>
        Envelope(world, "EC2 Instance State-change Notification", "aws.ec2", [InstanceArn(world, instance)],
            new JsonObject { ["instance-id"] = instance.Id, ["state"] = Ec2Instance.StateName(instance.State) });

    public static string ScheduledChange(AwsWorld world, Ec2Instance instance, DateTimeOffset start)
    {
        var startText = start.UtcDateTime.ToString("ddd, d MMM yyyy HH:mm:ss 'GMT'", System.Globalization.CultureInfo.InvariantCulture);
        var detail = new JsonObject
        {
            ["eventArn"] = $"arn:aws:health:{world.Region}::event/EC2/AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED/AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED_{world.NewGuid()}",
            ["service"] = "EC2",
            ["eventTypeCode"] = "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED",
            ["eventTypeCategory"] = "scheduledChange",
            ["startTime"] = startText,
            ["eventDescription"] = new JsonArray(new JsonObject
            {
                ["language"] = "en_US",
                ["latestDescription"] = "EC2 has detected degradation of the underlying hardware hosting your Amazon EC2 instance. The instance is scheduled for retirement.",
            }),
            ["affectedEntities"] = new JsonArray(new JsonObject { ["entityValue"] = instance.Id }),
        };
        return Envelope(world, "AWS Health Event", "aws.health", [], detail);
    }

    private static string InstanceArn(AwsWorld world, Ec2Instance instance) =>
        $"arn:aws:ec2:{instance.Zone}:{world.AccountId}:instance/{instance.Id}";

    private static string Envelope(AwsWorld world, string detailType, string source, string[] resources, JsonObject detail)
    {
        var envelope = new JsonObject
        {
            ["version"] = "0",
            ["id"] = world.NewGuid(),
            ["detail-type"] = detailType,
            ["source"] = source,
            ["account"] = world.AccountId,
            ["time"] = world.Now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["region"] = world.Region,
            ["resources"] = new JsonArray(resources.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
            ["detail"] = detail,
        };
        return envelope.ToJsonString();
    }
}
