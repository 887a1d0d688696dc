using System.Diagnostics;

namespace Karpenter.Sim.Clock;

/// <summary>How a <see cref="ClockGovernor"/> paces its clock.</summary>
public sealed class ClockGovernorOptions
{
    /// <summary>Real time between two looks at the lag signals.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The lowest share of the target speed the clock may fall to (0.1: a 60x clock never runs below 6x).</summary>
    public double MinimumFactor { get; set; } = 0.1;

    /// <summary>The factor is multiplied by this at each look while the pressure is above 1 (the world lags).</summary>
    public double Decrease { get; set; } = 0.7;

    /// <summary>The factor is multiplied by this at each look while the pressure is below <see cref="RecoverBelow"/>.</summary>
    public double Increase { get; set; } = 1.1;

    /// <summary>Pressure under which the clock speeds up again (between it and 1 the speed holds).</summary>
    public double RecoverBelow { get; set; } = 0.5;

    /// <summary>A heartbeat timer on the simulated clock later than this (real time) is a pressure of 1.</summary>
    public TimeSpan HeartbeatLag { get; set; } = TimeSpan.FromMilliseconds(15);

    /// <summary>Send heartbeats (off: only the caller's signals count, as in tests of the policy).</summary>
    public bool Heartbeat { get; set; } = true;

    internal void Validate()
    {
        if (Interval <= TimeSpan.Zero || !(MinimumFactor is > 0 and <= 1) || !(Decrease is > 0 and < 1) || !(Increase > 1) || !(RecoverBelow is > 0 and <= 1) || HeartbeatLag <= TimeSpan.Zero)
        {
            throw new ArgumentException("Invalid ClockGovernorOptions: Interval and HeartbeatLag must be positive, MinimumFactor in (0, 1], Decrease in (0, 1), Increase above 1, RecoverBelow in (0, 1].");
        }
    }
}

/// <summary>
/// Slows an <see cref="AcceleratedTimeProvider"/> when the world cannot keep up with it, and lets it recover after.
/// At a fixed speed, work that takes real time (HTTP round trips, CPU on a loaded machine) takes <c>speed</c> times as
/// long in simulated time, so on a busy machine the operator looks slow for reasons a cluster would not have. The
/// governor looks at lag signals every <see cref="ClockGovernorOptions.Interval"/> (real time), each a pressure
/// where 1 means "lagging": its own heartbeat (a timer on the simulated clock: how late, in real time, its callback
/// runs behind its due time, which measures the clock thread and the thread pool) and any the caller adds (e.g. the
/// operator's work-queue backlog, see <c>OperatorBacklog</c>). Above 1 the speed drops multiplicatively (down to
/// <see cref="ClockGovernorOptions.MinimumFactor"/> of the target); below <see cref="ClockGovernorOptions.RecoverBelow"/>
/// it climbs back towards the target. The policy is <see cref="NextFactor"/>, a pure function. A
/// <see cref="AcceleratedTimeProvider.Hold"/> composes with it: the governor sets the speed the clock runs at when no
/// hold is taken (and returns to after the last one), a hold runs it at 1× meanwhile.
/// </summary>
public sealed class ClockGovernor : IAsyncDisposable
{
    private readonly AcceleratedTimeProvider _clock;
    private readonly ClockGovernorOptions _options;
    private readonly IReadOnlyList<Func<double>> _signals;
    private readonly TimeProvider _realTime;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _heartbeatSent;
    private long _heartbeatReturned;
    private ITimer? _heartbeat;
    private double _factor = 1;
    private long _looks;
    private long _slowLooks;

    /// <param name="clock">The clock to pace; its speed when the governor is created is the target.</param>
    /// <param name="signals">Further lag signals, each a pressure (1: lagging); read on the governor's loop.</param>
    /// <param name="options">Pacing settings (defaults when null).</param>
    /// <param name="realTime">The real clock the governor's loop runs on (a fake one in tests).</param>
    public ClockGovernor(AcceleratedTimeProvider clock, IEnumerable<Func<double>>? signals = null, ClockGovernorOptions? options = null, TimeProvider? realTime = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _options = options ?? new ClockGovernorOptions();
        _options.Validate();
        _clock = clock;
        TargetSpeed = clock.Speed;
        _signals = [.. signals ?? []];
        _realTime = realTime ?? TimeProvider.System;
    }

    /// <summary>The speed the clock runs at when nothing lags.</summary>
    public double TargetSpeed { get; }

    /// <summary>The share of the target speed the clock runs at now.</summary>
    public double Factor
    {
        get
        {
            lock (_lock)
            {
                return _factor;
            }
        }
    }

    /// <summary>The share of looks at which the world lagged (0 when it never did).</summary>
    public double LaggingShare
    {
        get
        {
            lock (_lock)
            {
                return _looks == 0 ? 0 : (double)_slowLooks / _looks;
            }
        }
    }

    /// <summary>
    /// The pacing policy: the next factor (share of the target speed) given the current one and the pressure (the
    /// largest of the lag signals; 1 means lagging).
    /// </summary>
    public static double NextFactor(double factor, double pressure, ClockGovernorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (double.IsNaN(pressure))
        {
            return factor;
        }

        if (pressure > 1)
        {
            return Math.Max(options.MinimumFactor, factor * options.Decrease);
        }

        return pressure < options.RecoverBelow ? Math.Min(1, factor * options.Increase) : factor;
    }

    /// <summary>Starts looking every <see cref="ClockGovernorOptions.Interval"/> of real time.</summary>
    public void Start()
    {
        _loop = RunAsync(_stop.Token);
    }

    /// <summary>One look: reads the signals, sets the clock's speed; returns the pressure seen.</summary>
    public double Look()
    {
        var pressure = Math.Max(_options.Heartbeat ? HeartbeatPressure() : 0, _signals.Count == 0 ? 0 : _signals.Max(s => s()));
        lock (_lock)
        {
            _looks++;
            if (pressure > 1)
            {
                _slowLooks++;
            }

            var next = NextFactor(_factor, pressure, _options);
            if (next != _factor)
            {
                _factor = next;
                _clock.SetSpeed(TargetSpeed * next);
            }
        }

        return pressure;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _heartbeat?.Dispose();
    }

    /// <summary>
    /// How late the last heartbeat is (real time) relative to <see cref="ClockGovernorOptions.HeartbeatLag"/>; sends
    /// the next one when it has come back. A heartbeat is a zero-delay timer on the simulated clock, so it measures
    /// what every timer and Task.Delay of the world waits beyond its due time.
    /// </summary>
    private double HeartbeatPressure()
    {
        var sent = Interlocked.Read(ref _heartbeatSent);
        var returned = Interlocked.Read(ref _heartbeatReturned);
        if (sent != 0 && returned < sent)
        {
            return Stopwatch.GetElapsedTime(sent) / _options.HeartbeatLag;
        }

        var lag = sent == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(sent, returned);
        var now = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _heartbeatSent, now);
        _heartbeat ??= _clock.CreateTimer(_ => Interlocked.Exchange(ref _heartbeatReturned, Stopwatch.GetTimestamp()), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _heartbeat.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        return lag / _options.HeartbeatLag;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(_options.Interval, _realTime, cancellationToken);
                Look();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}
