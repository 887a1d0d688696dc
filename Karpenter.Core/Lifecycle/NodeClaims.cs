using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Entities;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;
using Karpenter.Kube.Entities;

namespace Karpenter.Core.Lifecycle;

/// <summary>NodeClaim helpers shared by the lifecycle, termination and garbage-collection controllers.</summary>
public static class NodeClaims
{
    /// <summary>The root <c>Ready</c> condition: Launched ∧ Registered ∧ Initialized (upstream <c>nodeclaim_status.go</c>).</summary>
    public static ConditionSet Conditions { get; } = new(ConditionTypes.Ready, ConditionTypes.Launched, ConditionTypes.Registered, ConditionTypes.Initialized);

    /// <summary>Condition messages are cut here, as upstream does.</summary>
    public const int MaxMessageLength = 300;

    /// <summary>
    /// Whether the cloud provider manages this NodeClaim: its <c>nodeClassRef</c> names one of the provider's NodeClass
    /// kinds. A provider that names none (a test double) manages every NodeClaim.
    /// </summary>
    public static bool IsManaged(NodeClaim nodeClaim, ICloudProvider cloudProvider)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        ArgumentNullException.ThrowIfNull(cloudProvider);
        var supported = cloudProvider.SupportedNodeClasses;
        if (supported.Count == 0)
        {
            return true;
        }

        var reference = nodeClaim.Spec?.NodeClassRef;
        return reference is not null && supported.Any(t =>
        {
            var meta = EntityMetadata.Of(t);
            return meta.Group == reference.Group && meta.Kind == reference.Kind;
        });
    }

    public static V1Condition? Condition(this NodeClaim nodeClaim, string type) =>
        ConditionList.Get(nodeClaim?.Status?.Conditions, type);

    public static bool IsTrue(this NodeClaim nodeClaim, string type) => ConditionList.IsTrue(nodeClaim?.Status?.Conditions, type);

    /// <summary>Sets a lifecycle condition (and recomputes Ready) on a working copy; true when anything changed.</summary>
    public static bool SetCondition(this NodeClaim nodeClaim, string type, string status, string reason, string? message, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        nodeClaim.Status ??= new NodeClaimStatus();
        nodeClaim.Status.Conditions ??= [];
        var generation = nodeClaim.Metadata.Generation;
        return Conditions.Dependents.Contains(type)
            ? Conditions.Set(nodeClaim.Status.Conditions, type, status, reason, Truncate(message), generation, now)
            : ConditionList.Set(nodeClaim.Status.Conditions, type, status, reason, Truncate(message), generation, now);
    }

    public static bool SetTrue(this NodeClaim nodeClaim, string type, DateTimeOffset now) =>
        SetCondition(nodeClaim, type, ConditionStatus.True, type, string.Empty, now);

    public static bool SetFalse(this NodeClaim nodeClaim, string type, string reason, string message, DateTimeOffset now) =>
        SetCondition(nodeClaim, type, ConditionStatus.False, reason, message, now);

    /// <summary>The capacity type, zone and instance type labels of a launched NodeClaim (for logs and metrics).</summary>
    public static string? Label(this NodeClaim nodeClaim, string key) =>
        nodeClaim?.Metadata?.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    /// <summary>
    /// Writes the changes from <paramref name="stored"/> to <paramref name="modified"/>: labels and annotations through the
    /// object, then the status through <c>/status</c>, each a merge patch carrying the resourceVersion it was computed
    /// from (a concurrent writer makes it fail with 409 rather than be overwritten). Returns the stored result.
    /// </summary>
    public static async Task<NodeClaim> PatchAsync(IKubeClient client, NodeClaim stored, NodeClaim modified, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(modified);
        var current = stored;
        var metadataTarget = KubeObjects.DeepClone(stored);
        metadataTarget.Metadata.Labels = modified.Metadata.Labels;
        metadataTarget.Metadata.Annotations = modified.Metadata.Annotations;
        current = await client.PatchFromAsync(current, metadataTarget, optimisticLock: true, cancellationToken);

        var statusTarget = KubeObjects.DeepClone(current);
        statusTarget.Status = modified.Status;
        return await client.PatchStatusFromAsync(current, statusTarget, optimisticLock: true, cancellationToken);
    }

    /// <summary>Parses a NodeClaim duration field (<c>expireAfter</c>, <c>terminationGracePeriod</c>); null for absent or <c>Never</c>.</summary>
    public static TimeSpan? Duration(string? value) =>
        string.IsNullOrEmpty(value) || !GoDuration.TryParseNillable(value, out var duration, out _) ? null : duration;

    /// <summary>Whether the Node's <c>Ready</c> condition is True (its kubelet runs and reports).</summary>
    public static bool IsNodeReady(V1Node node) =>
        node?.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == ConditionStatus.True) == true;

    public static string Truncate(string? message) =>
        message is null ? string.Empty : message.Length <= MaxMessageLength ? message : string.Concat(message.AsSpan(0, MaxMessageLength), "...");
}
