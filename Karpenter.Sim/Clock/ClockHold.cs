namespace Karpenter.Sim.Clock;

/// <summary>
/// Lets a simulated control-plane component (kube-controller-manager's ReplicaSet and Deployment controllers,
/// kube-scheduler, a scenario's timeline) run a burst of API writes at real speed: while at least one hold is taken,
/// an <see cref="AcceleratedTimeProvider"/> runs at 1× (simulated time keeps flowing, one simulated second per real
/// second), and it returns to its set speed when the last hold is released. Without it, the real milliseconds between
/// the slow-start batches of a 40-pod scale-up become several simulated seconds at 60–120×, Karpenter's batch window
/// (1 s idle) closes in the middle of it, and the scale-up is provisioned as several small batches a real cluster
/// would not see. Use as <c>using var _ = holds.Hold();</c>: reference-counted, thread-safe, released once however
/// often it is disposed. Never taken by the operator: its work takes the (accelerated) time it takes.
/// </summary>
/// <remarks>
/// Real speed rather than a pause: in a cluster a burst of writes takes real time (milliseconds per request), which
/// is about what the emulated API server takes, so 1× gives it the simulated time it would have; a pause would make it
/// take none, would stop every other component (the operator's own work during the burst would cost no simulated
/// time at all), and would never end if anything in the burst waited on a simulated timer (a client's backoff).
/// </remarks>
public interface IClockHold
{
    /// <summary>Takes a hold until the returned handle is disposed.</summary>
    IDisposable Hold();
}

/// <summary>Where components find the hold of their clock.</summary>
public static class ClockHold
{
    /// <summary>A hold that does nothing (a clock that is not accelerated: real time, or a test's fake clock).</summary>
    public static IClockHold None { get; } = new NoHold();

    /// <summary>The hold of <paramref name="time"/> when it offers one (an <see cref="AcceleratedTimeProvider"/>), else <see cref="None"/>.</summary>
    public static IClockHold Of(TimeProvider time) => time as IClockHold ?? None;

    private sealed class NoHold : IClockHold, IDisposable
    {
        public IDisposable Hold() => this;

        public void Dispose()
        {
        }
    }
}
