using Karpenter.Sim.Clock;

namespace Karpenter.Tests.Sim.Clock;

/// <summary>
/// The clock governor: the accelerated clock slows while a lag signal is above 1 (never below its floor) and climbs
/// back to the target once the signals are quiet. The looks are driven by hand (no waiting for real time to pass).
/// </summary>
public sealed class ClockGovernorTests
{
    private static readonly ClockGovernorOptions Options = new() { Heartbeat = false };

    [Fact]
    public void The_policy_slows_multiplicatively_while_lagging_holds_in_between_and_recovers_when_quiet()
    {
        Assert.Equal(0.7, ClockGovernor.NextFactor(1, 1.5, Options), 9);
        Assert.Equal(0.1, ClockGovernor.NextFactor(0.12, 9, Options), 9);
        Assert.Equal(0.5, ClockGovernor.NextFactor(0.5, 0.8, Options), 9);
        Assert.Equal(0.55, ClockGovernor.NextFactor(0.5, 0.1, Options), 9);
        Assert.Equal(1, ClockGovernor.NextFactor(0.95, 0, Options), 9);
        Assert.Equal(0.4, ClockGovernor.NextFactor(0.4, double.NaN, Options), 9);
    }

    [Fact]
    public async Task A_lagging_signal_slows_the_clock_to_its_floor_and_a_quiet_one_brings_it_back_to_the_target_speed()
    {
        using var clock = new AcceleratedTimeProvider(60);
        var pressure = 3.0;
        await using var governor = new ClockGovernor(clock, [() => pressure], Options);

        governor.Look();
        Assert.Equal(42, clock.Speed, 6);
        for (var i = 0; i < 20; i++)
        {
            governor.Look();
        }

        Assert.Equal(6, clock.Speed, 6);
        Assert.Equal(1, governor.LaggingShare);

        pressure = 0;
        for (var i = 0; i < 40; i++)
        {
            governor.Look();
        }

        Assert.Equal(60, clock.Speed, 6);
        Assert.Equal(60, governor.TargetSpeed);
        Assert.InRange(governor.LaggingShare, 0.3, 0.4);
    }

    [Fact]
    public async Task Simulated_time_stays_continuous_and_monotonic_across_speed_changes()
    {
        using var clock = new AcceleratedTimeProvider(60);
        var pressure = 5.0;
        await using var governor = new ClockGovernor(clock, [() => pressure], Options);
        var seen = clock.GetUtcNow();
        for (var i = 0; i < 30; i++)
        {
            pressure = i % 7 < 3 ? 5 : 0;
            governor.Look();
            var now = clock.GetUtcNow();
            Assert.True(now >= seen, "simulated time never goes backwards");
            seen = now;
        }
    }

    [Fact]
    public void Invalid_options_are_refused_with_what_is_allowed()
    {
        using var clock = new AcceleratedTimeProvider(10);
        var e = Assert.Throws<ArgumentException>(() => new ClockGovernor(clock, options: new ClockGovernorOptions { MinimumFactor = 0 }));
        Assert.Contains("MinimumFactor in (0, 1]", e.Message, StringComparison.Ordinal);
    }
}
