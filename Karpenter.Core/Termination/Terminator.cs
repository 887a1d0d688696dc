using System.Globalization;
using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Termination;

/// <summary>What one drain pass found: the pods still to go, and how many of them carry <c>karpenter.sh/do-not-disrupt</c>.</summary>
public readonly record struct DrainStatus(int Waiting, int DoNotDisrupt)
{
    public bool Drained => Waiting == 0;

    public override string ToString() => DoNotDisrupt == 0
        ? $"{Waiting} pods are waiting to be evicted"
        : $"{Waiting} pods are waiting to be evicted ({DoNotDisrupt} with {Annotations.DoNotDisrupt} wait for the termination grace period)";
}

/// <summary>
/// The steps of a Node's termination (upstream <c>node/termination/terminator</c>): taint it, drain it through the
/// eviction queue in priority order, delete pods whose share of the termination grace period has run out, and find
/// the volume attachments that still hold it.
/// </summary>
public sealed class Terminator(IKubeClient client, ClusterIndexes indexes, ControllerManager controllers, IEventRecorder events, TimeProvider time, ILogger<Terminator> logger)
{
    /// <summary>The value of <c>node.kubernetes.io/exclude-from-external-load-balancers</c> a terminating node gets.</summary>
    public const string ExcludeFromLoadBalancersValue = "karpenter";

    private int _volumeAttachmentsUnserved;

    /// <summary>
    /// Puts <c>karpenter.sh/disrupted:NoSchedule</c> and the exclude-from-external-load-balancers label on the node
    /// (a no-op when both are there). Throws <see cref="KubeConflictException"/> when the node moved meanwhile.
    /// </summary>
    public async Task<V1Node> TaintAsync(V1Node node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var tainted = node.Spec?.Taints?.Any(t => t.Key == Taints.DisruptedKey && t.Effect == Taints.EffectNoSchedule) == true;
        var labelled = node.Metadata.Labels?.ContainsKey(Labels.ExcludeFromExternalLoadBalancers) == true;
        if (tainted && labelled)
        {
            return node;
        }

        var modified = KubeObjects.DeepClone(node);
        modified.Spec ??= new V1NodeSpec();
        if (!tainted)
        {
            // Replace a disrupted taint with another effect rather than stacking two of one key.
            var taints = modified.Spec.Taints?.Where(t => t.Key != Taints.DisruptedKey).ToList() ?? [];
            taints.Add(new V1Taint { Key = Taints.DisruptedKey, Effect = Taints.EffectNoSchedule });
            modified.Spec.Taints = taints;
        }

        modified.Metadata.Labels ??= new Dictionary<string, string>();
        modified.Metadata.Labels.TryAdd(Labels.ExcludeFromExternalLoadBalancers, ExcludeFromLoadBalancersValue);
        var patched = await client.PatchFromAsync(node, modified, optimisticLock: true, cancellationToken);
        if (!tainted)
        {
            logger.Tainted(node.Metadata.Name);
        }

        return patched;
    }

    /// <summary>
    /// One drain pass over the pods bound to <paramref name="node"/>: deletes the pods whose deletion time under the
    /// termination deadline has come (bypassing PDBs and do-not-disrupt, as upstream), then hands the evictable pods of
    /// the first non-empty priority group to the eviction queue. Returns what is still waiting.
    /// </summary>
    public async Task<DrainStatus> DrainAsync(V1Node node, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var now = time.GetUtcNow();
        var waiting = indexes.PodsOnNode(node.Metadata.Name).Where(p => DrainablePods.IsWaitingEviction(p, now)).ToList();
        if (deadline is { } end)
        {
            foreach (var pod in waiting.Where(p => !DrainablePods.IsTerminating(p)))
            {
                await DeleteIfExpiringAsync(pod, end, now, cancellationToken);
            }
        }

        if (waiting.Count == 0)
        {
            return new DrainStatus(0, 0);
        }

        var group = waiting.Min(DrainablePods.Group);
        var eviction = controllers.Get(EvictionController.Name);
        foreach (var pod in waiting.Where(p => DrainablePods.Group(p) == group && DrainablePods.IsEvictable(p)))
        {
            eviction.Enqueue(ObjectKey.Of(pod));
        }

        return new DrainStatus(waiting.Count, waiting.Count(DrainablePods.HasDoNotDisrupt));
    }

