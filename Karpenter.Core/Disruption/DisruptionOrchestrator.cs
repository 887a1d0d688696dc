using System.Globalization;
using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Metrics;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;
using Karpenter.Kube.Events;
using Karpenter.Kube.Informers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Core.Disruption;

/// <summary>
/// Carries out disruption commands (upstream's orchestration queue, with replacements first): the candidates' NodeClaims
/// get the <c>DisruptionReason</c> condition (the durable mark, as upstream), replacements are created and their names
/// recorded on the candidates, the candidates are marked in the cluster state so nothing schedules onto them, and only
/// once every replacement is Initialized are the candidates tainted <c>karpenter.sh/disrupted:NoSchedule</c> and their
/// NodeClaims deleted (termination drains them). A replacement that disappears or does not initialize in time aborts the
/// command: the candidates are unmarked, untainted and their condition cleared. Each step leaves events on the candidates'
/// Node and NodeClaim with the reason and the price before and after. Progress is level-based: <see cref="ProcessAsync"/>
/// re-reads the replacements each pass, and <see cref="RecoverAsync"/> finds marks no live command owns (a restart, a
/// crash mid-command) and resumes them when their replacements are initialized, or clears them.
/// </summary>
public sealed partial class DisruptionOrchestrator(
    IKubeClient client,
    InformerFactory informers,
    ClusterState state,
    IReplacementFactory factory,
    ClusterIndexes indexes,
    IEventRecorder events,
    DisruptionMetrics metrics,
    LifecycleMetrics lifecycleMetrics,
    IOptions<DisruptionOptions> options,
    TimeProvider time,
    ILogger<DisruptionOrchestrator> logger)
{
    private readonly Lock _lock = new();
    private readonly List<Item> _items = [];

    /// <summary>Names (NodeClaims and Nodes) of candidates with a command in flight.</summary>
    public IReadOnlySet<string> InFlight()
    {
        lock (_lock)
        {
            return _items.SelectMany(i => i.Command.Candidates.SelectMany(c => new[] { c.Name, c.NodeName })).ToHashSet(StringComparer.Ordinal);
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="command"/>: marks the candidates (<c>DisruptionReason</c>), creates the replacements and
    /// records them on the candidates; a delete is executed at once, a replace waits for its replacements.
    /// </summary>
    public async Task StartAsync(Command command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var item = new Item(command, time.GetUtcNow());
        var reason = command.Reason.ToString();
        try
        {
            foreach (var c in command.Candidates)
            {
                await UpdateNodeClaimAsync(c.Name, claim => MarkDisrupted(claim, reason, time.GetUtcNow()), status: true, cancellationToken);
            }

            foreach (var planned in command.Replacements)
            {
                var pool = informers.Get<NodePool>().Get(ObjectKey.Cluster(planned.NodePool.Name))
                    ?? throw new InvalidOperationException($"NodePool \"{planned.NodePool.Name}\" no longer exists");
                var created = await client.CreateAsync(factory.Create(planned, pool), cancellationToken);
                item.Replacements.Add(created.Metadata.Name);
                events.Publish(new KubeEvent(created, EventTypes.Normal, EventReasons.DisruptionLaunching, $"Launching NodeClaim: {Describe(command)}")
                {
                    DedupeValues = [created.Metadata.Uid ?? created.Metadata.Name, reason],
                });
            }

            if (item.Replacements.Count > 0)
            {
                var recorded = string.Join(',', item.Replacements);
                foreach (var c in command.Candidates)
                {
                    await UpdateNodeClaimAsync(c.Name, claim => RecordReplacements(claim, recorded), status: false, cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.QueueFailures.Add(1, new System.Diagnostics.TagList { { "decision", command.Decision.ToString().ToLowerInvariant() }, { "reason", DisruptionMetrics.ReasonLabel(command.Reason) }, { "consolidation_type", DisruptionMetrics.ConsolidationType(command.Method) } });
            await AbortAsync(item, $"starting the command failed: {e.Message}", cancellationToken);
            return;
        }

        // After the replacements exist (as upstream): marked earlier, the provisioner could launch for the same pods twice.
        state.MarkForDeletion(command.Candidates.SelectMany(c => new[] { c.Name, c.NodeName }));
        metrics.Decided(command);
        foreach (var c in command.Candidates)
        {
            if (command.Replacements.Count > 0)
            {
                Publish(c, EventTypes.Normal, EventReasons.DisruptionWaitingReadiness, $"Waiting on readiness to continue disruption: {Describe(command)}");
            }
        }

        lock (_lock)
        {
            _items.Add(item);
        }

        await ProcessAsync(cancellationToken);
    }

    /// <summary>Advances every command: executes those whose replacements are initialized, aborts failed or timed-out ones.</summary>
    public async Task ProcessAsync(CancellationToken cancellationToken)
    {
        List<Item> items;
        lock (_lock)
        {
            items = [.. _items];
        }

        var claims = informers.Get<NodeClaim>();
        foreach (var item in items)
        {
            string? failed = null;
            foreach (var name in item.Replacements)
            {
                // Missing from the cache may be cache lag right after the create: ask the server.
                var replacement = claims.Get(ObjectKey.Cluster(name)) ?? await client.TryGetAsync<NodeClaim>(name, cancellationToken: cancellationToken);
                if (replacement is null || replacement.Metadata.DeletionTimestamp is not null)
                {
                    failed = name;
                    break;
                }
            }

            if (failed is not null)
            {
                await AbortAsync(item, $"replacement NodeClaim {failed} was deleted before it initialized", cancellationToken);
                continue;
            }

            var waiting = item.Replacements.Select(n => claims.Get(ObjectKey.Cluster(n))).Where(c => c is null || !ConditionList.IsTrue(c.Status?.Conditions, ConditionTypes.Initialized)).ToList();
            foreach (var replacement in waiting.OfType<NodeClaim>())
            {
                events.Publish(new KubeEvent(replacement, EventTypes.Normal, EventReasons.DisruptionWaitingReadiness, "Waiting on readiness to continue disruption")
                {
                    DedupeValues = [replacement.Metadata.Uid ?? replacement.Metadata.Name],
                });
            }

            if (waiting.Count > 0)
            {
                if (time.GetUtcNow() - item.Started >= options.Value.ReplacementTimeout)
                {
                    await AbortAsync(item, $"replacements did not initialize within {options.Value.ReplacementTimeout}", cancellationToken);
                }

                continue;
            }

            try
            {
                await ExecuteAsync(item, cancellationToken);
                lock (_lock)
                {
                    _items.Remove(item);
                }
            }
            catch (KubeApiException e)
            {
                // Level-based: the next pass retries what is left (taints and deletes are idempotent).
                LogExecuteFailed(logger, item.Command, e.Message);
            }
        }
    }

    private async Task ExecuteAsync(Item item, CancellationToken cancellationToken)
    {
        foreach (var c in item.Command.Candidates)
        {
            await TaintAsync(c.NodeName, cancellationToken);
        }

        foreach (var c in item.Command.Candidates)
        {
            if (await client.DeleteIfExistsAsync<NodeClaim>(c.Name, cancellationToken: cancellationToken))
            {
                lifecycleMetrics.NodeClaimsDisrupted.Add(1, LifecycleMetrics.Disruption(DisruptionMetrics.ReasonLabel(item.Command.Reason), c.NodeClaim.NodePoolName, c.NodeClaim.Label(Labels.CapacityType)));
            }

            if (c.State.Node is { } node)
            {
                events.Publish(new KubeEvent(node, EventTypes.Normal, EventReasons.DisruptionTerminating, $"Disrupting Node: {Describe(item.Command)}"));
            }

            events.Publish(new KubeEvent(c.NodeClaim, EventTypes.Normal, EventReasons.DisruptionTerminating, $"Disrupting NodeClaim: {Describe(item.Command)}"));
        }

        LogExecuted(logger, item.Command);
    }

    /// <summary>Puts <c>karpenter.sh/disrupted:NoSchedule</c> on a node that lacks it.</summary>
    private async Task TaintAsync(string? nodeName, CancellationToken cancellationToken)
    {
        if (nodeName is null || informers.Get<V1Node>().Get(ObjectKey.Cluster(nodeName)) is not { } node || node.Spec?.Taints?.Any(IsDisrupted) == true)
        {
            return;
        }

        var tainted = KubeObjects.DeepClone(node);
        tainted.Spec ??= new V1NodeSpec();
        tainted.Spec.Taints = [.. tainted.Spec.Taints ?? [], new V1Taint { Key = Taints.DisruptedKey, Effect = Taints.EffectNoSchedule }];
        await client.PatchFromAsync(node, tainted, optimisticLock: true, cancellationToken);
    }

    private async Task AbortAsync(Item item, string why, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _items.Remove(item);
        }

        LogAborted(logger, item.Command, why);
        state.UnmarkForDeletion(item.Command.Candidates.SelectMany(c => new[] { c.Name, c.NodeName }));
        foreach (var c in item.Command.Candidates)
        {
            Publish(c, EventTypes.Warning, EventReasons.DisruptionBlocked, $"Disruption aborted: {why} ({Describe(item.Command)})");
            await UntaintAsync(client, informers, c.NodeName, cancellationToken);
            await ClearMarksAsync(c.Name, cancellationToken);
        }
    }

    /// <summary>
    /// Level-based recovery, every pass: a NodeClaim with <c>DisruptionReason</c> that no live command owns (the operator
    /// restarted, or crashed mid-command) is resumed when every replacement recorded on it exists and is Initialized
    /// (tainted and deleted), waited for while they initialize (until <see cref="DisruptionOptions.ReplacementTimeout"/>
    /// from the mark), and otherwise cleared: untainted, condition and record removed. Replacements of a cleared command
    /// stay, for consolidation to reclaim if unneeded (as upstream). A <c>karpenter.sh/disrupted</c> taint on a node whose
    /// NodeClaim is neither marked nor being deleted is removed.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var inFlight = InFlight();
        var claims = informers.Get<NodeClaim>();
        foreach (var claim in claims.List())
        {
            if (claim.Metadata.DeletionTimestamp is null && !inFlight.Contains(claim.Metadata.Name) && claim.Condition(ConditionTypes.DisruptionReason) is { Status: ConditionStatus.True } mark)
            {
                try
                {
                    await RecoverCommandAsync(claim, mark, cancellationToken);
                }
                catch (KubeApiException e)
                {
                    LogRecoveryFailed(logger, claim.Metadata.Name, e.Message);
                }
            }
        }

        foreach (var node in informers.Get<V1Node>().List())
        {
            if (node.Spec?.Taints?.Any(IsDisrupted) != true || inFlight.Contains(node.Metadata.Name) || node.Metadata.DeletionTimestamp is not null ||
                state.IsMarkedForDeletion(node.Metadata.Name))
            {
                continue;
            }

            if (indexes.NodeClaimsForProviderId(node.Spec?.ProviderID) is not [var claim, ..] || claim.Metadata.DeletionTimestamp is not null ||
                claim.IsTrue(ConditionTypes.DisruptionReason))
            {
                continue;
            }

            await UntaintAsync(client, informers, node.Metadata.Name, cancellationToken);
        }
    }

    private async Task RecoverCommandAsync(NodeClaim claim, V1Condition mark, CancellationToken cancellationToken)
    {
        var name = claim.Metadata.Name;
        var nodeName = claim.Status?.NodeName;
        var recorded = (claim.Metadata.Annotations is { } annotations && annotations.TryGetValue(Annotations.DisruptionReplacements, out var value) ? value : string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string? abandon = null;
        var initialized = 0;
        if (recorded.Length == 0)
        {
            abandon = "its command was lost before any replacement was recorded";
        }
        else
        {
            foreach (var replacementName in recorded)
            {
                var replacement = informers.Get<NodeClaim>().Get(ObjectKey.Cluster(replacementName)) ?? await client.TryGetAsync<NodeClaim>(replacementName, cancellationToken: cancellationToken);
                if (replacement is null || replacement.Metadata.DeletionTimestamp is not null)
                {
                    abandon = $"replacement NodeClaim {replacementName} is gone";
                    break;
                }

                initialized += replacement.IsTrue(ConditionTypes.Initialized) ? 1 : 0;
            }
        }

        var since = mark.LastTransitionTime is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : time.GetUtcNow();
        if (abandon is null && initialized < recorded.Length && time.GetUtcNow() - since >= options.Value.ReplacementTimeout)
        {
            abandon = $"replacements did not initialize within {options.Value.ReplacementTimeout}";
        }

        var reason = mark.Reason ?? string.Empty;
        if (abandon is not null)
        {
            LogRecoveredAbort(logger, name, abandon);
            state.UnmarkForDeletion(nodeName is null ? [name] : [name, nodeName]);
            PublishOn(claim, nodeName, EventTypes.Warning, EventReasons.DisruptionBlocked, $"Disruption aborted: {abandon}");
            await UntaintAsync(client, informers, nodeName ?? string.Empty, cancellationToken);
            await ClearMarksAsync(name, cancellationToken);
            return;
        }

        // Keep it out of scheduling and candidates while its replacements initialize (the marks were lost with the process).
        state.MarkForDeletion(nodeName is null ? [name] : [name, nodeName]);
        if (initialized < recorded.Length)
        {
            return;
        }

        var replacements = string.Join(", ", recorded);
        LogResumed(logger, name, replacements);
        await TaintAsync(nodeName, cancellationToken);
        if (await client.DeleteIfExistsAsync<NodeClaim>(name, null, KubeClientExtensions.Preconditions(claim.Metadata.Uid), cancellationToken))
        {
            lifecycleMetrics.NodeClaimsDisrupted.Add(1, LifecycleMetrics.Disruption(reason.ToLowerInvariant(), claim.NodePoolName, claim.Label(Labels.CapacityType)));
        }

        PublishOn(claim, nodeName, EventTypes.Normal, EventReasons.DisruptionTerminating, $"Disrupting NodeClaim: {reason}: resumed after a restart, replacements {replacements} are initialized");
    }

    private void PublishOn(NodeClaim claim, string? nodeName, string type, string reason, string message)
    {
        if (nodeName is not null && informers.Get<V1Node>().Get(ObjectKey.Cluster(nodeName)) is { } node)
        {
            events.Publish(new KubeEvent(node, type, reason, message.Replace("Disrupting NodeClaim", "Disrupting Node", StringComparison.Ordinal)));
        }

        events.Publish(new KubeEvent(claim, type, reason, message));
    }

    /// <summary>Sets <c>DisruptionReason</c> as upstream's queue does (reason and message: the disruption reason); true when it changed.</summary>
    private static bool MarkDisrupted(NodeClaim claim, string reason, DateTimeOffset now) =>
        claim.SetCondition(ConditionTypes.DisruptionReason, ConditionStatus.True, reason, reason, now);

    private static bool RecordReplacements(NodeClaim claim, string names)
    {
        claim.Metadata.Annotations ??= new Dictionary<string, string>();
        if (claim.Metadata.Annotations.TryGetValue(Annotations.DisruptionReplacements, out var existing) && existing == names)
        {
            return false;
        }

        claim.Metadata.Annotations[Annotations.DisruptionReplacements] = names;
        return true;
    }

    /// <summary>Removes the <c>DisruptionReason</c> condition and the replacements record (best effort: a lost race is left to the next pass).</summary>
    private async Task ClearMarksAsync(string claimName, CancellationToken cancellationToken)
    {
        try
        {
            await UpdateNodeClaimAsync(claimName, claim => claim.Metadata.Annotations?.Remove(Annotations.DisruptionReplacements) == true, status: false, cancellationToken);
            await UpdateNodeClaimAsync(claimName, claim => claim.Status?.Conditions is { } conditions && ConditionList.Remove(conditions, ConditionTypes.DisruptionReason), status: true, cancellationToken);
        }
        catch (KubeApiException e)
        {
            LogRecoveryFailed(logger, claimName, e.Message);
        }
    }

    /// <summary>Reads the NodeClaim from the server, applies <paramref name="mutate"/> and patches (status or object) under its resourceVersion, retrying conflicts.</summary>
    private async Task UpdateNodeClaimAsync(string name, Func<NodeClaim, bool> mutate, bool status, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await client.TryGetAsync<NodeClaim>(name, cancellationToken: cancellationToken) is not { } current || current.Metadata.DeletionTimestamp is not null)
            {
                return;
            }

            var modified = KubeObjects.DeepClone(current);
            if (!mutate(modified))
            {
                return;
            }

            try
            {
                _ = status
                    ? await client.PatchStatusFromAsync(current, modified, optimisticLock: true, cancellationToken)
                    : await client.PatchFromAsync(current, modified, optimisticLock: true, cancellationToken);
                return;
            }
            catch (KubeConflictException) when (attempt < 3)
            {
                // Another writer got there first: read again.
            }
            catch (KubeNotFoundException)
            {
                return;
            }
        }
    }

    /// <summary>Removes <c>karpenter.sh/disrupted</c> from a node that is not being deleted (best effort: a conflict leaves it to the next pass).</summary>
    public static async Task UntaintAsync(IKubeClient client, InformerFactory informers, string nodeName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(informers);
        if (informers.Get<V1Node>().Get(ObjectKey.Cluster(nodeName)) is not { } node || node.Metadata.DeletionTimestamp is not null || node.Spec?.Taints?.Any(IsDisrupted) != true)
        {
            return;
        }

        var untainted = KubeObjects.DeepClone(node);
        untainted.Spec.Taints = [.. untainted.Spec.Taints.Where(t => !IsDisrupted(t))];
        try
        {
            await client.PatchFromAsync(node, untainted, optimisticLock: true, cancellationToken);
        }
        catch (Exception e) when (e is KubeConflictException or KubeNotFoundException)
        {
            // The cache was behind (or the node went): the stale-taint pass of the next loop sees the current node.
        }
    }

    public static bool IsDisrupted(V1Taint taint) => taint?.Key == Taints.DisruptedKey && taint.Effect == Taints.EffectNoSchedule;

    /// <summary>"Underutilized/Replace via single, 0.4/h -> 0.2/h": what the events and logs say.</summary>
    public static string Describe(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return string.Create(CultureInfo.InvariantCulture,
            $"{command.Reason}/{command.Decision} ({command.Method}), price {command.PriceBefore:0.####}/h -> {command.PriceAfter:0.####}/h, {command.Candidates.Count} node(s), {command.PodsMoved} pod(s) to move");
    }

    private void Publish(Candidate c, string type, string reason, string message)
    {
        if (c.State.Node is { } node)
        {
            events.Publish(new KubeEvent(node, type, reason, message));
        }

        events.Publish(new KubeEvent(c.NodeClaim, type, reason, message));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Disruption executed: {Command}")]
    private static partial void LogExecuted(ILogger logger, Command command);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disruption aborted: {Command}: {Reason}")]
    private static partial void LogAborted(ILogger logger, Command command, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Disruption of NodeClaim {NodeClaim} resumed after a restart: replacements {Replacements} are initialized")]
    private static partial void LogResumed(ILogger logger, string nodeClaim, string replacements);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disruption of NodeClaim {NodeClaim} abandoned (no live command): {Reason}")]
    private static partial void LogRecoveredAbort(ILogger logger, string nodeClaim, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovering the disruption marks of NodeClaim {NodeClaim} will be retried: {Error}")]
    private static partial void LogRecoveryFailed(ILogger logger, string nodeClaim, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disruption of {Command} will be retried: {Error}")]
    private static partial void LogExecuteFailed(ILogger logger, Command command, string error);

    private sealed class Item(Command command, DateTimeOffset started)
    {
        public Command Command { get; } = command;

        public DateTimeOffset Started { get; } = started;

        public List<string> Replacements { get; } = [];
    }
}
