using Karpenter.Aws.Interruption;

namespace Karpenter.Tests.Aws.Interruption;

/// <summary>EventBridge envelopes as upstream's interruption suite builds them, parsed into kinds and instances.</summary>
public sealed class InterruptionMessageTests
{
    private static string Envelope(string source, string detailType, string detail) =>
        $$"""{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"{{detailType}}","source":"{{source}}","account":"123456789012","time":"2026-01-01T12:00:00Z","region":"us-west-2","resources":[],"detail":{{detail}}}""";

    [Theory]
    [InlineData("aws.ec2", "EC2 Spot Instance Interruption Warning", """{"instance-id":"i-0abc","instance-action":"terminate"}""", InterruptionKind.SpotInterruption, true)]
    [InlineData("aws.ec2", "EC2 Instance Rebalance Recommendation", """{"instance-id":"i-0abc"}""", InterruptionKind.RebalanceRecommendation, false)]
    [InlineData("aws.ec2", "EC2 Instance State-change Notification", """{"instance-id":"i-0abc","state":"stopping"}""", InterruptionKind.InstanceStopped, true)]
    [InlineData("aws.ec2", "EC2 Instance State-change Notification", """{"instance-id":"i-0abc","state":"terminated"}""", InterruptionKind.InstanceTerminated, true)]
    [InlineData("aws.ec2", "EC2 Instance State-change Notification", """{"instance-id":"i-0abc","state":"running"}""", InterruptionKind.NoOp, false)]
    [InlineData("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning", """{"instance-id":"i-0abc"}""", InterruptionKind.CapacityReservationInterruption, true)]
    [InlineData("aws.health", "AWS Health Event", """{"service":"EC2","eventTypeCategory":"scheduledChange","affectedEntities":[{"entityValue":"i-0abc"}]}""", InterruptionKind.ScheduledChange, true)]
    [InlineData("aws.health", "AWS Health Event", """{"service":"EC2","eventTypeCategory":"issue","affectedEntities":[{"entityValue":"i-0abc"}]}""", InterruptionKind.NoOp, false)]
    [InlineData("aws.autoscaling", "EC2 Instance Launch Successful", """{"EC2InstanceId":"i-0abc"}""", InterruptionKind.NoOp, false)]
    public void Messages_are_dispatched_on_source_and_detail_type(string source, string detailType, string detail, InterruptionKind kind, bool actionable)
    {
        var message = InterruptionMessage.Parse(Envelope(source, detailType, detail));

        Assert.Equal(kind, message.Kind);
        Assert.Equal(actionable, message.IsActionable);
        Assert.Equal(kind == InterruptionKind.NoOp ? [] : ["i-0abc"], message.InstanceIds);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero), message.Time);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"hello":"world"}""")]
    [InlineData("[1,2]")]
    public void A_body_that_is_not_an_EventBridge_event_is_a_format_error(string body) =>
        Assert.Throws<FormatException>(() => InterruptionMessage.Parse(body));

    [Fact]
    public void Metric_kinds_are_upstreams_label_values()
    {
        Assert.Equal("spot_interrupted", InterruptionMessage.Parse(Envelope("aws.ec2", "EC2 Spot Instance Interruption Warning", """{"instance-id":"i-1"}""")).MetricKind);
        Assert.Equal("scheduled_change", InterruptionMessage.Parse(Envelope("aws.health", "AWS Health Event",
            """{"service":"EC2","eventTypeCategory":"scheduledChange","affectedEntities":[{"entityValue":"i-1"}]}""")).MetricKind);
    }
}
