using Karpenter.Kube.LeaderElection;
using Karpenter.Tests.Kube.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Kube.LeaderElection;

public sealed class LeaderElectorTests : IAsyncLifetime, IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly InMemoryLeaseClient _server = new();
    private readonly TestMeterFactory _meters = new();
    private readonly List<(LeaderElector Elector, Lifetime Lifetime)> _candidates = [];

    [Fact]
    public async Task Two_candidates_never_both_lead_and_the_survivor_takes_over_when_the_leader_is_cut_off()
    {
        var a = Candidate("a");
        var b = Candidate("b");
        await a.Elector.StartAsync(CancellationToken.None);
        await b.Elector.StartAsync(CancellationToken.None);
        await Eventually(() => a.Elector.IsLeader || b.Elector.IsLeader);
        var (leader, other) = a.Elector.IsLeader ? (a, b) : (b, a);

        for (var i = 0; i < 40; i++)
        {
            await Step(TimeSpan.FromSeconds(1), a, b);
        }

        Assert.True(leader.Elector.IsLeader);
        Assert.Equal(leader.Elector.Identity, _server.Lease("karpenter-leader-election")!.Spec.HolderIdentity);

        _server.FailFor = id => id == leader.Elector.Identity;
        for (var i = 0; i < 30 && !other.Elector.IsLeader; i++)
        {
            await Step(TimeSpan.FromSeconds(1), a, b);
        }

        Assert.True(other.Elector.IsLeader);
        Assert.False(leader.Elector.IsLeader);
        Assert.True(leader.Lifetime.Stopped, "losing the lease must stop the host");
        Assert.Equal(1, _server.Lease("karpenter-leader-election")!.Spec.LeaseTransitions);
    }

    [Fact]
    public async Task A_graceful_stop_releases_the_lease_and_the_successor_takes_over_without_waiting_for_it_to_expire()
    {
        var a = Candidate("a");
        await a.Elector.StartAsync(CancellationToken.None);
        await Eventually(() => a.Elector.IsLeader);
        var b = Candidate("b");
        await b.Elector.StartAsync(CancellationToken.None);
        await Step(TimeSpan.FromSeconds(5), a, b);
        Assert.False(b.Elector.IsLeader);
        var before = _time.GetUtcNow();

        await a.Elector.StopAsync(CancellationToken.None);
        await Eventually(() => b.Elector.IsLeader);

        // No time had to pass on the clock: the successor was woken by the Lease changing, not by its retry timer.
        Assert.Equal(before, _time.GetUtcNow());
        Assert.False(a.Lifetime.Stopped);
        Assert.Equal("b", _server.Lease("karpenter-leader-election")!.Spec.HolderIdentity?.Split('#')[0]);
    }

    [Fact]
    public async Task A_candidate_does_not_take_a_lease_that_is_still_being_renewed()
    {
        var a = Candidate("a");
        await a.Elector.StartAsync(CancellationToken.None);
        await Eventually(() => a.Elector.IsLeader);
        var b = Candidate("b");

        Assert.False(await b.Elector.TryAcquireOrRenewAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(14));
        Assert.False(await b.Elector.TryAcquireOrRenewAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(15, 10, 9)]
    [InlineData(10, 10, 2)]
    [InlineData(15, 10, 0)]
    public void Inconsistent_timings_are_refused_at_start(int lease, int renew, int retry)
    {
        var result = new LeaderElectionOptionsValidator().Validate(null, new LeaderElectionOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(lease),
            RenewDeadline = TimeSpan.FromSeconds(renew),
            RetryPeriod = TimeSpan.FromSeconds(retry),
        });

        Assert.True(result.Failed);
    }

    [Fact]
    public void Upstream_timings_are_the_defaults_and_valid()
    {
        var options = new LeaderElectionOptions();

        Assert.Equal((15, 10, 2), ((int)options.LeaseDuration.TotalSeconds, (int)options.RenewDeadline.TotalSeconds, (int)options.RetryPeriod.TotalSeconds));
        Assert.True(new LeaderElectionOptionsValidator().Validate(null, options).Succeeded);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (elector, _) in _candidates)
        {
            await elector.StopAsync(CancellationToken.None);
        }
    }

    public void Dispose()
    {
        foreach (var (elector, _) in _candidates)
        {
            elector.Dispose();
        }

        _meters.Dispose();
    }

    private (LeaderElector Elector, Lifetime Lifetime) Candidate(string name)
    {
        var lifetime = new Lifetime();
        var options = Options.Create(new LeaderElectionOptions { Identity = $"{name}#{Guid.NewGuid():N}", LeaseNamespace = "kube-system" });
        var elector = new LeaderElector(_server.For(options.Value.Identity), options, _time, lifetime, _meters, NullLogger<LeaderElector>.Instance);
        _candidates.Add((elector, lifetime));
        return (elector, lifetime);
    }

    /// <summary>Moves the clock and lets both candidates react, checking the invariant before and after.</summary>
    private async Task Step(TimeSpan by, params (LeaderElector Elector, Lifetime Lifetime)[] candidates)
    {
        Assert.True(candidates.Count(c => c.Elector.IsLeader) <= 1, "two candidates lead at once");
        _time.Advance(by);
        for (var i = 0; i < 5; i++)
        {
            await Task.Yield();
            await Task.Delay(2);
            Assert.True(candidates.Count(c => c.Elector.IsLeader) <= 1, "two candidates lead at once");
        }
    }

    private static async Task Eventually(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(2, timeout.Token);
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
