using System.Globalization;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Sim.Cluster.Common;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.Cluster.Disruption;

/// <summary>
/// kube-controller-manager's disruption controller: computes each PodDisruptionBudget's status — the pods it selects,
/// <c>expectedPods</c> and <c>desiredHealthy</c> from <c>minAvailable</c>/<c>maxUnavailable</c> (an integer, or a
/// percentage of the selecting controllers' scale, rounded up), <c>currentHealthy</c> (Ready, not being deleted, not
/// recently evicted), <c>disruptionsAllowed</c>, <c>disruptedPods</c> (evictions not yet seen deleted, kept two
/// minutes) and <c>observedGeneration</c> — which the eviction API reads. A budget it cannot compute allows no
/// disruption (<c>SyncFailed</c>), as upstream fails safe.
/// </summary>
public sealed class DisruptionBudgetController(
    ClusterCaches caches,
    IKubeClient client,
    ComponentEvents events,
    TimeProvider time,
    ILogger<DisruptionBudgetController> logger) : IReconciler<V1PodDisruptionBudget>
{
    public const string Name = "disruption";

    /// <summary>How long an evicted pod stays in <c>disruptedPods</c> waiting to be seen deleted (upstream: 2 minutes).</summary>
    public static readonly TimeSpan DeletionTimeout = TimeSpan.FromMinutes(2);

    public async Task<ReconcileResult> ReconcileAsync(V1PodDisruptionBudget entity, CancellationToken cancellationToken)
    {
        var ns = entity.Metadata.NamespaceProperty;
        var pods = caches.Pods.List().Where(p => p.Metadata.NamespaceProperty == ns && NodeSelection.SelectorMatches(entity.Spec?.Selector, p.Metadata.Labels)).ToList();
        var now = time.GetUtcNow();
        int expected, desired;
        try
        {
            (expected, desired) = ExpectedAndDesired(entity, pods);
        }
        catch (FormatException e)
        {
            logger.BudgetFailed(ns, entity.Metadata.Name, e.Message);
            events.For(Components.DisruptionController).Publish(new KubeEvent(entity, EventTypes.Warning, "CalculateExpectedPodCountFailed", $"Failed to calculate the number of expected pods: {e.Message}"));
            return await WriteAsync(entity, FailSafe(entity, e.Message, now), cancellationToken) ? ReconcileResult.Done : ReconcileResult.RequeueRateLimited;
        }

        var (disrupted, recheck) = DisruptedPods(entity, pods, now);
        var healthy = pods.Count(p => p.Metadata.DeletionTimestamp is null && !disrupted.ContainsKey(p.Metadata.Name) && PodFacts.IsReady(p));
        var allowed = healthy - desired;
        if (expected <= 0 || allowed <= 0)
        {
            allowed = 0;
        }

        var status = new V1PodDisruptionBudgetStatus
        {
            CurrentHealthy = healthy,
            DesiredHealthy = desired,
            ExpectedPods = expected,
            DisruptionsAllowed = allowed,
            DisruptedPods = disrupted.Count == 0 ? null : disrupted,
            ObservedGeneration = entity.Metadata.Generation,
            Conditions = entity.Status?.Conditions is { } c ? [.. c] : [],
        };
        SetCondition(status, allowed > 0 ? "True" : "False", allowed > 0 ? "SufficientPods" : "InsufficientPods", string.Empty, now);
        if (!await WriteAsync(entity, status, cancellationToken))
        {
            return ReconcileResult.RequeueRateLimited;
        }

        return recheck is { } at ? ReconcileResult.After(at - now) : ReconcileResult.Done;
    }

    /// <summary>Upstream's <c>getExpectedPodCount</c>.</summary>
    private (int Expected, int Desired) ExpectedAndDesired(V1PodDisruptionBudget budget, List<V1Pod> pods)
    {
        if (budget.Spec?.MaxUnavailable is { } maxUnavailable)
        {
            var expected = ExpectedScale(budget, pods);
            return (expected, Math.Max(0, expected - Scaled(maxUnavailable.Value, expected)));
        }

        if (budget.Spec?.MinAvailable is { } minAvailable)
        {
            var text = minAvailable.Value ?? string.Empty;
            if (!text.EndsWith('%'))
            {
                return (pods.Count, Scaled(text, pods.Count));
            }

            var expected = ExpectedScale(budget, pods);
            return (expected, Scaled(text, expected));
        }

        return (0, 0);
    }

    /// <summary>An integer, or a percentage of <paramref name="total"/> rounded up (<c>GetScaledValueFromIntOrPercent</c>).</summary>
    private static int Scaled(string? value, int total)
    {
        var text = (value ?? string.Empty).Trim();
        if (text.EndsWith('%'))
        {
            if (!int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent))
            {
                throw new FormatException($"invalid value for IntOrString: invalid value \"{value}\": percentage must be an integer");
            }

            return (int)Math.Ceiling(percent * total / 100.0);
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new FormatException($"invalid value for IntOrString: invalid type: string is not a percentage");
    }

    /// <summary>The sum of the scale of the controllers of the selected pods (a ReplicaSet's Deployment counts as the controller).</summary>
    private int ExpectedScale(V1PodDisruptionBudget budget, List<V1Pod> pods)
    {
        var scales = new Dictionary<string, int>(StringComparer.Ordinal);
        var unmanaged = new List<string>();
        foreach (var pod in pods)
        {
            if (PodFacts.ControllerOf(pod) is not { } owner)
            {
                unmanaged.Add(pod.Metadata.Name);
                continue;
            }

            if (scales.ContainsKey(owner.Uid))
            {
                continue;
            }

            var (uid, scale) = ScaleOf(owner, pod.Metadata.NamespaceProperty)
                ?? throw new FormatException($"found no controllers for pod \"{pod.Metadata.Name}\"");
            scales[uid] = scale;
            scales[owner.Uid] = 0;
        }

        if (unmanaged.Count > 0)
        {
            events.For(Components.DisruptionController).Publish(new KubeEvent(budget, EventTypes.Warning, "UnmanagedPods",
                $"Pods selected by this PodDisruptionBudget (selector: {budget.Spec?.Selector}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value."));
        }

        return scales.Values.Sum();
    }

    private (string Uid, int Scale)? ScaleOf(V1OwnerReference owner, string ns)
    {
        if (owner.Kind == "ReplicaSet" && caches.ReplicaSets.Get(new ObjectKey(ns, owner.Name)) is { } rs && rs.Metadata.Uid == owner.Uid)
        {
            if (PodFacts.ControllerOf(rs) is { Kind: "Deployment" } deploymentRef &&
                caches.Deployments.Get(new ObjectKey(ns, deploymentRef.Name)) is { } deployment && deployment.Metadata.Uid == deploymentRef.Uid)
            {
                return (deployment.Metadata.Uid, deployment.Spec?.Replicas ?? 1);
            }

            return (rs.Metadata.Uid, rs.Spec?.Replicas ?? 1);
        }

        return null;
    }

    private static (Dictionary<string, DateTime?> Disrupted, DateTimeOffset? Recheck) DisruptedPods(V1PodDisruptionBudget budget, List<V1Pod> pods, DateTimeOffset now)
    {
        var result = new Dictionary<string, DateTime?>(StringComparer.Ordinal);
        DateTimeOffset? recheck = null;
        if (budget.Status?.DisruptedPods is not { Count: > 0 } recorded)
        {
            return (result, recheck);
        }

        foreach (var pod in pods)
        {
            if (pod.Metadata.DeletionTimestamp is not null || !recorded.TryGetValue(pod.Metadata.Name, out var recordedAt) || recordedAt is not { } at)
            {
                continue;
            }

            var expires = new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) + DeletionTimeout;
            if (expires < now)
            {
                continue;
            }

            result[pod.Metadata.Name] = at;
            recheck = recheck is { } r && r < expires ? r : expires;
        }

        return (result, recheck);
    }

    private static V1PodDisruptionBudgetStatus FailSafe(V1PodDisruptionBudget budget, string message, DateTimeOffset now)
    {
        var status = budget.Status is null
            ? new V1PodDisruptionBudgetStatus()
            : KubeObjects.DeepClone(budget).Status;
        status.DisruptionsAllowed = 0;
        status.Conditions ??= [];
        SetCondition(status, "False", "SyncFailed", message, now);
        return status;
    }

    private static void SetCondition(V1PodDisruptionBudgetStatus status, string value, string reason, string message, DateTimeOffset now)
    {
        var conditions = status.Conditions ?? [];
        var existing = conditions.FirstOrDefault(c => c.Type == "DisruptionAllowed");
        if (existing is null)
        {
            existing = new V1Condition { Type = "DisruptionAllowed", LastTransitionTime = now.UtcDateTime };
            conditions.Add(existing);
        }
        else if (existing.Status != value)
        {
            existing.LastTransitionTime = now.UtcDateTime;
        }

        existing.Status = value;
        existing.Reason = reason;
        existing.Message = message;
        existing.ObservedGeneration = status.ObservedGeneration;
        status.Conditions = conditions;
    }

    /// <summary>Writes the status unless unchanged; false on a conflict (an eviction meanwhile), to retry from the new state.</summary>
    private async Task<bool> WriteAsync(V1PodDisruptionBudget entity, V1PodDisruptionBudgetStatus status, CancellationToken cancellationToken)
    {
        if (KubeJson.Same(entity.Status, status))
        {
            return true;
        }

        var updated = KubeObjects.DeepClone(entity);
        updated.Status = status;
        try
        {
            // A full status update with the read resourceVersion, as upstream.
            await client.UpdateStatusAsync(updated, cancellationToken);
            return true;
        }
        catch (KubeConflictException)
        {
            return false;
        }
    }
}
