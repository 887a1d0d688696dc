using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Karpenter.Kube.Client;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.World;

/// <summary>
/// A logger provider that keeps the latest warnings and errors in memory (bounded), so that a simulation's live view
/// stays readable and its report can still show what went wrong inside the operator or the world. Optimistic-
/// concurrency conflicts (a reconciler's write refused because the object changed since it read it, logged at Error
/// as controller-runtime does, and retried) are counted by controller and resource instead of kept one by one: they
/// are routine when several controllers write one object, and hundreds of them would bury the entries that matter.
/// </summary>
public sealed partial class CollectedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();
    private readonly ConcurrentDictionary<string, int> _conflicts = new(StringComparer.Ordinal);
    private readonly int _capacity;
    private readonly LogLevel _minimum;

    public CollectedLogs(LogLevel minimum = LogLevel.Warning, int capacity = 200)
    {
        _minimum = minimum;
        _capacity = capacity;
    }

    /// <summary>The entries kept, oldest first, as "Level category: message".</summary>
    public IReadOnlyList<string> Entries => [.. _entries];

    /// <summary>Optimistic-concurrency conflicts logged, by "controller on resource" (e.g. <c>node-lifecycle on nodes</c>).</summary>
    public IReadOnlyDictionary<string, int> Conflicts => new SortedDictionary<string, int>(_conflicts, StringComparer.Ordinal);

    /// <summary>One line for a report: how many conflicts, and where (null when there were none).</summary>
    public string? ConflictSummary()
    {
        var conflicts = Conflicts;
        if (conflicts.Count == 0)
        {
            return null;
        }

        var parts = conflicts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} ×{c.Value}");
        return $"{conflicts.Values.Sum()} optimistic-concurrency conflict(s) logged at Error and retried (the object changed between read and write): {string.Join(", ", parts)}";
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void AddConflict(string category, string message)
    {
        var controller = category.StartsWith(ControllersPrefix, StringComparison.Ordinal) ? category[ControllersPrefix.Length..] : category;
        var resource = ConflictResource().Match(message) is { Success: true } m ? m.Groups[1].Value : "objects";
        _conflicts.AddOrUpdate($"{controller} on {resource}", 1, (_, n) => n + 1);
    }

    private const string ControllersPrefix = "Karpenter.Kube.Controllers.";

    [GeneratedRegex("Operation cannot be fulfilled on ([a-z0-9.-]+) ")]
    private static partial Regex ConflictResource();

    private void Add(string entry)
    {
        _entries.Enqueue(entry);
        while (_entries.Count > _capacity && _entries.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(CollectedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            if (exception is KubeConflictException conflict)
            {
                owner.AddConflict(category, conflict.Message);
                return;
            }

            owner.Add(exception is null ? $"{logLevel} {category}: {message}" : $"{logLevel} {category}: {message} ({exception.GetType().Name}: {exception.Message})");
        }
    }
}