    /// <summary>
    /// The volume attachments that still hold the node: those of persistent volumes, except volumes of pods the drain
    /// does not wait for (upstream <c>filterVolumeAttachments</c>). Empty when the API server does not serve
    /// <c>storage.k8s.io/v1</c> VolumeAttachments (our emulator does not; every real cluster does).
    /// </summary>
    public async Task<IReadOnlyList<V1VolumeAttachment>> PendingVolumeAttachmentsAsync(V1Node node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (Volatile.Read(ref _volumeAttachmentsUnserved) != 0)
        {
            return [];
        }

        KubeList<V1VolumeAttachment> all;
        try
        {
            // No field selector: the API server offers none on spec.nodeName for VolumeAttachments.
            all = await client.ListAllAsync<V1VolumeAttachment>(cancellationToken: cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            // The resource is not served (an API server without the storage API): nothing can hold the node.
            if (Interlocked.Exchange(ref _volumeAttachmentsUnserved, 1) == 0)
            {
                logger.VolumeAttachmentsUnserved();
            }

            return [];
        }

        var attached = all.Items
            .Where(v => v.Spec?.NodeName == node.Metadata.Name && !string.IsNullOrEmpty(v.Spec?.Source?.PersistentVolumeName))
            .ToList();
        if (attached.Count == 0)
        {
            return [];
        }

        // Volumes of pods the drain leaves on the node (mirror pods, pods tolerating the taint) may stay attached.
        var now = time.GetUtcNow();
        var ignored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pod in indexes.PodsOnNode(node.Metadata.Name).Where(p => !DrainablePods.IsDrainable(p, now)))
        {
            foreach (var volume in pod.Spec?.Volumes ?? [])
            {
                if (volume.PersistentVolumeClaim?.ClaimName is { Length: > 0 } claim &&
                    await client.TryGetAsync<V1PersistentVolumeClaim>(claim, pod.Metadata.NamespaceProperty, cancellationToken) is { Spec.VolumeName: { Length: > 0 } pv })
                {
                    ignored.Add(pv);
                }
            }
        }

        return attached.Where(v => !ignored.Contains(v.Spec.Source.PersistentVolumeName)).ToList();
    }

    private async Task DeleteIfExpiringAsync(V1Pod pod, DateTimeOffset deadline, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Delete the pod early enough to give it its whole terminationGracePeriodSeconds before the node's deadline,
        // clamping the grace it gets to what is left of the node's (upstream DeleteExpiringPods).
        var podGrace = pod.Spec?.TerminationGracePeriodSeconds ?? 30;
        if (now <= deadline - TimeSpan.FromSeconds(podGrace))
        {
            return;
        }

        var grace = (long)Math.Floor((deadline - now).TotalSeconds);
        var deadlineText = deadline.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        events.Publish(new KubeEvent(
            pod,
            EventTypes.Warning,
            EventReasons.Disrupted,
            $"Deleting the pod to accommodate the terminationTime {deadlineText} of the node. The pod was granted {Math.Max(grace, 0)} seconds of grace-period of its {podGrace} terminationGracePeriodSeconds. This bypasses the PDB of the pod and the do-not-disrupt annotation."));
        await client.DeleteIfExistsAsync<V1Pod>(
            pod.Metadata.Name,
            pod.Metadata.NamespaceProperty,
            KubeClientExtensions.Preconditions(pod.Metadata.Uid, gracePeriodSeconds: grace),
            cancellationToken);
        logger.PodDeletedForDeadline(pod.Metadata.NamespaceProperty, pod.Metadata.Name, grace);
    }
}
