using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Provisioning;

/// <summary>
/// Turns a NodePool resource and its instance types into the scheduler's <see cref="SchedulingNodePool"/>: template
/// requirements (with minValues) and labels, taints, weight, limits and current usage. Shared by provisioning and by
/// disruption's rescheduling simulations.
/// </summary>
public static class SchedulingNodePoolAdapter
{
    /// <summary>
    /// Why <paramref name="nodePool"/> cannot launch capacity for pending pods now, or null when it can: it is being
    /// deleted, it is static (<c>spec.replicas</c> set; those keep a fixed count), or it is not Ready (its NodeClass is not
    /// ready, or it failed validation).
    /// </summary>
    public static string? NotProvisionableReason(NodePool nodePool)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        if (nodePool.Metadata?.DeletionTimestamp is not null)
        {
            return "it is being deleted";
        }

        if (nodePool.IsStatic)
        {
            return "it is static (spec.replicas is set)";
        }

        if (nodePool.IsReady())
        {
            return null;
        }

        var ready = nodePool.GetCondition(ConditionTypes.Ready);
        var nodeClass = nodePool.GetCondition(ConditionTypes.NodeClassReady);
        var detail = ready is null
            ? "no Ready condition yet"
            : $"Ready={ready.Status}" + (string.IsNullOrEmpty(ready.Reason) ? string.Empty : $", {ready.Reason}") + (string.IsNullOrEmpty(ready.Message) ? string.Empty : $": {ready.Message}");
        if (nodeClass is not null && nodeClass.Status != "True" && ready?.Message?.Contains(ConditionTypes.NodeClassReady, StringComparison.Ordinal) != true)
        {
            detail += $"; NodeClassReady={nodeClass.Status}" + (string.IsNullOrEmpty(nodeClass.Message) ? string.Empty : $": {nodeClass.Message}");
        }

        return $"it is not ready ({detail})";
    }

    /// <summary>
    /// The template requirements of <paramref name="nodePool"/> (with minValues), or null with <paramref name="error"/>
    /// when one of them is invalid (a bad operator or value the API server's validation should have refused).
    /// </summary>
    public static Requirements? TemplateRequirements(NodePool nodePool, out string? error)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        error = null;
        var requirements = new Requirements();
        var problems = new List<string>();
        foreach (var r in nodePool.Spec?.Template?.Spec?.Requirements ?? [])
        {
            var created = Requirement.Create(Requirements.NormalizeKey(r.Key ?? string.Empty), r.Operator, r.Values, r.MinValues, out var problem);
            if (created is null)
            {
                problems.Add(problem!);
                continue;
            }

            requirements.Add(created);
        }

        if (problems.Count > 0)
        {
            error = $"its requirements are invalid ({string.Join("; ", problems)})";
            return null;
        }

        return requirements;
    }

    /// <summary>
    /// The scheduler's view of <paramref name="nodePool"/> launching from <paramref name="instanceTypes"/>, with
    /// <paramref name="usage"/> already charged to its limits. Instance types larger than what the limits leave are
    /// dropped here (upstream filters them the same way), so a limit of zero is honoured. Returns null with
    /// <paramref name="error"/> (a reason for pods' events) when the NodePool cannot launch anything.
    /// </summary>
    public static SchedulingNodePool? ToSchedulingNodePool(NodePool nodePool, IReadOnlyList<InstanceType> instanceTypes, Resources usage, out string? error)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        ArgumentNullException.ThrowIfNull(instanceTypes);
        var requirements = TemplateRequirements(nodePool, out error);
        if (requirements is null)
        {
            return null;
        }

        if (instanceTypes.Count == 0)
        {
            error = "the cloud provider offers it no instance types";
            return null;
        }

        var limitErrors = new List<string>();
        var limits = nodePool.Spec.Limits is { Count: > 0 } list ? Resources.FromList(list, limitErrors) : (Resources?)null;
        if (limitErrors.Count > 0)
        {
            error = $"its limits are invalid ({string.Join("; ", limitErrors)})";
            return null;
        }

        var types = instanceTypes;
        if (limits is { } limit)
        {
            var names = nodePool.Spec.Limits!.Keys.Where(n => n != ResourceNames.Nodes).ToList();
            if (nodePool.Spec.Limits.ContainsKey(ResourceNames.Nodes) && usage.Get(ResourceNames.Nodes) >= limit.Get(ResourceNames.Nodes))
            {
                error = $"its limits are exhausted (nodes: {usage.Get(ResourceNames.Nodes)} of {limit.Get(ResourceNames.Nodes)})";
                return null;
            }

            var remaining = limit - usage;
            types = [.. instanceTypes.Where(t => names.All(n => t.Capacity.Get(n) <= remaining.Get(n)))];
            if (types.Count == 0)
            {
                var exhausted = names.Where(n => usage.Get(n) >= limit.Get(n)).ToList();
                error = exhausted.Count > 0
                    ? $"its limits are exhausted ({string.Join(", ", exhausted.Select(n => $"{n}: {Resources.Format(n, usage.Get(n))} of {Resources.Format(n, limit.Get(n))}"))})"
                    : $"its limits leave room for no instance type ({string.Join(", ", names.Select(n => $"{n}: {Resources.Format(n, Math.Max(0, remaining.Get(n)))} left"))})";
                return null;
            }
        }

        var template = nodePool.Spec.Template;
        return new SchedulingNodePool
        {
            Name = nodePool.Metadata.Name,
            Weight = nodePool.Spec.Weight ?? 0,
            Requirements = requirements,
            Labels = template.Metadata?.Labels ?? new Dictionary<string, string>(),
            Taints = [.. (template.Spec.Taints ?? []).Select(t => t.ToV1Taint())],
            StartupTaints = [.. (template.Spec.StartupTaints ?? []).Select(t => t.ToV1Taint())],
            Limits = limits,
            Usage = usage,
            InstanceTypes = types,
        };
    }

    /// <summary>
    /// What a NodePool already uses, for its limits: the larger, per resource, of its <c>status.resources</c> (and
    /// <c>status.nodes</c>) and what the cluster state counts for it, where a NodeClaim that has not launched yet counts
    /// as the largest of its instance types (whichever launches, the limit holds).
    /// </summary>
    public static Resources Usage(NodePool nodePool, ClusterState state, IReadOnlyList<InstanceType> instanceTypes)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(instanceTypes);
        Dictionary<string, InstanceType>? byName = null;
        var counted = state.NodePoolUsage(nodePool.Metadata.Name, claim =>
        {
            var options = claim.InstanceTypeOptions;
            if (options.Count == 0)
            {
                return null;
            }

            byName ??= instanceTypes.GroupBy(t => t.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            Resources? largest = null;
            foreach (var name in options)
            {
                if (byName.TryGetValue(name, out var type))
                {
                    largest = largest is { } l ? Resources.Max(l, type.Capacity) : type.Capacity;
                }
            }

            return largest is { } found ? Resources.Max(found, claim.Requests) : null;
        });

        var status = Resources.FromList(nodePool.Status?.Resources);
        if (nodePool.Status?.Nodes is { } nodes)
        {
            status = status.With(ResourceNames.Nodes, nodes);
        }

        return Resources.Max(counted, status);
    }

}
