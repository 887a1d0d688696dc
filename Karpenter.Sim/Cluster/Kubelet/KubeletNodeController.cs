using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Sim.Aws.World;
using Karpenter.Sim.Cluster.Resources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Sim.Cluster.Kubelet;

/// <summary>
/// A kubelet's node status and heartbeat: Ready once <see cref="KubeletOptions.ReadyDelay"/> has passed since
/// registration (with the device plugins' resources added to capacity), NotReady once the instance shuts down, and a
/// Lease in <c>kube-node-lease</c> (owned by the Node) renewed every <see cref="KubeletOptions.LeaseRenewInterval"/>.
/// Nodes no simulated kubelet registered are left alone.
/// </summary>
public sealed class KubeletNodeController(
    AwsWorld aws,
    SimulatedNodes nodes,
    IKubeClient client,
    ComponentEvents events,
    ClusterObserver observer,
    IOptions<KubeletOptions> options,
    TimeProvider time,
    ILogger<KubeletNodeController> logger) : IReconciler<V1Node>
{
    public const string Name = "kubelet.node";

    public const string LeaseNamespace = "kube-node-lease";

    private const string ShutdownMessage = "node is shutting down";
    private readonly KubeletOptions _options = options.Value;

    public async Task<ReconcileResult> ReconcileAsync(V1Node entity, CancellationToken cancellationToken)
    {
        var node = nodes.ByNodeName(entity.Metadata.Name);
        if (node is null || node.ProviderId != entity.Spec?.ProviderID || node.RegisteredAt is not { } registeredAt)
        {
            return ReconcileResult.Done;
        }

        if (aws.FindInstance(node.InstanceId) is { } latest)
        {
            nodes.Observe(latest, time.GetUtcNow());
        }

        var now = time.GetUtcNow();
        var ready = entity.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        if (!node.InstanceAlive)
        {
            if (ready?.Status != "False" || ready.Message != ShutdownMessage)
            {
                await SetReadyAsync(entity, "False", "KubeletNotReady", ShutdownMessage, null, now, cancellationToken);
                observer.Publish(new ClusterEvent(now, ClusterEventKind.NodeNotReady, null, node.NodeName, node.NodeName, $"instance {node.InstanceId} is {node.Instance.State}"));
            }

            return ReconcileResult.Done;
        }

        var wake = _options.LeaseRenewInterval;
        var readyAt = registeredAt + _options.ReadyDelay;
        if (now < readyAt)
        {
            wake = readyAt - now < wake ? readyAt - now : wake;
        }
        else if (ready?.Status != "True")
        {
            await SetReadyAsync(entity, "True", "KubeletReady", "kubelet is posting ready status", node.Shape, now, cancellationToken);
            events.For(Components.Kubelet).Publish(new KubeEvent(entity, EventTypes.Normal, "NodeReady", $"Node {node.NodeName} status is now: NodeReady"));
            observer.Publish(new ClusterEvent(now, ClusterEventKind.NodeReady, null, node.NodeName, node.NodeName, node.InstanceId));
            logger.NodeReady(node.NodeName);
        }

        if (node.LeaseRenewedAt is not { } renewed || now - renewed >= _options.LeaseRenewInterval)
        {
            await RenewLeaseAsync(entity, now, cancellationToken);
            node.LeaseRenewedAt = now;
        }

        return ReconcileResult.After(wake);
    }

    private async Task SetReadyAsync(V1Node entity, string status, string reason, string message, NodeShape? shape, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var original = KubeObjects.DeepClone(entity);
        var modified = KubeObjects.DeepClone(entity);
        var at = now.UtcDateTime;
        var conditions = modified.Status.Conditions ?? [];
        var ready = conditions.FirstOrDefault(c => c.Type == "Ready");
        if (ready is null)
        {
            ready = new V1NodeCondition { Type = "Ready" };
            conditions.Add(ready);
        }

        if (ready.Status != status)
        {
            ready.LastTransitionTime = at;
        }

        ready.Status = status;
        ready.Reason = reason;
        ready.Message = message;
        ready.LastHeartbeatTime = at;
        modified.Status.Conditions = conditions;
        if (shape is not null && shape.Devices.Names.Any())
        {
            // The device plugins register their resources once the node is up.
            modified.Status.Capacity = ResourceAmounts.From(modified.Status.Capacity).Add(shape.Devices).ToList();
            modified.Status.Allocatable = ResourceAmounts.From(modified.Status.Allocatable).Add(shape.Devices).ToList();
        }

        await client.PatchStatusFromAsync(original, modified, optimisticLock: true, cancellationToken);
    }

    private async Task RenewLeaseAsync(V1Node entity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var name = entity.Metadata.Name;
        var renewTime = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        try
        {
            var patch = new JsonObject { ["spec"] = new JsonObject { ["renewTime"] = renewTime, ["holderIdentity"] = name } };
            await client.PatchAsync<V1Lease>(name, LeaseNamespace, KubePatch.Merge(patch), cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            var lease = new V1Lease
            {
                ApiVersion = "coordination.k8s.io/v1",
                Kind = "Lease",
                Metadata = new V1ObjectMeta
                {
                    Name = name,
                    NamespaceProperty = LeaseNamespace,
                    OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = name, Uid = entity.Metadata.Uid }],
                },
                Spec = new V1LeaseSpec
                {
                    HolderIdentity = name,
                    LeaseDurationSeconds = (int)_options.LeaseDuration.TotalSeconds,
                    RenewTime = now.UtcDateTime,
                },
            };
            try
            {
                await client.CreateAsync(lease, cancellationToken);
            }
            catch (KubeAlreadyExistsException)
            {
                // Created meanwhile; the next renewal patches it.
            }
        }
    }
}
