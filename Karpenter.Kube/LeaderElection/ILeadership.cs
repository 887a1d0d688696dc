namespace Karpenter.Kube.LeaderElection;

/// <summary>
/// Whether this process may act. Controllers wait for <see cref="WaitForLeadershipAsync"/> before their workers start;
/// when leadership is lost the host stops (crash-only: no in-process re-acquire).
/// </summary>
public interface ILeadership
{
    bool IsLeader { get; }

    /// <summary>Completes once this process leads.</summary>
    Task WaitForLeadershipAsync(CancellationToken cancellationToken);
}

/// <summary>Leadership when election is disabled (a single replica, tests): always the leader.</summary>
public sealed class AlwaysLeader : ILeadership
{
    public bool IsLeader => true;

    public Task WaitForLeadershipAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
