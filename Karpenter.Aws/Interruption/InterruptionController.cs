using System.Diagnostics;
using System.Globalization;
using Amazon.SQS.Model;
using k8s.Models;
using Karpenter.Aws.Instances;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Core.Metrics;
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
/// also marks the spot offering unavailable. Rebalance recommendations only raise an event. The deletion is forceful (no
/// budget, no replacement first): the NodeClaim's one termination path taints, drains within its terminationGracePeriod and
/// terminates the instance, and the drained pods' new homes are launched by the provisioner, which counts the pods of a
/// deleting node as pending. As upstream, each deletion raises <c>TerminatingOnInterruption</c> on the NodeClaim and Node and
/// counts in <c>karpenter_nodeclaims_disrupted_total</c> with the message kind as reason. Every message is deleted once
/// handled, and so is a message that cannot be parsed; a message whose handling failed stays for another attempt.
/// </summary>
public sealed partial class InterruptionController(SqsProvider queue, IKubeClient client, InformerFactory informers,
    UnavailableOfferings unavailable, IEventRecorder events, InterruptionMetrics metrics, LifecycleMetrics lifecycleMetrics, TimeProvider time,
    ILogger<InterruptionController> logger) : ISingletonReconciler
{
    public const string Name = "interruption";

    /// <summary>
    /// Upstream's <c>singleton.RequeueImmediately</c>: poll again at once (the receive itself long-polls). A zero delay
    /// would mean "done" to the controller host, and the queue would be read only once.
    /// </summary>
    public static readonly TimeSpan RequeueImmediately = TimeSpan.FromTicks(1);

    private readonly Informer<NodeClaim> _nodeClaims = informers.Get<NodeClaim>();
    private readonly Informer<V1Node> _nodes = informers.Get<V1Node>();

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        if (queue.Name.Length == 0)
        {
            return ReconcileResult.Done; // INTERRUPTION_QUEUE is unset: interruption handling is off, as upstream.
        }
        var messages = await queue.ReceiveAsync(cancellationToken);
        if (messages.Count == 0)
        {
            return ReconcileResult.After(RequeueImmediately);
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
        return ReconcileResult.After(RequeueImmediately);
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
        if (await client.DeleteIfExistsAsync<NodeClaim>(claim.Metadata.Name, null, KubeClientExtensions.Preconditions(claim.Metadata.Uid), cancellationToken))
        {
            LogDeleted(logger, claim.Metadata.Name, message.MetricKind, claim.Status.ProviderId ?? "");
            Publish(claim, EventTypes.Warning, EventReasons.TerminatingOnInterruption, "Interruption triggered termination for the NodeClaim", "Interruption triggered termination for the Node", claim.Metadata.Uid ?? claim.Metadata.Name);
            lifecycleMetrics.NodeClaimsDisrupted.Add(1, LifecycleMetrics.Disruption(message.MetricKind, claim.Metadata.Labels.ValueOf(Labels.NodePool), claim.Metadata.Labels.ValueOf(Labels.CapacityType)));
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
        Publish(claim, type, reason, text, text, message.Id);
    }

    /// <summary>Publishes on the NodeClaim and on its Node (from the cache when there, else by name).</summary>
    private void Publish(NodeClaim claim, string type, string reason, string claimText, string nodeText, string dedupe)
    {
        events.Publish(new KubeEvent(claim, type, reason, claimText) { DedupeValues = [claim.Metadata.Name, dedupe] });
        if (claim.Status?.NodeName is { Length: > 0 } nodeName)
        {
            var node = _nodes.Get(ObjectKey.Cluster(nodeName)) ?? new V1Node { ApiVersion = "v1", Kind = "Node", Metadata = new V1ObjectMeta { Name = nodeName } };
            events.Publish(new KubeEvent(node, type, reason, nodeText) { DedupeValues = [nodeName, dedupe] });
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
