using System.Globalization;
using k8s.Models;
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
/// Carries out disruption commands (upstream's orchestration queue, with replacements first): the candidates are marked
/// in the cluster state so nothing schedules onto them, replacements are created and awaited until Initialized, and only
/// then are the candidates tainted <c>karpenter.sh/disrupted:NoSchedule</c> and their NodeClaims deleted (termination
/// drains them). A replacement that disappears or does not initialize in time aborts the command: the candidates are
/// unmarked and untainted. Each step leaves events on the candidates' Node and NodeClaim with the reason and the price
/// before and after. Progress is level-based: <see cref="ProcessAsync"/> re-reads the replacements each pass.
/// </summary>
public sealed partial class DisruptionOrchestrator(
    IKubeClient client,
    InformerFactory informers,
    ClusterState state,
    IReplacementFactory factory,
    IEventRecorder events,
    DisruptionMetrics metrics,
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

    /// <summary>Starts <paramref name="command"/>: a delete is executed at once; a replace creates its replacements and waits.</summary>
    public async Task StartAsync(Command command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        state.MarkForDeletion(command.Candidates.SelectMany(c => new[] { c.Name, c.NodeName }));
        var item = new Item(command, time.GetUtcNow());
        try
        {
            foreach (var planned in command.Replacements)
            {
                var pool = informers.Get<NodePool>().Get(ObjectKey.Cluster(planned.NodePool.Name))
                    ?? throw new InvalidOperationException($"NodePool \"{planned.NodePool.Name}\" no longer exists");
                var created = await client.CreateAsync(factory.Create(planned, pool), cancellationToken);
                item.Replacements.Add(created.Metadata.Name);
                events.Publish(new KubeEvent(created, EventTypes.Normal, EventReasons.DisruptionLaunching, $"Launching NodeClaim: {Describe(command)}"));
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.QueueFailures.Add(1, new System.Diagnostics.TagList { { "decision", command.Decision.ToString().ToLowerInvariant() }, { "reason", DisruptionMetrics.ReasonLabel(command.Reason) }, { "consolidation_type", DisruptionMetrics.ConsolidationType(command.Method) } });
            await AbortAsync(item, $"creating a replacement failed: {e.Message}", cancellationToken);
            return;
        }

        metrics.Decided(command);
        foreach (var c in command.Candidates)
        {
            Publish(c, EventTypes.Normal, command.Replacements.Count == 0 ? EventReasons.DisruptionTerminating : EventReasons.DisruptionWaitingReadiness,
                command.Replacements.Count == 0 ? $"Disrupting Node: {Describe(command)}" : $"Waiting on readiness to continue disruption: {Describe(command)}");
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

            var ready = item.Replacements.All(n => claims.Get(ObjectKey.Cluster(n)) is { } c && ConditionList.IsTrue(c.Status.Conditions, ConditionTypes.Initialized));
            if (!ready)
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
        var nodes = informers.Get<V1Node>();
        foreach (var c in item.Command.Candidates)
        {
            if (nodes.Get(ObjectKey.Cluster(c.NodeName)) is { } node && node.Spec?.Taints?.Any(IsDisrupted) != true)
            {
                var tainted = KubeObjects.DeepClone(node);
                tainted.Spec ??= new V1NodeSpec();
                tainted.Spec.Taints = [.. tainted.Spec.Taints ?? [], new V1Taint { Key = Taints.DisruptedKey, Effect = Taints.EffectNoSchedule }];
                await client.PatchFromAsync(node, tainted, optimisticLock: true, cancellationToken);
            }
        }

        foreach (var c in item.Command.Candidates)
        {
            await client.DeleteIfExistsAsync<NodeClaim>(c.Name, cancellationToken: cancellationToken);
            if (item.Command.Replacements.Count > 0)
            {
                Publish(c, EventTypes.Normal, EventReasons.DisruptionTerminating, $"Disrupting Node: {Describe(item.Command)}");
            }
        }

        LogExecuted(logger, item.Command);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disruption of {Command} will be retried: {Error}")]
    private static partial void LogExecuteFailed(ILogger logger, Command command, string error);

    private sealed class Item(Command command, DateTimeOffset started)
    {
        public Command Command { get; } = command;

        public DateTimeOffset Started { get; } = started;

        public List<string> Replacements { get; } = [];
    }
}
