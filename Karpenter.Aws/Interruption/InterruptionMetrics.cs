using System.Diagnostics.Metrics;

namespace Karpenter.Aws.Interruption;

/// <summary>The interruption instruments, by upstream's names (website metrics reference, "Interruption Metrics").</summary>
public sealed class InterruptionMetrics
{
    /// <summary>The meter of the AWS provider's instruments.</summary>
    public const string MeterName = "Karpenter.Aws";

    public InterruptionMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        ReceivedMessages = meter.CreateCounter<long>("karpenter_interruption_received_messages_total",
            description: "Count of messages received from the SQS queue. Broken down by message type and whether the message was actionable.");
        DeletedMessages = meter.CreateCounter<long>("karpenter_interruption_deleted_messages_total", description: "Count of messages deleted from the SQS queue.");
        MessageQueueDuration = meter.CreateHistogram<double>("karpenter_interruption_message_queue_duration_seconds", unit: "s",
            description: "Amount of time an interruption message is on the queue before it is processed by karpenter.");
    }

    /// <summary>Labelled <c>message_type</c> and <c>actionable</c>.</summary>
    public Counter<long> ReceivedMessages { get; }

    public Counter<long> DeletedMessages { get; }

    public Histogram<double> MessageQueueDuration { get; }
}
