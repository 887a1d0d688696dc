using System.Diagnostics;

namespace Karpenter.Sim.Clock;

/// <summary>
/// A <see cref="TimeProvider"/> whose time runs <see cref="Speed"/> times faster than real time, so that every
/// component of a simulated world (API server, AWS emulator, simulated cluster, operator) sees minutes pass in seconds.
/// Timers and <c>Task.Delay(…, provider)</c> fire when <em>simulated</em> time reaches their due time; time is
/// monotonic (never goes backwards, whatever the thread); <see cref="Advance"/> jumps ahead, firing what falls due.
/// Thread-safe. Callbacks run on the thread pool, as <see cref="System.Threading.Timer"/>'s do.
/// </summary>
/// <remarks>
/// One dedicated thread waits (in real time) for the earliest due timer, so the precision of a timer is about one
/// real millisecond, i.e. <c>Speed</c> simulated milliseconds: at 60× a 10 s timer fires within ~60 ms simulated.
/// Work that takes real time (HTTP round trips, CPU) also takes <c>Speed</c> times as long in simulated time, so a very
/// high speed on a loaded machine makes every component look slow; 60× to 100× keeps API calls well under a second.
/// Simulated control-plane components take a <see cref="Hold"/> around a burst of API writes, so that it takes about
/// the simulated time it would take in a cluster (the clock runs at 1× while any hold is taken).
/// </remarks>
public sealed class AcceleratedTimeProvider : TimeProvider, IClockHold, IDisposable
{
    /// <summary>The speed while a <see cref="Hold"/> is taken: real time.</summary>
    public const double HoldSpeed = 1;

    private readonly Lock _lock = new();
    private readonly PriorityQueue<Entry, (long Due, long Sequence)> _due = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly DateTimeOffset _start;
    private readonly Thread _thread;
    private Anchor _anchor;
    private double _speed;
    private int _holds;
    private long _heldSince;
    private long _heldTicks;
    private long _holdsTaken;
    private long _highWater;
    private long _sequence;
    private int _wakePending;
    private volatile bool _disposed;

    /// <param name="speed">Simulated seconds per real second (1 is real time); must be positive.</param>
    /// <param name="start">The simulated wall-clock time at creation (default: the real UTC time now).</param>
    public AcceleratedTimeProvider(double speed, DateTimeOffset? start = null)
    {
        ValidateSpeed(speed);
        _start = (start ?? TimeProvider.System.GetUtcNow()).ToUniversalTime();
        _speed = speed;
        _anchor = new Anchor(Stopwatch.GetTimestamp(), 0, speed);
        _thread = new Thread(Run) { IsBackground = true, Name = "accelerated-clock" };
        _thread.Start();
    }

    /// <summary>Simulated seconds per real second when no <see cref="Hold"/> is taken (what <see cref="SetSpeed"/> set).</summary>
    public double Speed
    {
        get
        {
            lock (_lock)
            {
                return _speed;
            }
        }
    }

    /// <summary>Simulated seconds per real second now: <see cref="HoldSpeed"/> (or <see cref="Speed"/> when slower) while a hold is taken.</summary>
    public double EffectiveSpeed => Volatile.Read(ref _anchor).Speed;

    /// <summary>Whether a <see cref="Hold"/> is taken now.</summary>
    public bool IsHeld
    {
        get
        {
            lock (_lock)
            {
                return _holds > 0;
            }
        }
    }

    /// <summary>The real time during which at least one hold was taken, since creation.</summary>
    public TimeSpan HeldTime
    {
        get
        {
            lock (_lock)
            {
                var ticks = _heldTicks + (_holds > 0 ? Stopwatch.GetElapsedTime(_heldSince).Ticks : 0);
                return TimeSpan.FromTicks(ticks);
            }
        }
    }

    /// <summary>How many holds were taken since creation (nested and concurrent ones each count).</summary>
    public long HoldsTaken => Interlocked.Read(ref _holdsTaken);

    /// <summary>The simulated time that has passed since creation.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(ElapsedTicks());

    /// <summary>When the simulated clock started.</summary>
    public DateTimeOffset StartTime => _start;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => _start.AddTicks(ElapsedTicks());

    public override long GetTimestamp() => ElapsedTicks();

    /// <summary>
    /// Changes the speed from now on; simulated time stays continuous. While a hold is taken the clock keeps running
    /// at <see cref="HoldSpeed"/> and takes the new speed when the last hold is released.
    /// </summary>
    public void SetSpeed(double speed)
    {
        ValidateSpeed(speed);
        lock (_lock)
        {
            _speed = speed;
            Reanchor();
        }

        Wake();
    }

    /// <summary>
    /// Runs the clock at real speed (<see cref="HoldSpeed"/>) until the returned handle is disposed and no other hold
    /// is taken (see <see cref="IClockHold"/>). Timers keep their simulated due times: they fire later in real time
    /// while the clock is held, and on time again after it.
    /// </summary>
    public IDisposable Hold()
    {
        if (_disposed)
        {
            // A component finishing its work while the world shuts down: there is no time left to pace.
            return ClockHold.None.Hold();
        }

        lock (_lock)
        {
            if (_holds++ == 0)
            {
                _heldSince = Stopwatch.GetTimestamp();
                Reanchor();
            }
        }

        Interlocked.Increment(ref _holdsTaken);
        Wake();
        return new HoldHandle(this);
    }

