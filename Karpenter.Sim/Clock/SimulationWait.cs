using System.Diagnostics;

namespace Karpenter.Sim.Clock;

/// <summary>
/// "Run until a condition holds" for tests and scenarios: polls a condition in <em>real</em> time (every few
/// milliseconds) while the simulated clock runs on its own, and gives up after a bounded real-time timeout with a
/// message saying what was awaited, for how long in both clocks, and what the world looked like.
/// </summary>
public static class SimulationWait
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Waits until <paramref name="condition"/> returns true; returns the simulated time that passed.
    /// </summary>
    /// <param name="clock">The world's clock (only read, to report simulated time).</param>
    /// <param name="condition">Checked at once and then every few real milliseconds; exceptions propagate.</param>
    /// <param name="realTimeout">How long to wait in real time before failing.</param>
    /// <param name="description">What is awaited, for the failure message ("every pod Running").</param>
    /// <param name="diagnostics">Optional: describes the current state for the failure message.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">The condition did not hold within <paramref name="realTimeout"/>.</exception>
    public static async Task<TimeSpan> UntilAsync(
        TimeProvider clock,
        Func<CancellationToken, ValueTask<bool>> condition,
        TimeSpan realTimeout,
        string description,
        Func<string>? diagnostics = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentException.ThrowIfNullOrEmpty(description);
        var simulatedStart = clock.GetTimestamp();
        var realStart = Stopwatch.GetTimestamp();
        var poll = FirstPoll;
        while (true)
        {
            if (await condition(cancellationToken))
            {
                return clock.GetElapsedTime(simulatedStart);
            }

            var realElapsed = Stopwatch.GetElapsedTime(realStart);
            if (realElapsed >= realTimeout)
            {
                var state = diagnostics is null ? string.Empty : $" State: {diagnostics()}";
                throw new TimeoutException(
                    $"Timed out waiting for {description}: not true after {realElapsed.TotalSeconds:0.0} s real time " +
                    $"({clock.GetElapsedTime(simulatedStart).TotalSeconds:0.#} s simulated).{state}");
            }

            // Real time on purpose: the condition is re-checked while the simulated clock runs (or stands still) on its own.
            await Task.Delay(poll, TimeProvider.System, cancellationToken);
            poll = poll * 2 < MaxPoll ? poll * 2 : MaxPoll;
        }
    }

    /// <summary>As <see cref="UntilAsync(TimeProvider, Func{CancellationToken, ValueTask{bool}}, TimeSpan, string, Func{string}?, CancellationToken)"/> with a synchronous condition.</summary>
    public static Task<TimeSpan> UntilAsync(
        TimeProvider clock,
        Func<bool> condition,
        TimeSpan realTimeout,
        string description,
        Func<string>? diagnostics = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return UntilAsync(clock, _ => ValueTask.FromResult(condition()), realTimeout, description, diagnostics, cancellationToken);
    }

    /// <summary>
    /// Lets <paramref name="duration"/> of simulated time pass on <paramref name="clock"/> (a real wait of
    /// duration ÷ speed on an accelerated clock), failing if that takes longer than <paramref name="realTimeout"/>.
    /// </summary>
    public static async Task ForAsync(TimeProvider clock, TimeSpan duration, TimeSpan realTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var until = clock.GetUtcNow() + duration;
        await UntilAsync(clock, () => clock.GetUtcNow() >= until, realTimeout, $"{duration} of simulated time to pass", cancellationToken: cancellationToken);
    }
}
