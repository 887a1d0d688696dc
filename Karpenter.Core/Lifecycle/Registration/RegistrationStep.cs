using k8s.Models;
using Karpenter.Core.Metrics;
using Karpenter.Core.NodePools;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Events;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Lifecycle.Registration;

/// <summary>
/// The registration step of <c>nodeclaim.lifecycle</c>: adopts the Node whose provider ID is the NodeClaim's. The Node
/// gets the termination finalizer, an owner reference to the NodeClaim, the NodeClaim's labels and annotations, its
/// taints and startup taints (unless labelled <c>karpenter.sh/do-not-sync-taints</c>) and the
/// <c>karpenter.sh/registered</c> label; the <c>karpenter.sh/unregistered</c> taint the kubelet registered with is
/// removed. A Node without that taint is refused (event <c>UnregisteredTaintMissing</c>), as upstream does, so a
/// Node that was never launched by Karpenter is never adopted.
/// </summary>
public sealed class RegistrationStep(IKubeClient client, ClusterIndexes indexes, NodePoolRegistrationHealth registrationHealth, IEventRecorder events, LifecycleMetrics metrics, TimeProvider time, ILogger<RegistrationStep> logger)
{
    public async Task<StepOutcome> ReconcileAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        if (nodeClaim.IsTrue(ConditionTypes.Registered))
        {
            return StepOutcome.Done;
        }

        var now = time.GetUtcNow();
        if (!nodeClaim.IsTrue(ConditionTypes.Launched))
        {
            nodeClaim.SetFalse(ConditionTypes.Registered, "NotLaunched", "Node not launched", now);
            return StepOutcome.Done;
        }

        var nodes = indexes.NodesForProviderId(nodeClaim.Status.ProviderId);
        if (nodes.Count == 0)
        {
            nodeClaim.SetFalse(ConditionTypes.Registered, "NodeNotFound", "Node not registered with cluster", now);
            return StepOutcome.Done;
        }

        if (nodes.Count > 1)
        {
            var names = string.Join(", ", nodes.Select(n => n.Metadata.Name).Order(StringComparer.Ordinal));
            var message = $"Invariant violated, matched multiple nodes with provider ID {nodeClaim.Status.ProviderId}: {names}";
            nodeClaim.SetFalse(ConditionTypes.Registered, EventReasons.MultipleNodesFound, message, now);
            events.Publish(new KubeEvent(nodeClaim, EventTypes.Warning, EventReasons.MultipleNodesFound, message));
            return StepOutcome.Done;
        }

        var node = nodes[0];
        var alreadySynced = node.Metadata.Labels?.ContainsKey(Labels.NodeRegistered) == true;
        if (!alreadySynced && !(node.Spec?.Taints?.Any(t => t.Key == Taints.UnregisteredKey) ?? false))
        {
            var message = $"Node {node.Metadata.Name} registered without the {Taints.UnregisteredKey}:{Taints.EffectNoExecute} taint Karpenter's nodes start with; not adopting it";
            logger.UnregisteredTaintMissing(nodeClaim.Metadata.Name, node.Metadata.Name);
            events.Publish(new KubeEvent(nodeClaim, EventTypes.Warning, EventReasons.UnregisteredTaintMissing, message));
            nodeClaim.SetFalse(ConditionTypes.Registered, EventReasons.UnregisteredTaintMissing, message, now);
            return StepOutcome.Retry;
        }

        var synced = Sync(nodeClaim, node);
        try
        {
            await client.PatchFromAsync(node, synced, optimisticLock: true, cancellationToken);
        }
        catch (KubeConflictException)
        {
            return StepOutcome.Retry;
        }

        nodeClaim.SetTrue(ConditionTypes.Registered, now);
        nodeClaim.Status.NodeName = node.Metadata.Name;
        logger.Registered(nodeClaim.Metadata.Name, node.Metadata.Name);
        metrics.NodesCreated.Add(1, LifecycleMetrics.Pool(nodeClaim.NodePoolName));
        await registrationHealth.RegisteredAsync(nodeClaim, cancellationToken);
        return StepOutcome.Done;
    }

    /// <summary>The Node as registration leaves it (a modified copy).</summary>
    public static V1Node Sync(NodeClaim nodeClaim, V1Node node)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        ArgumentNullException.ThrowIfNull(node);
        var synced = KubeObjects.DeepClone(node);
        var meta = synced.Metadata;
        meta.Finalizers ??= [];
        if (!meta.Finalizers.Contains(Finalizers.Termination))
        {
            meta.Finalizers.Add(Finalizers.Termination);
        }

        meta.OwnerReferences ??= [];
        if (!meta.OwnerReferences.Any(o => o.Uid == nodeClaim.Metadata.Uid))
        {
            meta.OwnerReferences.Add(new V1OwnerReference
            {
                ApiVersion = nodeClaim.ApiVersion,
                Kind = nodeClaim.Kind,
                Name = nodeClaim.Metadata.Name,
                Uid = nodeClaim.Metadata.Uid,
                BlockOwnerDeletion = true,
            });
        }

        meta.Annotations ??= new Dictionary<string, string>();
        foreach (var (k, v) in nodeClaim.Metadata.Annotations ?? new Dictionary<string, string>())
        {
            meta.Annotations[k] = v;
        }

        meta.Labels ??= new Dictionary<string, string>();
        foreach (var (k, v) in nodeClaim.Metadata.Labels ?? new Dictionary<string, string>())
        {
            meta.Labels[k] = v;
        }

        meta.Labels[Labels.NodeRegistered] = "true";
        synced.Spec ??= new V1NodeSpec();
        var taints = synced.Spec.Taints?.ToList() ?? [];
        if (!meta.Labels.ContainsKey(Labels.DoNotSyncTaints))
        {
            foreach (var taint in (nodeClaim.Spec.Taints ?? []).Concat(nodeClaim.Spec.StartupTaints ?? []))
            {
                if (!taints.Any(t => t.Key == taint.Key && t.Effect == taint.Effect))
                {
                    taints.Add(taint.ToV1Taint());
                }
            }
        }

        taints.RemoveAll(t => t.Key == Taints.UnregisteredKey && t.Effect == Taints.EffectNoExecute);
        synced.Spec.Taints = taints;
        return synced;
    }
}