    /// <summary>Jumps simulated time forward by <paramref name="by"/>; timers that fall due fire (in due order).</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_lock)
        {
            var anchor = Volatile.Read(ref _anchor);
            var now = ElapsedTicks();
            Volatile.Write(ref _anchor, new Anchor(Stopwatch.GetTimestamp(), now + by.Ticks, anchor.Speed));
        }

        Wake();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var timer = new SimulatedTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Wake();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        _wake.Dispose();
    }

    private void Release()
    {
        lock (_lock)
        {
            if (--_holds == 0)
            {
                _heldTicks += Stopwatch.GetElapsedTime(_heldSince).Ticks;
                Reanchor();
            }
        }

        Wake();
    }

    /// <summary>Starts a new anchor at the current simulated time with the speed the speed setting and the holds give (under the lock).</summary>
    private void Reanchor()
    {
        var now = ElapsedTicks();
        var speed = _holds > 0 ? Math.Min(_speed, HoldSpeed) : _speed;
        Volatile.Write(ref _anchor, new Anchor(Stopwatch.GetTimestamp(), now, speed));
    }

    private static void ValidateSpeed(double speed)
    {
        if (!(speed > 0) || double.IsInfinity(speed))
        {
            throw new ArgumentOutOfRangeException(nameof(speed), speed, "The clock speed must be a positive, finite number of simulated seconds per real second.");
        }
    }

    private long ElapsedTicks()
    {
        var anchor = Volatile.Read(ref _anchor);
        var realTicks = (Stopwatch.GetTimestamp() - anchor.RealTimestamp) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency);
        var computed = anchor.SimulatedTicks + (long)(realTicks * anchor.Speed);

        // Never return less than any caller has already seen (a reader holding an older anchor after a speed change).
        var seen = Volatile.Read(ref _highWater);
        while (computed > seen)
        {
            var prior = Interlocked.CompareExchange(ref _highWater, computed, seen);
            if (prior == seen)
            {
                return computed;
            }

            seen = prior;
        }

        return seen;
    }

    private void Schedule(SimulatedTimer timer, long version, TimeSpan dueTime)
    {
        lock (_lock)
        {
            var due = ElapsedTicks() + Math.Max(0, dueTime.Ticks);
            _due.Enqueue(new Entry(timer, version), (due, _sequence++));
        }

        Wake();
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: nothing waits any more.
            }
        }
    }

    private void Run()
    {
        var fire = new List<Entry>();
        while (!_disposed)
        {
            TimeSpan wait;
            lock (_lock)
            {
                var now = ElapsedTicks();
                while (_due.TryPeek(out var entry, out var key) && key.Due <= now)
                {
                    _due.Dequeue();
                    if (entry.Timer.IsCurrent(entry.Version))
                    {
                        fire.Add(entry);
                    }
                }

                if (_due.TryPeek(out _, out var next))
                {
                    var realTicks = (next.Due - now) / Volatile.Read(ref _anchor).Speed;
                    wait = TimeSpan.FromTicks((long)Math.Clamp(Math.Ceiling(realTicks), 1, TimeSpan.TicksPerSecond));
                }
                else
                {
                    wait = TimeSpan.FromSeconds(1);
                }
            }

            foreach (var entry in fire)
            {
                entry.Timer.Fire(entry.Version);
            }

            fire.Clear();
            Interlocked.Exchange(ref _wakePending, 0);
            try
            {
                _wake.Wait(wait);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    private sealed record Anchor(long RealTimestamp, long SimulatedTicks, double Speed);

    private readonly record struct Entry(SimulatedTimer Timer, long Version);

    /// <summary>One hold; releases it on the first dispose only.</summary>
    private sealed class HoldHandle(AcceleratedTimeProvider clock) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                clock.Release();
            }
        }
    }

    /// <summary>A timer on simulated time: each <see cref="Change"/> supersedes the schedule before it.</summary>
    private sealed class SimulatedTimer(AcceleratedTimeProvider clock, TimerCallback callback, object? state) : ITimer
    {
        private readonly Lock _lock = new();
        private long _version;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Validate(dueTime, nameof(dueTime));
            Validate(period, nameof(period));
            long version;
            lock (_lock)
            {
                if (_disposed)
                {
                    return false;
                }

                version = ++_version;
                _period = period;
            }

            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                clock.Schedule(this, version, dueTime);
            }

            return true;
        }

        public bool IsCurrent(long version)
        {
            lock (_lock)
            {
                return !_disposed && _version == version;
            }
        }

        public void Fire(long version)
        {
            TimeSpan period;
            lock (_lock)
            {
                if (_disposed || _version != version)
                {
                    return;
                }

                period = _period;
            }

            // A periodic timer's next run is one period after this one started (no catch-up bursts).
            if (period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero)
            {
                clock.Schedule(this, version, period);
            }

            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Callback(s.State), (Callback: callback, State: state), preferLocal: false);
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
                _version++;
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private static void Validate(TimeSpan value, string name)
        {
            if (value != Timeout.InfiniteTimeSpan && value < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(name, value, "must be non-negative or Timeout.InfiniteTimeSpan");
            }
        }
    }
}
