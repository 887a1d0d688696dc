using Karpenter.Entities.V1;

namespace Karpenter.Core.Disruption;

/// <summary>A node as disruption budgets count it: its NodePool, and whether it already uses up part of the budget.</summary>
/// <param name="NodePool">The NodePool the node belongs to.</param>
/// <param name="Disrupting">Being deleted, marked for disruption, or not Ready (upstream subtracts those from what is allowed).</param>
public readonly record struct BudgetNode(string NodePool, bool Disrupting);

/// <summary>
/// How many more nodes of each NodePool graceful disruption may take now, for one reason (upstream's
/// <c>BuildDisruptionBudgetMapping</c>): the most restrictive active budget that matches the reason, applied to the
/// NodePool's managed, initialized nodes (percentages rounded up), minus the nodes already disrupting, never below zero.
/// A budget whose schedule or duration does not parse fails closed (allows nothing). Forceful disruption (expiration,
/// interruption, repair, manual deletion) does not ask.
/// </summary>
public static class DisruptionBudgets
{
    /// <summary>Allowed disruptions per NodePool name for <paramref name="reason"/> at <paramref name="now"/>.</summary>
    /// <param name="nodePools">The NodePools (each gets an entry, 0 when it has no nodes and a percentage budget).</param>
    /// <param name="nodes">The managed, initialized nodes (others do not count towards the total).</param>
    /// <param name="reason">The disruption reason budgets are filtered by.</param>
    /// <param name="now">The time cron schedules are evaluated at (UTC).</param>
    public static Dictionary<string, int> Allowed(IEnumerable<NodePool> nodePools, IEnumerable<BudgetNode> nodes, DisruptionReason reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nodePools);
        ArgumentNullException.ThrowIfNull(nodes);
        var total = new Dictionary<string, int>(StringComparer.Ordinal);
        var disrupting = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            total[node.NodePool] = total.GetValueOrDefault(node.NodePool) + 1;
            if (node.Disrupting)
            {
                disrupting[node.NodePool] = disrupting.GetValueOrDefault(node.NodePool) + 1;
            }
        }

        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pool in nodePools)
        {
            var name = pool.Metadata.Name;
            var allowed = pool.GetAllowedDisruptions(now, total.GetValueOrDefault(name), reason);
            result[name] = Math.Max(0, allowed == int.MaxValue ? int.MaxValue : allowed - disrupting.GetValueOrDefault(name));
        }

        return result;
    }

    /// <summary>The reasons budgets know, in upstream's order.</summary>
    public static IReadOnlyList<DisruptionReason> Reasons { get; } = [DisruptionReason.Empty, DisruptionReason.Drifted, DisruptionReason.Underutilized];
}
