using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.World;

/// <summary>
/// A logger provider that keeps the latest warnings and errors in memory (bounded), so that a simulation's live view
/// stays readable and its report can still show what went wrong inside the operator or the world.
/// </summary>
public sealed class CollectedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();
    private readonly int _capacity;
    private readonly LogLevel _minimum;

    public CollectedLogs(LogLevel minimum = LogLevel.Warning, int capacity = 200)
    {
        _minimum = minimum;
        _capacity = capacity;
    }

    /// <summary>The entries kept, oldest first, as "Level category: message".</summary>
    public IReadOnlyList<string> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

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
            owner.Add(exception is null ? $"{logLevel} {category}: {message}" : $"{logLevel} {category}: {message} ({exception.GetType().Name}: {exception.Message})");
        }
    }
}
