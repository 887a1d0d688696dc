using Karpenter.Sim.Clock;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Sim.Clock;

/// <summary>
/// Holds on the accelerated clock: while a simulated control-plane component writes a burst, the clock runs at real
/// speed and returns to its set speed when the last hold goes; timers keep their simulated due times throughout.
/// </summary>
public sealed class ClockHoldTests
{
    /// <summary>A real-time safety net for waits that normally end in milliseconds (wide: the machine may be loaded).</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_hold_runs_the_clock_at_real_speed_and_releasing_it_returns_to_the_set_speed()
    {
        using var clock = new AcceleratedTimeProvider(120);
        ExpectRunning(clock, at: 120, held: false);

        var hold = clock.Hold();
        ExpectRunning(clock, at: AcceleratedTimeProvider.HoldSpeed, held: true);
        Assert.Equal(120, clock.Speed);

        hold.Dispose();
        ExpectRunning(clock, at: 120, held: false);
        Assert.Equal(1, clock.HoldsTaken);
    }

    [Fact]
    public void Holds_nest_and_a_handle_disposed_twice_releases_only_its_own_hold()
    {
        using var clock = new AcceleratedTimeProvider(60);
        var outer = clock.Hold();
        var inner = clock.Hold();

        inner.Dispose();
        inner.Dispose();
        ExpectRunning(clock, at: 1, held: true);

        outer.Dispose();
        ExpectRunning(clock, at: 60, held: false);
    }

    [Fact]
    public void The_governor_speed_set_during_a_hold_takes_effect_when_the_last_hold_is_released()
    {
        using var clock = new AcceleratedTimeProvider(60);
        using (clock.Hold())
        {
            clock.SetSpeed(30);
            ExpectRunning(clock, at: 1, held: true);
            Assert.Equal(30, clock.Speed);
        }

        ExpectRunning(clock, at: 30, held: false);
    }

    [Fact]
    public void A_clock_slower_than_real_time_is_not_sped_up_by_a_hold()
    {
        using var clock = new AcceleratedTimeProvider(0.5);
        using (clock.Hold())
        {
            ExpectRunning(clock, at: 0.5, held: true);
        }
    }

    [Fact]
    public async Task Concurrent_holds_from_many_threads_leave_the_clock_at_its_set_speed()
    {
        using var clock = new AcceleratedTimeProvider(100);
        var lingering = clock.Hold();
        var seen = clock.GetUtcNow();
        await Parallel.ForAsync(0, 2_000, async (i, ct) =>
        {
            using (clock.Hold())
            {
                Assert.Equal(1, clock.EffectiveSpeed);
                if (i % 100 == 0)
                {
                    await Task.Yield();
                }
            }
        });

        ExpectRunning(clock, at: 1, held: true);
        lingering.Dispose();
        ExpectRunning(clock, at: 100, held: false);
        Assert.Equal(2_001, clock.HoldsTaken);
        Assert.True(clock.GetUtcNow() >= seen, "simulated time never goes backwards across holds");
    }

    [Fact]
    public async Task A_timer_due_while_the_clock_is_held_fires_at_its_simulated_due_time_once_it_comes()
    {
        using var clock = new AcceleratedTimeProvider(600);
        var fired = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        var jumped = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        DateTimeOffset due;
        ITimer timer;
        using (clock.Hold())
        {
            due = clock.GetUtcNow() + TimeSpan.FromMinutes(1);
            timer = clock.CreateTimer(_ => fired.TrySetResult(clock.GetUtcNow()), null, TimeSpan.FromMinutes(1), Timeout.InfiniteTimeSpan);

            // Held, a simulated minute is a real minute: the timer cannot be due yet.
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
            Assert.False(fired.Task.IsCompleted, "the timer fired while a simulated minute could not have passed");

            // Jumping ahead works while held, and fires what falls due at its simulated time.
            var jumpDue = clock.GetUtcNow() + TimeSpan.FromSeconds(10);
            using var jumpTimer = clock.CreateTimer(_ => jumped.TrySetResult(clock.GetUtcNow()), null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
            clock.Advance(TimeSpan.FromSeconds(10));
            Assert.True(await jumped.Task.WaitAsync(Patience) >= jumpDue, "the jump fired the timer before its due time");
        }

        // Released, the rest of the minute passes at 600× (a tenth of a real second): the timer fires, never early.
        using (timer)
        {
            var at = await fired.Task.WaitAsync(Patience);
            Assert.True(at >= due, $"fired at {at:O}, before its due time {due:O}");
        }
    }

    [Fact]
    public async Task A_delay_begun_before_a_hold_ends_at_its_simulated_due_time_after_the_hold()
    {
        using var clock = new AcceleratedTimeProvider(600);
        var start = clock.GetUtcNow();

        // Ten simulated minutes: a real second at 600×, so the hold below is taken long before it is due.
        var delay = Task.Delay(TimeSpan.FromMinutes(10), clock);
        using (clock.Hold())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
            Assert.False(delay.IsCompleted, "a ten-minute simulated delay ended while the clock ran at real speed");
        }

        await delay.WaitAsync(Patience);
        Assert.True(clock.GetUtcNow() - start >= TimeSpan.FromMinutes(10), "the delay ended before its simulated due time");
    }

    [Fact]
    public void Components_find_the_hold_of_their_clock_and_a_clock_that_is_not_accelerated_has_none()
    {
        using var accelerated = new AcceleratedTimeProvider(60);
        Assert.Same(accelerated, ClockHold.Of(accelerated));
        Assert.Same(ClockHold.None, ClockHold.Of(TimeProvider.System));

        var fake = new FakeTimeProvider();
        var before = fake.GetUtcNow();
        using (ClockHold.Of(fake).Hold())
        {
            Assert.Equal(before, fake.GetUtcNow());
        }
    }

    [Fact]
    public void A_hold_taken_after_the_clock_is_disposed_does_nothing()
    {
        var clock = new AcceleratedTimeProvider(60);
        clock.Dispose();
        using var hold = clock.Hold();
        Assert.False(clock.IsHeld);
    }

    private static void ExpectRunning(AcceleratedTimeProvider clock, double at, bool held)
    {
        Assert.Equal(at, clock.EffectiveSpeed, 9);
        Assert.Equal(held, clock.IsHeld);
    }
}
