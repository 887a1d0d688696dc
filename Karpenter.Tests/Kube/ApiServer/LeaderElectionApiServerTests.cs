using k8s.Models;
using Karpenter.Kube.LeaderElection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Kube.ApiServer;

/// <summary>Two processes competing for one Lease on the emulator, each with its own connection.</summary>
public sealed class LeaderElectionApiServerTests : ApiServerTest
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Support.TestMeterFactory _meters = new();
    private readonly List<LeaderElector> _electors = [];

    [Fact]
    public async Task Two_hosts_competing_for_one_lease_never_both_lead()
    {
        var a = Candidate("a");
        var b = Candidate("b");
        await Task.WhenAll(a.Elector.StartAsync(CancellationToken.None), b.Elector.StartAsync(CancellationToken.None));
        await Eventually(() => a.Elector.IsLeader || b.Elector.IsLeader, "one candidate leads");

        for (var i = 0; i < 30; i++)
        {
            await Step(a.Elector, b.Elector);
        }

        var leader = a.Elector.IsLeader ? a.Elector : b.Elector;
        var lease = await Client.GetAsync<V1Lease>("karpenter-leader-election", "kube-system");
        Assert.Equal(leader.Identity, lease.Spec.HolderIdentity);
        Assert.Equal(15, lease.Spec.LeaseDurationSeconds);
        Assert.Equal(_time.GetUtcNow().UtcDateTime, lease.Spec.RenewTime!.Value, TimeSpan.FromSeconds(2.5));
    }

    [Fact]
    public async Task A_graceful_stop_hands_over_without_the_clock_moving()
    {
        var a = Candidate("a");
        await a.Elector.StartAsync(CancellationToken.None);
        await Eventually(() => a.Elector.IsLeader, "a leads");
        var b = Candidate("b");
        await b.Elector.StartAsync(CancellationToken.None);
        await Step(a.Elector, b.Elector);
        await Step(a.Elector, b.Elector);
        Assert.False(b.Elector.IsLeader);
        var handedOverAt = _time.GetUtcNow();

        await a.Elector.StopAsync(CancellationToken.None);
        await Eventually(() => b.Elector.IsLeader, "b took over");

        // The successor reacted to the released Lease through its watch: zero time on the clock, well under a second.
        Assert.Equal(handedOverAt, _time.GetUtcNow());
        Assert.False(a.Lifetime.Stopped);
        var lease = await Client.GetAsync<V1Lease>("karpenter-leader-election", "kube-system");
        Assert.Equal(b.Elector.Identity, lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
    }

    public override async Task DisposeAsync()
    {
        foreach (var e in _electors)
        {
            await e.StopAsync(CancellationToken.None);
            e.Dispose();
        }

        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        _meters.Dispose();
        base.Dispose(disposing);
    }

    private (LeaderElector Elector, Lifetime Lifetime) Candidate(string name)
    {
        var lifetime = new Lifetime();
        var elector = new LeaderElector(
            NewClient(),
            Options.Create(new LeaderElectionOptions { Identity = $"{name}-{Guid.NewGuid():N}", LeaseNamespace = "kube-system" }),
            _time,
            lifetime,
            _meters,
            NullLogger<LeaderElector>.Instance);
        _electors.Add(elector);
        return (elector, lifetime);
    }

    private async Task Step(params LeaderElector[] electors)
    {
        Assert.True(electors.Count(e => e.IsLeader) <= 1, "two candidates lead at once");
        _time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(5);
            Assert.True(electors.Count(e => e.IsLeader) <= 1, "two candidates lead at once");
        }
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public bool Stopped { get; private set; }

        public void StopApplication() => Stopped = true;
    }
}
