using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;

namespace Karpenter.Tests.Core.Lifecycle.Support;

/// <summary>
/// The in-memory <see cref="FakeCloudProvider"/> with the levers lifecycle tests need (upstream's fake has them too):
/// a persistent launch failure, a crash right after the machine was created (the process dies before it can record
/// it), counts of create and delete calls, and machines that vanish behind Karpenter's back. It serves EC2NodeClass, so
/// NodeClaims referencing one are managed.
/// </summary>
internal sealed class ScriptedCloudProvider : ICloudProvider
{
    private readonly Lock _lock = new();
    private int _creates;
    private int _deletes;

    /// <summary>An extended resource only <see cref="GpuInstanceType"/> offers.</summary>
    public const string GpuResource = "example.com/gpu";

    /// <summary>The one instance type of the default catalog with <see cref="GpuResource"/>.</summary>
    public const string GpuInstanceType = "fake-gpu-1";

    public ScriptedCloudProvider(IReadOnlyList<InstanceType>? instanceTypes = null) =>
        Inner = new FakeCloudProvider(instanceTypes ??
            [.. FakeInstanceTypes.Synthetic(8), FakeInstanceTypes.Create(GpuInstanceType, new Resources(4000, 16L << 30, 20).With(GpuResource, 1))]);

    public FakeCloudProvider Inner { get; }

    /// <summary>When set, every create throws what it returns (null: launch normally).</summary>
    public Func<NodeClaim, Exception?>? CreateFailure { get; set; }

    /// <summary>
    /// When set, the next create launches the machine, then cancels this source and throws: the operator process is
    /// being killed while CreateFleet returns, so nothing after the call runs.
    /// </summary>
    public CancellationTokenSource? KillAfterCreate { get; set; }

    public int CreateCount => Volatile.Read(ref _creates);

    public int DeleteCount => Volatile.Read(ref _deletes);

    public string Name => "scripted";

    public IReadOnlyList<RepairPolicy> RepairPolicies => Inner.RepairPolicies;

    public IReadOnlyList<Type> SupportedNodeClasses { get; } = [typeof(EC2NodeClass)];

    public IReadOnlySet<string> WellKnownLabels => Inner.WellKnownLabels;

    /// <summary>Machines the cloud runs now.</summary>
    public Task<IReadOnlyList<NodeClaim>> MachinesAsync() => Inner.ListAsync(CancellationToken.None);

    public async Task<NodeClaim> CreateAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _creates);
        if (CreateFailure?.Invoke(nodeClaim) is { } failure)
        {
            throw failure;
        }

        var created = await Inner.CreateAsync(nodeClaim, cancellationToken);
        CancellationTokenSource? kill;
        lock (_lock)
        {
            kill = KillAfterCreate;
            KillAfterCreate = null;
        }

        if (kill is not null)
        {
            await kill.CancelAsync();
            throw new OperationCanceledException("the operator was killed after CreateFleet returned", kill.Token);
        }

        return created;
    }

    public Task DeleteAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _deletes);
        return Inner.DeleteAsync(nodeClaim, cancellationToken);
    }

    /// <summary>Terminates a machine outside Karpenter (a user, a spot reclaim).</summary>
    public Task VanishAsync(string providerId) =>
        Inner.DeleteAsync(new NodeClaim { Status = new NodeClaimStatus { ProviderId = providerId } }, CancellationToken.None);

    public Task<NodeClaim> GetAsync(string providerId, CancellationToken cancellationToken) => Inner.GetAsync(providerId, cancellationToken);

    public Task<IReadOnlyList<NodeClaim>> ListAsync(CancellationToken cancellationToken) => Inner.ListAsync(cancellationToken);

    public Task<IReadOnlyList<InstanceType>> GetInstanceTypesAsync(NodePool nodePool, CancellationToken cancellationToken) =>
        Inner.GetInstanceTypesAsync(nodePool, cancellationToken);

    public Task<string?> IsDriftedAsync(NodeClaim nodeClaim, CancellationToken cancellationToken) => Inner.IsDriftedAsync(nodeClaim, cancellationToken);
}
