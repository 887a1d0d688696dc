using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Sim.Cluster.Common;
using Karpenter.Sim.Cluster.Resources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Sim.Cluster.Kubelet;

/// <summary>
/// A kubelet running the pods bound to its node: admission (resources, node affinity, NoExecute taints), containers
/// running <see cref="KubeletOptions.PodStartDelay"/> after the pod is bound and the node can run it (host-network pods
/// at once, others once the CNI is up, i.e. the node is Ready), graceful deletion (the object is removed with grace 0
/// once the containers have exited), and every pod failed when the instance shuts down.
/// </summary>
public sealed class KubeletPodController(
    SimulatedNodes nodes,
    ClusterCaches caches,
    IKubeClient client,
    ClusterObserver observer,
    IOptions<KubeletOptions> options,
    TimeProvider time,
    ILogger<KubeletPodController> logger) : IReconciler<V1Pod>
{
    public const string Name = "kubelet.pods";

    private readonly KubeletOptions _options = options.Value;

    public async Task<ReconcileResult> ReconcileAsync(V1Pod entity, CancellationToken cancellationToken)
    {
        var nodeName = entity.Spec?.NodeName;
        if (string.IsNullOrEmpty(nodeName) || nodes.ByNodeName(nodeName) is not { RegisteredAt: { } registeredAt } node)
        {
            return ReconcileResult.Done;
        }

        var nodeObject = caches.Nodes.Get(ObjectKey.Cluster(nodeName));
        if (nodeObject is not null && nodeObject.Spec?.ProviderID != node.ProviderId)
        {
            // A Node of an earlier instance with the same name; no kubelet runs it.
            return ReconcileResult.Done;
        }

        var now = time.GetUtcNow();
        if (!node.InstanceAlive)
        {
            if (!PodFacts.IsTerminal(entity))
            {
                await FailAsync(entity, "Terminated", "Pod was terminated in response to imminent node shutdown.", node, disruption: true, cancellationToken);
            }

            return ReconcileResult.Done;
        }

        if (entity.Metadata.DeletionTimestamp is { } deadline)
        {
            return await FinishDeletionAsync(entity, node, new DateTimeOffset(DateTime.SpecifyKind(deadline, DateTimeKind.Utc)), now, cancellationToken);
        }

        if (PodFacts.IsTerminal(entity))
        {
            node.Release(entity.Metadata.Uid);
            return ReconcileResult.Done;
        }

        if (entity.Status?.Phase != PodFacts.PhasePending || nodeObject is null)
        {
            return ReconcileResult.Done;
        }

        if (Reject(entity, nodeObject, node) is { } rejection)
        {
            logger.PodRejected(entity.Metadata.NamespaceProperty, entity.Metadata.Name, nodeName, rejection.Message);
            await FailAsync(entity, rejection.Reason, rejection.Message, node, disruption: false, cancellationToken);
            return ReconcileResult.Done;
        }

        // Pods on the pod network wait for the CNI, i.e. for the node to be Ready; host-network pods start at once.
        DateTimeOffset canRunSince;
        if (entity.Spec?.HostNetwork == true)
        {
            canRunSince = registeredAt;
        }
        else if (nodeObject.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready") is { Status: "True" } ready)
        {
            canRunSince = ready.LastTransitionTime is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : now;
        }
        else
        {
            return ReconcileResult.Done;
        }

        var boundAt = PodFacts.Condition(entity, "PodScheduled") is { Status: "True", LastTransitionTime: { } bound }
            ? new DateTimeOffset(DateTime.SpecifyKind(bound, DateTimeKind.Utc))
            : now;
        var startAt = (boundAt > canRunSince ? boundAt : canRunSince) + _options.PodStartDelay;
        if (now < startAt)
        {
            return ReconcileResult.After(startAt - now);
        }

        await StartAsync(entity, node, now, cancellationToken);
        return ReconcileResult.Done;
    }

    /// <summary>Containers get SIGTERM at deletion and exit within the grace period; then the kubelet removes the pod.</summary>
    private async Task<ReconcileResult> FinishDeletionAsync(V1Pod entity, SimulatedNode node, DateTimeOffset deadline, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var started = entity.Status?.ContainerStatuses is { Count: > 0 } && !PodFacts.IsTerminal(entity);
        var exitAt = deadline;
        if (!started)
        {
            exitAt = now;
        }
        else if (_options.ContainerExitDelay is { } exitDelay)
        {
            var requested = deadline.AddSeconds(-(entity.Metadata.DeletionGracePeriodSeconds ?? 0));
            exitAt = requested + exitDelay < deadline ? requested + exitDelay : deadline;
        }

        if (now < exitAt)
        {
            return ReconcileResult.After(exitAt - now);
        }

        try
        {
            await client.DeleteAsync<V1Pod>(entity.Metadata.Name, entity.Metadata.NamespaceProperty, KubeClientExtensions.Preconditions(entity.Metadata.Uid, gracePeriodSeconds: 0), cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            return ReconcileResult.Done;
        }
        catch (KubeConflictException)
        {
            // A new pod with the same name: not ours to finish.
            return ReconcileResult.Done;
        }

        node.Release(entity.Metadata.Uid);
        observer.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.PodDeleted, entity.Metadata.NamespaceProperty, entity.Metadata.Name, node.NodeName, null));
        return ReconcileResult.Done;
    }

    private (string Reason, string Message)? Reject(V1Pod pod, V1Node nodeObject, SimulatedNode node)
    {
        if (!NodeSelection.Admits(pod.Spec, nodeObject))
        {
            return ("NodeAffinity", "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector");
        }

        if (Tolerations.FirstUntolerated(nodeObject.Spec?.Taints, pod.Spec.Tolerations, Entities.WellKnown.Taints.EffectNoExecute) is { } taint)
        {
            return ("Taint", $"Pod was rejected: Predicate TaintToleration failed: node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}");
        }

        ResourceAmounts requests;
        try
        {
            requests = PodRequests.Of(pod);
        }
        catch (FormatException e)
        {
            return ("UnexpectedAdmissionError", $"Pod was rejected: {e.Message}");
        }

        var allocatable = ResourceAmounts.From(nodeObject.Status?.Allocatable);
        var missing = node.Admit(pod.Metadata.Uid, ObjectKey.Of(pod), requests, allocatable, StillActive);
        return missing is null
            ? null
            : ($"OutOf{missing}", $"Pod was rejected: Node didn't have enough resource: {missing}, requested: {requests[missing]}, capacity: {allocatable[missing]}");
    }

    private bool StillActive(ObjectKey key, string uid) =>
        caches.Pods.Get(key) is { } pod && pod.Metadata.Uid == uid && !PodFacts.IsTerminal(pod);

    private async Task StartAsync(V1Pod entity, SimulatedNode node, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var original = KubeObjects.DeepClone(entity);
        var pod = KubeObjects.DeepClone(entity);
        var at = now.UtcDateTime;
        var status = pod.Status ??= new V1PodStatus();
        var hostIp = node.Instance.PrivateIpAddress;
        var podIp = pod.Spec.HostNetwork == true ? hostIp : nodes.NextPodAddress();
        status.Phase = PodFacts.PhaseRunning;
        status.HostIP = hostIp;
        status.HostIPs = [new V1HostIP { Ip = hostIp }];
        status.PodIP = podIp;
        status.PodIPs = [new V1PodIP { Ip = podIp }];
        status.StartTime ??= at;
        var scheduled = status.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        status.Conditions =
        [
            new V1PodCondition { Type = "PodReadyToStartContainers", Status = "True", LastTransitionTime = at },
            new V1PodCondition { Type = "Initialized", Status = "True", LastTransitionTime = at },
            new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = at },
            new V1PodCondition { Type = "ContainersReady", Status = "True", LastTransitionTime = at },
            scheduled ?? new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = at },
        ];
        status.ContainerStatuses = [.. (pod.Spec.Containers ?? []).Select(c => Running(c, pod, at))];
        if (pod.Spec.InitContainers is { Count: > 0 } inits)
        {
            status.InitContainerStatuses = [.. inits.Select(c => c.RestartPolicy == "Always" ? Running(c, pod, at) : Completed(c, pod, at))];
        }

        try
        {
            await client.PatchStatusFromAsync(original, pod, optimisticLock: true, cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            return;
        }

        observer.Publish(new ClusterEvent(now, ClusterEventKind.PodRunning, pod.Metadata.NamespaceProperty, pod.Metadata.Name, node.NodeName, null));
    }

    private async Task FailAsync(V1Pod entity, string reason, string message, SimulatedNode node, bool disruption, CancellationToken cancellationToken)
    {
        var original = KubeObjects.DeepClone(entity);
        var pod = KubeObjects.DeepClone(entity);
        var at = time.GetUtcNow().UtcDateTime;
        var status = pod.Status ??= new V1PodStatus();
        status.Phase = PodFacts.PhaseFailed;
        status.Reason = reason;
        status.Message = message;
        var conditions = (status.Conditions ?? []).Where(c => c.Type is not ("Ready" or "ContainersReady" or "DisruptionTarget")).ToList();
        conditions.Add(new V1PodCondition { Type = "Ready", Status = "False", Reason = "PodFailed", LastTransitionTime = at });
        conditions.Add(new V1PodCondition { Type = "ContainersReady", Status = "False", Reason = "PodFailed", LastTransitionTime = at });
        if (disruption)
        {
            conditions.Add(new V1PodCondition { Type = "DisruptionTarget", Status = "True", Reason = "TerminationByKubelet", Message = message, LastTransitionTime = at });
        }

        status.Conditions = conditions;
        if (status.ContainerStatuses is { Count: > 0 } containers)
        {
            foreach (var container in containers)
            {
                container.Ready = false;
                container.Started = false;
                container.State = new V1ContainerState
                {
                    Terminated = new V1ContainerStateTerminated { ExitCode = 137, Reason = "Error", FinishedAt = at, StartedAt = container.State?.Running?.StartedAt },
                };
            }
        }

        try
        {
            await client.PatchStatusFromAsync(original, pod, optimisticLock: true, cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            return;
        }

        node.Release(entity.Metadata.Uid);
        observer.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.PodFailed, pod.Metadata.NamespaceProperty, pod.Metadata.Name, node.NodeName, $"{reason}: {message}"));
    }

    private static V1ContainerStatus Running(V1Container container, V1Pod pod, DateTime at) => new()
    {
        Name = container.Name,
        Image = container.Image,
        ImageID = ImageId(container.Image),
        ContainerID = "containerd://" + Hash(pod.Metadata.Uid + container.Name, 64),
        Ready = true,
        Started = true,
        RestartCount = 0,
        State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = at } },
    };

    private static V1ContainerStatus Completed(V1Container container, V1Pod pod, DateTime at) => new()
    {
        Name = container.Name,
        Image = container.Image,
        ImageID = ImageId(container.Image),
        ContainerID = "containerd://" + Hash(pod.Metadata.Uid + container.Name, 64),
        Ready = true,
        Started = false,
        RestartCount = 0,
        State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 0, Reason = "Completed", StartedAt = at, FinishedAt = at } },
    };

    private static string ImageId(string? image) => $"{(image ?? "image").Split(':')[0]}@sha256:{Hash(image ?? string.Empty, 64)}";

    private static string Hash(string text, int length) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..length];
}
