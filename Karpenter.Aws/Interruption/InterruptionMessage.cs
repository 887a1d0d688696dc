using System.Globalization;
using System.Text.Json;

namespace Karpenter.Aws.Interruption;

/// <summary>The kinds of EventBridge message the interruption queue carries (upstream <c>messages.Kind</c>), with their metric label.</summary>
public enum InterruptionKind
{
    /// <summary>Not a message Karpenter acts on (another source, an ignored state, malformed).</summary>
    NoOp,
    SpotInterruption,
    RebalanceRecommendation,
    ScheduledChange,
    InstanceStopped,
    InstanceTerminated,
    CapacityReservationInterruption,
}

/// <summary>One parsed interruption message: its kind, the instances it is about, and when EventBridge emitted it.</summary>
public sealed record InterruptionMessage(InterruptionKind Kind, string Id, IReadOnlyList<string> InstanceIds, DateTimeOffset? Time, string DetailType)
{
    /// <summary>The <c>message_type</c> label upstream uses in <c>karpenter_interruption_*</c> metrics.</summary>
    public string MetricKind => Kind switch
    {
        InterruptionKind.SpotInterruption => "spot_interrupted",
        InterruptionKind.RebalanceRecommendation => "rebalance_recommendation",
        InterruptionKind.ScheduledChange => "scheduled_change",
        InterruptionKind.InstanceStopped => "instance_stopped",
        InterruptionKind.InstanceTerminated => "instance_terminated",
        InterruptionKind.CapacityReservationInterruption => "capacity_reservation_interrupted",
        _ => "no_op",
    };

    /// <summary>Whether the message means the instance is going away (its NodeClaim is deleted); rebalance only informs.</summary>
    public bool IsActionable => Kind is InterruptionKind.SpotInterruption or InterruptionKind.ScheduledChange or InterruptionKind.InstanceStopped
        or InterruptionKind.InstanceTerminated or InterruptionKind.CapacityReservationInterruption;

    /// <summary>
    /// Parses an EventBridge envelope (upstream <c>pkg/controllers/interruption/parser.go</c>): dispatch on <c>source</c> and
    /// <c>detail-type</c>. Throws <see cref="FormatException"/> for a body that is not an EventBridge envelope; messages of
    /// other sources or ignored states parse as <see cref="InterruptionKind.NoOp"/>.
    /// </summary>
    public static InterruptionMessage Parse(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new FormatException($"the message is not JSON: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("detail-type", out var detailTypeElement)
                || !root.TryGetProperty("source", out var sourceElement))
            {
                throw new FormatException("the message is not an EventBridge event (no source or detail-type)");
            }
            var source = sourceElement.GetString() ?? "";
            var detailType = detailTypeElement.GetString() ?? "";
            var id = root.TryGetProperty("id", out var idElement) ? idElement.GetString() ?? "" : "";
            DateTimeOffset? time = root.TryGetProperty("time", out var timeElement)
                && DateTimeOffset.TryParse(timeElement.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
            var detail = root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
            var (kind, instances) = (source, detailType) switch
            {
                ("aws.ec2", "EC2 Spot Instance Interruption Warning") => (InterruptionKind.SpotInterruption, InstanceId(detail)),
                ("aws.ec2", "EC2 Instance Rebalance Recommendation") => (InterruptionKind.RebalanceRecommendation, InstanceId(detail)),
                ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning") => (InterruptionKind.CapacityReservationInterruption, InstanceId(detail)),
                ("aws.ec2", "EC2 Instance State-change Notification") => StateChange(detail),
                ("aws.health", "AWS Health Event") => ScheduledChange(detail),
                _ => (InterruptionKind.NoOp, []),
            };
            return new InterruptionMessage(instances.Count == 0 ? InterruptionKind.NoOp : kind, id, instances, time, detailType);
        }
    }

    private static List<string> InstanceId(JsonElement detail) =>
        detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("instance-id", out var id) && id.GetString() is { Length: > 0 } value ? [value] : [];

    private static (InterruptionKind, List<string>) StateChange(JsonElement detail)
    {
        var state = detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("state", out var s) ? s.GetString() : null;
        return state switch
        {
            "stopping" or "stopped" => (InterruptionKind.InstanceStopped, InstanceId(detail)),
            "shutting-down" or "terminated" => (InterruptionKind.InstanceTerminated, InstanceId(detail)),
            _ => (InterruptionKind.NoOp, []),
        };
    }

    private static (InterruptionKind, List<string>) ScheduledChange(JsonElement detail)
    {
        if (detail.ValueKind != JsonValueKind.Object
            || !(detail.TryGetProperty("service", out var service) && service.GetString() == "EC2")
            || !(detail.TryGetProperty("eventTypeCategory", out var category) && category.GetString() == "scheduledChange")
            || !detail.TryGetProperty("affectedEntities", out var entities) || entities.ValueKind != JsonValueKind.Array)
        {
            return (InterruptionKind.NoOp, []);
        }
        var ids = entities.EnumerateArray()
            .Select(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("entityValue", out var v) ? v.GetString() : null)
            .OfType<string>().Where(v => v.StartsWith("i-", StringComparison.Ordinal)).ToList();
        return (InterruptionKind.ScheduledChange, ids);
    }
}
