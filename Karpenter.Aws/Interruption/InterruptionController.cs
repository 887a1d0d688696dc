using System.Diagnostics;
using System.Globalization;
using Amazon.SQS.Model;
using k8s.Models;
using Karpenter.Aws.Instances;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Kube.Informers;
using Microsoft.Extensions.Logging;

namespace Karpenter.Aws.Interruption;

/// <summary>
/// The <c>interruption</c> controller (upstream <c>pkg/controllers/interruption</c>): long-polls the interruption queue,
/// and for each EventBridge message about an instance of a NodeClaim (spot interruption warning, scheduled maintenance,
/// stop or termination) deletes that NodeClaim so its node is drained and replaced before EC2 takes it; a spot interruption
/// also marks the spot offering unavailable. Rebalance recommendations only raise an event. Every message is deleted once
/// handled, and so is a message that cannot be parsed; a message whose handling failed stays for another attempt.
/// </summary>
public sealed partial class InterruptionController(SqsProvider queue, IKubeClient client, InformerFactory informers,
    UnavailableOfferings unavailable, IEventRecorder events, InterruptionMetrics metrics, TimeProvider time,
    ILogger<InterruptionController> logger) : ISingletonReconciler
{
    public const string Name = "interruption";

    private readonly Informer<NodeClaim> _nodeClaims = informers.Get<NodeClaim>();

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        if (queue.Name.Length == 0)
        {
            return ReconcileResult.Done; // INTERRUPTION_QUEUE is unset: interruption handling is off, as upstream.
        }
        var messages = await queue.ReceiveAsync(cancellationToken);
        if (messages.Count == 0)
        {
            return ReconcileResult.After(TimeSpan.Zero);
        }
        var claims = await NodeClaimsByInstanceAsync(cancellationToken);
        var failures = new List<Exception>();
        foreach (var message in messages)
        {
            try
            {
                await HandleAsync(message, claims, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failures.Add(e);
                LogHandlingFailed(logger, message.MessageId, e.Message);
            }
        }
        if (failures.Count > 0)
        {
            throw new AggregateException("handling interruption messages", failures);
        }
        return ReconcileResult.After(TimeSpan.Zero);
    }

    private async Task HandleAsync(Message message, Dictionary<string, NodeClaim> claims, CancellationToken cancellationToken)
    {
        InterruptionMessage parsed;
        try
        {
            parsed = InterruptionMessage.Parse(message.Body ?? "");
        }
        catch (FormatException e)
        {
            // Upstream deletes what it cannot parse: it would fail the same way forever.
            LogUnparseable(logger, message.MessageId, e.Message);
            await DeleteAsync(message, cancellationToken);
            return;
        }
        metrics.ReceivedMessages.Add(1, new TagList
        {
            { "message_type", parsed.MetricKind },
            { "actionable", parsed.IsActionable ? "true" : "false" },
        });
        if (SentAt(message) is { } sent)
        {
            metrics.MessageQueueDuration.Record(Math.Max(0, (time.GetUtcNow() - sent).TotalSeconds));
        }
        foreach (var instanceId in parsed.InstanceIds)
        {
            if (claims.TryGetValue(instanceId, out var claim))
            {
                await ActAsync(parsed, claim, cancellationToken);
            }
        }
        await DeleteAsync(message, cancellationToken);
    }

    private async Task ActAsync(InterruptionMessage message, NodeClaim claim, CancellationToken cancellationToken)
    {
        Publish(message, claim);
        if (!message.IsActionable)
        {
            return;
        }
        if (message.Kind == InterruptionKind.SpotInterruption
            && claim.Metadata.Labels.ValueOf(Labels.InstanceType) is { } type && claim.Metadata.Labels.ValueOf(Labels.TopologyZone) is { } zone)
        {
            unavailable.MarkUnavailable("SpotInterruption", CapacityTypes.Spot, type, zone);
        }
        if (claim.Metadata.DeletionTimestamp is not null)
        {
            return;
        }
        try
        {
            await client.DeleteAsync<NodeClaim>(claim.Metadata.Name, cancellationToken: cancellationToken);
            LogDeleted(logger, claim.Metadata.Name, message.MetricKind, claim.Status.ProviderId ?? "");
        }
        catch (KubeNotFoundException)
        {
            // Already gone.
        }
    }

    private void Publish(InterruptionMessage message, NodeClaim claim)
    {
        var (type, reason, text) = message.Kind switch
        {
            InterruptionKind.SpotInterruption => (EventTypes.Warning, EventReasons.SpotInterrupted, "Spot interruption warning was triggered"),
            InterruptionKind.RebalanceRecommendation => (EventTypes.Normal, EventReasons.SpotRebalanceRecommendation, "Spot rebalance recommendation was triggered"),
            InterruptionKind.ScheduledChange => (EventTypes.Warning, EventReasons.InstanceUnhealthy, "An unhealthy warning was triggered for the instance"),
            InterruptionKind.InstanceStopped => (EventTypes.Warning, EventReasons.InstanceStopping, "Instance is stopping"),
            InterruptionKind.InstanceTerminated => (EventTypes.Warning, EventReasons.InstanceTerminating, "Instance is terminating"),
            InterruptionKind.CapacityReservationInterruption => (EventTypes.Warning, EventReasons.CapacityReservationInterrupted,
                "Capacity reservation interruption warning was triggered"),
            _ => (EventTypes.Normal, "", ""),
        };
        if (reason.Length == 0)
        {
            return;
        }
        events.Publish(new KubeEvent(claim, type, reason, text) { DedupeValues = [claim.Metadata.Name, message.Id] });
        if (claim.Status.NodeName is { Length: > 0 } nodeName)
        {
            var node = new V1Node { ApiVersion = "v1", Kind = "Node", Metadata = new V1ObjectMeta { Name = nodeName } };
            events.Publish(new KubeEvent(node, type, reason, text) { DedupeValues = [nodeName, message.Id] });
        }
    }

    private async Task DeleteAsync(Message message, CancellationToken cancellationToken)
    {
        await queue.DeleteAsync(message, cancellationToken);
        metrics.DeletedMessages.Add(1);
    }

    /// <summary>The NodeClaims with a provider ID, by instance id (from the informer once synced, else from the API server).</summary>
    private async Task<Dictionary<string, NodeClaim>> NodeClaimsByInstanceAsync(CancellationToken cancellationToken)
    {
        IEnumerable<NodeClaim> claims = _nodeClaims.HasSynced
            ? _nodeClaims.List()
            : (await client.ListAllAsync<NodeClaim>(cancellationToken: cancellationToken)).Items;
        var result = new Dictionary<string, NodeClaim>(StringComparer.Ordinal);
        foreach (var claim in claims)
        {
            if (Ec2Instance.ParseProviderId(claim.Status?.ProviderId) is { } id)
            {
                result[id] = claim;
            }
        }
        return result;
    }

    private static DateTimeOffset? SentAt(Message message) =>
        message.Attributes is { } attributes && attributes.TryGetValue("SentTimestamp", out var ms)
            && long.TryParse(ms, NumberStyles.Integer, CultureInfo.InvariantCulture, out var epochMs)
            ? DateTimeOffset.FromUnixTimeMilliseconds(epochMs)
            : null;

    [LoggerMessage(EventId = 2500, Level = LogLevel.Information, Message = "deleting nodeclaim {NodeClaim} ({ProviderId}): {Kind}")]
    private static partial void LogDeleted(ILogger logger, string nodeClaim, string kind, string providerId);

    [LoggerMessage(EventId = 2501, Level = LogLevel.Warning, Message = "deleting interruption message {MessageId} that cannot be parsed: {Reason}")]
    private static partial void LogUnparseable(ILogger logger, string messageId, string reason);

    [LoggerMessage(EventId = 2502, Level = LogLevel.Warning, Message = "handling interruption message {MessageId} failed; it stays on the queue: {Reason}")]
    private static partial void LogHandlingFailed(ILogger logger, string messageId, string reason);
}
