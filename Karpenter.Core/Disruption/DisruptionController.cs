using System.Diagnostics;
using k8s;
using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Kube.Informers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Core.Disruption;

/// <summary>
/// Upstream's disruption loop, a singleton: every 10 s once the state has synced, it advances the orchestration queue,
/// resumes or clears disruption marks (<c>DisruptionReason</c>, <c>karpenter.sh/disrupted</c>) no live command owns (left
/// by a restart or a crash), and tries the methods in order
/// (emptiness, drift, multi-node, single-node consolidation); only the first that finds something acts. Emptiness and
/// consolidation commands wait 15 s and are re-validated against a fresh snapshot (same candidates still candidates,
/// budgets still open, the same decision still valid) before the queue starts them.
/// </summary>
public sealed partial class DisruptionController(
    SnapshotBuilder snapshots,
    Consolidator consolidator,
    DisruptionOrchestrator queue,
    IEventRecorder events,
    DisruptionMetrics metrics,
    IOptions<DisruptionOptions> options,
    TimeProvider time,
    ILogger<DisruptionController> logger) : ISingletonReconciler
{
    public const string Name = "disruption";

    private Pending? _pending;

    /// <summary>The command waiting for validation, if any (for tests and diagnostics).</summary>
    public Command? PendingCommand => _pending?.Command;

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        var poll = options.Value.PollInterval;
        if (!snapshots.Synced)
        {
            return ReconcileResult.After(poll);
        }

        await queue.ProcessAsync(cancellationToken);
        await queue.RecoverAsync(cancellationToken);
        var now = time.GetUtcNow();
        if (_pending is { } pending)
        {
            if (now < pending.ValidateAt)
            {
                return ReconcileResult.After(pending.ValidateAt - now);
            }

            _pending = null;
            var validated = await ValidateAsync(pending.Command, cancellationToken);
            if (validated is not null)
            {
                await queue.StartAsync(validated, cancellationToken);
            }

            return ReconcileResult.After(poll);
        }

        var snapshot = await snapshots.BuildAsync(queue.InFlight(), cancellationToken);
        RecordBudgets(snapshot);
        var command = Decide(snapshot, cancellationToken);
        if (command is null)
        {
            return ReconcileResult.After(poll);
        }

        LogDecided(logger, command);
        if (command.Method == DisruptionMethods.Drift || options.Value.ValidationDelay == TimeSpan.Zero)
        {
            await queue.StartAsync(command, cancellationToken);
            return ReconcileResult.After(poll);
        }

        _pending = new Pending(command, now + options.Value.ValidationDelay);
        return ReconcileResult.After(options.Value.ValidationDelay);
    }

    /// <summary>Runs the methods in order on <paramref name="snapshot"/>; the first command found wins.</summary>
    public Command? Decide(ClusterSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var (graceful, rejected) = Candidates.Build(snapshot, DisruptionClass.Graceful);
        foreach (var r in rejected.Where(r => r.Publish))
        {
            PublishBlocked(r.State, r.Message);
        }

        var emptyEligible = graceful.Count(c => c.ReschedulablePods.Count == 0);
        metrics.EligibleNodes.Record(emptyEligible, new TagList { { "reason", "empty" } });
        metrics.EligibleNodes.Record(graceful.Count - emptyEligible, new TagList { { "reason", "underutilized" } });

        var started = time.GetTimestamp();
        var command = Consolidator.Emptiness(snapshot, graceful);
        Observe(DisruptionMethods.Emptiness, started);
        if (command is not null)
        {
            return command;
        }

        started = time.GetTimestamp();
        var eventual = Candidates.Build(snapshot, DisruptionClass.Eventual).Candidates;
        metrics.EligibleNodes.Record(eventual.Count(c => c.NodeClaim.IsConditionTrue(ConditionTypes.Drifted)), new TagList { { "reason", "drifted" } });
        var drift = consolidator.Drift(snapshot, eventual, cancellationToken);
        Observe(DisruptionMethods.Drift, started);
        if (drift.Command is not null)
        {
            return drift.Command;
        }

        started = time.GetTimestamp();
        command = consolidator.MultiNode(snapshot, graceful, cancellationToken);
        Observe(DisruptionMethods.MultiNodeConsolidation, started);
        if (consolidator.TimedOut)
        {
            metrics.ConsolidationTimeouts.Add(1, new TagList { { "consolidation_type", "multi" } });
        }

        if (command is not null)
        {
            return command;
        }

        started = time.GetTimestamp();
        var single = consolidator.SingleNode(snapshot, graceful, cancellationToken);
        Observe(DisruptionMethods.SingleNodeConsolidation, started);
        if (consolidator.TimedOut)
        {
            metrics.ConsolidationTimeouts.Add(1, new TagList { { "consolidation_type", "single" } });
        }

        // As upstream: one Unconsolidatable per node every 15 minutes whatever the reason, not one per pass.
        foreach (var (candidate, reason) in consolidator.Unconsolidatable)
        {
            Publish(candidate.State, EventTypes.Normal, EventReasons.Unconsolidatable, reason, UnconsolidatableDedupe);
        }

        return single.Command;
    }

    private async Task<Command?> ValidateAsync(Command command, CancellationToken cancellationToken)
    {
        var snapshot = await snapshots.BuildAsync(queue.InFlight(), cancellationToken);
        var names = command.Candidates.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var current = Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates.Where(c => names.Contains(c.Name)).ToList();
        string? failure = null;
        Command? revalidated = null;
        if (current.Count != names.Count)
        {
            failure = "a candidate is no longer disruptable";
        }
        else if (command.Method == DisruptionMethods.Emptiness)
        {
            var again = Consolidator.Emptiness(snapshot, current);
            revalidated = again is not null && again.Candidates.Count == current.Count ? again : null;
            failure = revalidated is null ? "a candidate is no longer empty, consolidatable or within budget" : null;
        }
        else
        {
            var reason = current.All(c => c.ReschedulablePods.Count == 0) ? DisruptionReason.Empty : DisruptionReason.Underutilized;
            var budgets = snapshot.Budgets(reason);
            if (current.GroupBy(c => c.NodePoolName).Any(g => budgets.GetValueOrDefault(g.Key) < g.Count()))
            {
                failure = "disruption budgets no longer allow it";
            }
            else
            {
                var outcome = consolidator.Compute(snapshot, Consolidator.ConsolidationCandidates(current), command.Method, cancellationToken);
                revalidated = outcome.Command is { } c && c.Candidates.Count == current.Count && c.Decision == command.Decision ? c : null;
                failure = revalidated is null ? outcome.Reason ?? "the decision changed" : null;
            }
        }

        if (failure is not null)
        {
            metrics.FailedValidations.Add(1, new TagList { { "consolidation_type", DisruptionMetrics.ConsolidationType(command.Method) } });
            LogValidationFailed(logger, command, failure);
        }

        return revalidated;
    }

    private void RecordBudgets(ClusterSnapshot snapshot)
    {
        foreach (var reason in DisruptionBudgets.Reasons)
        {
            foreach (var (pool, allowed) in snapshot.Budgets(reason))
            {
                var nodes = snapshot.BudgetNodes().Count(n => n.NodePool == pool);
                metrics.AllowedDisruptions.Record(allowed == int.MaxValue ? nodes : allowed,
                    new TagList { { "nodepool", pool }, { "reason", DisruptionMetrics.ReasonLabel(reason) } });

                // Upstream's NodePoolBlockedForDisruptionReason: the budgets themselves (not disruptions in progress) allow
                // none. Only for a NodePool with nodes: an empty one has nothing to block.
                if (nodes > 0 && snapshot.NodePools.TryGetValue(pool, out var nodePool) && nodePool.GetAllowedDisruptions(snapshot.Now, nodes, reason) == 0)
                {
                    events.Publish(new KubeEvent(nodePool, EventTypes.Normal, EventReasons.DisruptionBlocked, $"No allowed disruptions for disruption reason {reason} due to blocking budget")
                    {
                        DedupeValues = [nodePool.Metadata.Uid ?? pool, reason.ToString()],
                    });
                }
            }
        }
    }

    private void Observe(string method, long started) =>
        metrics.DecisionDuration.Record(time.GetElapsedTime(started).TotalSeconds, new TagList { { "method", method == DisruptionMethods.Drift ? "drift" : method == DisruptionMethods.Emptiness ? "emptiness" : "consolidation" }, { "consolidation_type", DisruptionMetrics.ConsolidationType(method) } });

    /// <summary>As upstream (<c>pretty.Sentence</c> of the reason): the reason itself, its first letter capitalized.</summary>
    private void PublishBlocked(StateNode state, string message) =>
        Publish(state, EventTypes.Normal, EventReasons.DisruptionBlocked, message.Length == 0 ? message : string.Concat(char.ToUpperInvariant(message[0]).ToString(), message.AsSpan(1)));

    /// <summary>
    /// Publishes on the node and the NodeClaim. Repeats are identified by object, reason and message, or, with
    /// <paramref name="perObject"/>, by object alone for that long (upstream's <c>DedupeTimeout</c>).
    /// </summary>
    private void Publish(StateNode state, string type, string reason, string message, TimeSpan? perObject = null)
    {
        void On(IKubernetesObject<V1ObjectMeta> regarding, string uid) =>
            events.Publish(new KubeEvent(regarding, type, reason, message) { DedupeValues = perObject is null ? [uid, reason, message] : [uid], DedupeTimeout = perObject });

        if (state.Node is { } node)
        {
            On(node, node.Metadata.Uid ?? node.Metadata.Name);
        }

        On(state.NodeClaim, state.NodeClaim.Metadata.Uid ?? state.Name);
    }

    private static readonly TimeSpan UnconsolidatableDedupe = TimeSpan.FromMinutes(15);

    [LoggerMessage(Level = LogLevel.Information, Message = "Disruption decided: {Command}")]
    private static partial void LogDecided(ILogger logger, Command command);

    [LoggerMessage(Level = LogLevel.Information, Message = "Disruption command {Command} failed validation: {Reason}")]
    private static partial void LogValidationFailed(ILogger logger, Command command, string reason);

    private sealed record Pending(Command Command, DateTimeOffset ValidateAt);
}
