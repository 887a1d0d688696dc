using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Sim.Aws.World;
using Karpenter.Sim.Cluster.Kubelet;
using Microsoft.Extensions.Logging;
using WellKnownTaints = Karpenter.Entities.WellKnown.Taints;

namespace Karpenter.Sim.Cluster.CloudController;

/// <summary>
/// The AWS cloud controller manager's node controllers: initialize new nodes (the instance type and topology labels,
/// then remove <c>node.cloudprovider.kubernetes.io/uninitialized</c>), taint nodes whose instance is shutting down
/// with <c>node.cloudprovider.kubernetes.io/shutdown:NoSchedule</c>, and delete the Node of an instance that is
/// terminated or gone. A finalizer on the Node (Karpenter's) holds the deletion, as it should.
/// </summary>
public sealed class CloudNodeLifecycleController(
    AwsWorld aws,
    IKubeClient client,
    ComponentEvents events,
    ClusterObserver observer,
    TimeProvider time,
    ILogger<CloudNodeLifecycleController> logger) : IReconciler<V1Node>
{
    public const string Name = "cloud-node-lifecycle";

    /// <summary>The taint the cloud node lifecycle controller puts on nodes whose instance is shut down.</summary>
    public const string ShutdownTaintKey = "node.cloudprovider.kubernetes.io/shutdown";

    private static readonly TimeSpan Monitor = TimeSpan.FromMinutes(1);

    public async Task<ReconcileResult> ReconcileAsync(V1Node entity, CancellationToken cancellationToken)
    {
        var instanceId = InstanceIdOf(entity.Spec?.ProviderID);
        if (instanceId is null)
        {
            return ReconcileResult.Done;
        }

        var instance = aws.FindInstance(instanceId);
        if (instance is null || instance.State == InstanceState.Terminated)
        {
            if (entity.Metadata.DeletionTimestamp is null)
            {
                await client.DeleteIfExistsAsync<V1Node>(entity.Metadata.Name, cancellationToken: cancellationToken);
                events.For(Components.CloudNodeLifecycle).Publish(new KubeEvent(entity, EventTypes.Normal, "DeletingNode", $"Deleting node {entity.Metadata.Name} because it does not exist in the cloud provider"));
                observer.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeDeletedByCloudController, null, entity.Metadata.Name, entity.Metadata.Name, instanceId));
                logger.NodeDeletedByCloud(entity.Metadata.Name, instanceId, instance?.State.ToString() ?? "gone");
            }

            return ReconcileResult.Done;
        }

        var original = KubeObjects.DeepClone(entity);
        var modified = KubeObjects.DeepClone(entity);
        var taints = (modified.Spec.Taints ?? []).ToList();
        var changed = false;
        if (taints.RemoveAll(t => t.Key == WellKnownTaints.CloudProviderUninitializedKey) > 0)
        {
            modified.Metadata.Labels ??= new Dictionary<string, string>();
            foreach (var (key, value) in KubeletBootstrapController.CloudLabels(instance))
            {
                modified.Metadata.Labels[key] = value;
            }

            changed = true;
        }

        var shuttingDown = instance.State == InstanceState.ShuttingDown;
        var hasShutdownTaint = taints.Any(t => t.Key == ShutdownTaintKey);
        if (shuttingDown && !hasShutdownTaint)
        {
            taints.Add(new V1Taint { Key = ShutdownTaintKey, Effect = WellKnownTaints.EffectNoSchedule });
            changed = true;
        }
        else if (!shuttingDown && hasShutdownTaint)
        {
            taints.RemoveAll(t => t.Key == ShutdownTaintKey);
            changed = true;
        }

        if (changed)
        {
            modified.Spec.Taints = taints;
            await client.PatchFromAsync(original, modified, optimisticLock: true, cancellationToken);
        }

        return ReconcileResult.After(Monitor);
    }

    /// <summary>The instance id of an <c>aws:///zone/i-…</c> provider ID, or null for any other.</summary>
    public static string? InstanceIdOf(string? providerId)
    {
        if (providerId is null || !providerId.StartsWith("aws://", StringComparison.Ordinal))
        {
            return null;
        }

        var last = providerId[(providerId.LastIndexOf('/') + 1)..];
        return last.StartsWith("i-", StringComparison.Ordinal) ? last : null;
    }
}
