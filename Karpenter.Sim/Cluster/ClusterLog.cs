using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.Cluster;

/// <summary>Log messages of the simulated cluster's components.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(5001, LogLevel.Information, "kubelet registered node {Node} for instance {InstanceId} ({InstanceType})")]
    public static partial void NodeRegistered(this ILogger logger, string node, string instanceId, string instanceType);

    [LoggerMessage(5002, LogLevel.Warning, "instance {InstanceId} ({InstanceType}) will never register a node: {Reason}")]
    public static partial void BootFailed(this ILogger logger, string instanceId, string instanceType, string reason);

    [LoggerMessage(5003, LogLevel.Information, "kubelet on {Node} waits: a Node with that name still exists for {OtherProviderId}")]
    public static partial void StaleNodeName(this ILogger logger, string node, string? otherProviderId);

    [LoggerMessage(5004, LogLevel.Information, "node {Node} is Ready")]
    public static partial void NodeReady(this ILogger logger, string node);

    [LoggerMessage(5005, LogLevel.Information, "kubelet rejected pod {Namespace}/{Pod} on {Node}: {Reason}")]
    public static partial void PodRejected(this ILogger logger, string @namespace, string pod, string node, string reason);

    [LoggerMessage(5006, LogLevel.Information, "cloud controller manager deleted node {Node}: instance {InstanceId} is {State}")]
    public static partial void NodeDeletedByCloud(this ILogger logger, string node, string instanceId, string state);

    [LoggerMessage(5007, LogLevel.Debug, "scheduler pass: {Pending} pending, {Bound} bound, {Unschedulable} unschedulable over {Nodes} nodes")]
    public static partial void SchedulerPass(this ILogger logger, int pending, int bound, int unschedulable, int nodes);

    [LoggerMessage(5008, LogLevel.Warning, "could not bind {Namespace}/{Pod} to {Node}: {Message}")]
    public static partial void BindFailed(this ILogger logger, string @namespace, string pod, string node, string message);

    [LoggerMessage(5009, LogLevel.Information, "evicting {Namespace}/{Pod} from {Node}: untolerated taint {Taint}")]
    public static partial void TaintEviction(this ILogger logger, string @namespace, string pod, string node, string taint);

    [LoggerMessage(5010, LogLevel.Information, "garbage collector deleting {Kind} {Namespace}/{Name}: its owners are gone")]
    public static partial void GarbageCollected(this ILogger logger, string kind, string? @namespace, string name);

    [LoggerMessage(5011, LogLevel.Warning, "PodDisruptionBudget {Namespace}/{Name} could not be computed: {Reason}")]
    public static partial void BudgetFailed(this ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(5012, LogLevel.Warning, "could not create a pod for {Kind} {Namespace}/{Name}: {Reason}")]
    public static partial void PodCreateFailed(this ILogger logger, string kind, string @namespace, string name, string reason);

    [LoggerMessage(5013, LogLevel.Information, "pod garbage collector force-deleting {Namespace}/{Pod}: node {Node} is gone")]
    public static partial void OrphanPodDeleted(this ILogger logger, string @namespace, string pod, string node);

    [LoggerMessage(5014, LogLevel.Information, "node agents on {Node} removed {Count} startup taint(s)")]
    public static partial void StartupTaintsRemoved(this ILogger logger, string node, int count);
}
