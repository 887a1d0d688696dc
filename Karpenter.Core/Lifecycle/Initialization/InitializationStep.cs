using k8s.Models;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Lifecycle.Initialization;

/// <summary>
/// The initialization step of <c>nodeclaim.lifecycle</c>: the NodeClaim is <c>Initialized</c> once its Node is Ready,
/// its startup taints and the known ephemeral taints are gone and every extended resource it requested is
/// allocatable; the Node then gets the <c>karpenter.sh/initialized</c> label. Until then the condition says what is
/// missing.
/// </summary>
public sealed class InitializationStep(IKubeClient client, ClusterIndexes indexes, TimeProvider time, ILogger<InitializationStep> logger)
{
    public async Task<StepOutcome> ReconcileAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        if (nodeClaim.IsTrue(ConditionTypes.Initialized))
        {
            return StepOutcome.Done;
        }

        var now = time.GetUtcNow();
        if (!nodeClaim.IsTrue(ConditionTypes.Launched))
        {
            nodeClaim.SetFalse(ConditionTypes.Initialized, "NotLaunched", "Node not launched", now);
            return StepOutcome.Done;
        }

        var nodes = indexes.NodesForProviderId(nodeClaim.Status.ProviderId);
        if (nodes.Count != 1)
        {
            nodeClaim.SetFalse(ConditionTypes.Initialized, "NodeNotFound", "Node not registered with cluster", now);
            return StepOutcome.Done;
        }

        var node = nodes[0];
        if (node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status != "True")
        {
            nodeClaim.SetFalse(ConditionTypes.Initialized, "NodeNotReady", "Node status is NotReady", now);
            return StepOutcome.Done;
        }

        if (StartupTaintRemaining(node, nodeClaim) is { } startup)
        {
            nodeClaim.SetFalse(ConditionTypes.Initialized, "StartupTaintsExist", $"StartupTaint \"{Format(startup)}\" still exists", now);
            return StepOutcome.Done;
        }

        if (EphemeralTaintRemaining(node) is { } ephemeral)
        {
            nodeClaim.SetFalse(ConditionTypes.Initialized, "KnownEphemeralTaintsExist", $"KnownEphemeralTaint \"{Format(ephemeral)}\" still exists", now);
            return StepOutcome.Done;
        }

        if (UnregisteredResource(node, nodeClaim) is { } resource)
        {
            nodeClaim.SetFalse(ConditionTypes.Initialized, "ResourceNotRegistered", $"Resource \"{resource}\" was requested but not registered", now);
            return StepOutcome.Done;
        }

        if (node.Metadata.Labels?.TryGetValue(Labels.NodeInitialized, out var value) != true || value != "true")
        {
            // Labels are a map: a merge patch of one key cannot overwrite anyone else's change.
            await client.PatchAsync<V1Node>(node.Metadata.Name, null, KubePatch.Merge(new { metadata = new { labels = new Dictionary<string, string> { [Labels.NodeInitialized] = "true" } } }), cancellationToken);
        }

        nodeClaim.SetTrue(ConditionTypes.Initialized, now);
        logger.Initialized(nodeClaim.Metadata.Name, node.Metadata.Name);
        return StepOutcome.Done;
    }

    /// <summary>A startup taint of the NodeClaim still on the Node, if any.</summary>
    public static V1Taint? StartupTaintRemaining(V1Node node, NodeClaim nodeClaim)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(nodeClaim);
        foreach (var startup in nodeClaim.Spec.StartupTaints ?? [])
        {
            if (node.Spec?.Taints?.FirstOrDefault(t => t.Key == startup.Key && t.Effect == startup.Effect) is { } present)
            {
                return present;
            }
        }

        return null;
    }

    /// <summary>
    /// A known ephemeral taint still on the Node: not-ready, unreachable, the cloud provider's uninitialized taint,
    /// Karpenter's unregistered taint, or any <c>readiness.k8s.io/</c> taint.
    /// </summary>
    public static V1Taint? EphemeralTaintRemaining(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.Spec?.Taints?.FirstOrDefault(IsKnownEphemeral);
    }

    public static bool IsKnownEphemeral(V1Taint taint)
    {
        ArgumentNullException.ThrowIfNull(taint);
        return (taint.Key, taint.Effect) switch
        {
            (Taints.NotReadyKey, Taints.EffectNoSchedule or Taints.EffectNoExecute) => true,
            (Taints.UnreachableKey, Taints.EffectNoSchedule) => true,
            (Taints.CloudProviderUninitializedKey, Taints.EffectNoSchedule) => taint.Value is null or "true",
            (Taints.UnregisteredKey, Taints.EffectNoExecute) => true,
            _ => taint.Key.StartsWith(Taints.ReadinessPrefix, StringComparison.Ordinal),
        };
    }

    /// <summary>An extended resource the NodeClaim requested that the Node does not (yet) make allocatable.</summary>
    public static string? UnregisteredResource(V1Node node, NodeClaim nodeClaim)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(nodeClaim);
        foreach (var (name, quantity) in nodeClaim.Spec.Resources?.Requests ?? new Dictionary<string, ResourceQuantity>())
        {
            if (!Quantity.TryParse(quantity?.ToString(), out var requested) || requested.Nanos <= 0)
            {
                continue;
            }

            // The kubelet zeroes extended resources until their device plugin registers them.
            if (node.Status?.Allocatable is null || !node.Status.Allocatable.TryGetValue(name, out var allocatable) ||
                !Quantity.TryParse(allocatable?.ToString(), out var available) || available.Nanos <= 0)
            {
                return name;
            }
        }

        return null;
    }

    private static string Format(V1Taint taint) =>
        string.IsNullOrEmpty(taint.Value) ? $"{taint.Key}:{taint.Effect}" : $"{taint.Key}={taint.Value}:{taint.Effect}";
}
