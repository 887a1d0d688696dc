using Karpenter.Core.CloudProvider;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Lifecycle.Launch;

/// <summary>
/// Finds the machine a predecessor launched for a NodeClaim but never recorded. An operator killed between the cloud
/// provider's create and the status write leaves a NodeClaim that looks unlaunched although its instance runs
/// (upstream accepts a second launch here and lets garbage collection remove the first instance 30 s later,
/// kubernetes-sigs/karpenter#1448). Before launching a NodeClaim created before this process began reconciling, the
/// launch asks this class for a machine whose NodeClaim name (the <see cref="InstanceTags.NodeClaim"/> tag, surfaced by
/// the provider as the machine's name, label or annotation) is the NodeClaim's, and adopts it instead.
/// </summary>
/// <remarks>
/// One <see cref="ICloudProvider.ListAsync"/> serves every inherited NodeClaim: any machine a predecessor launched
/// existed before this process started acting, so a snapshot taken afterwards holds them all. NodeClaims created after
/// the start never trigger a list. A provider that does not tag instances with the NodeClaim name simply yields no
/// match; garbage collection then removes the unrecorded instance as upstream does.
/// </remarks>
public sealed class InheritedLaunches(ICloudProvider cloudProvider, TimeProvider time) : IDisposable
{
    /// <summary>After this long no inherited NodeClaim can still be waiting to launch (the launch timeout deletes it first).</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromMinutes(10);

    private readonly SemaphoreSlim _listing = new(1, 1);
    private readonly Lock _lock = new();
    private DateTimeOffset? _startedAt;
    private Dictionary<string, NodeClaim>? _snapshot;

    /// <summary>When this process began launching (the first time it was asked).</summary>
    public DateTimeOffset StartedAt
    {
        get
        {
            lock (_lock)
            {
                _startedAt ??= time.GetUtcNow();
                return _startedAt.Value;
            }
        }
    }

    /// <summary>Whether a predecessor may have launched this NodeClaim: it was created before this process started.</summary>
    public bool IsInherited(NodeClaim nodeClaim)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var started = StartedAt;
        var created = nodeClaim.Metadata.CreationTimestamp;
        return created is not null && new DateTimeOffset(DateTime.SpecifyKind(created.Value, DateTimeKind.Utc)) <= started && time.GetUtcNow() < started + Horizon;
    }

    /// <summary>
    /// The running machine recorded for <paramref name="nodeClaim"/> by a predecessor, or null (also for NodeClaims that
    /// are not inherited). A machine is handed out once.
    /// </summary>
    public async Task<NodeClaim?> FindAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        if (!IsInherited(nodeClaim))
        {
            return null;
        }

        var snapshot = await SnapshotAsync(cancellationToken);
        lock (_lock)
        {
            return snapshot.Remove(nodeClaim.Metadata.Name, out var machine) ? machine : null;
        }
    }

    public void Dispose() => _listing.Dispose();

    /// <summary>The NodeClaim a machine says it was launched for: its name, or the <c>karpenter.sh/nodeclaim</c> label or annotation.</summary>
    public static string? OwnerName(NodeClaim machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        if (machine.Metadata?.Labels?.TryGetValue(InstanceTags.NodeClaim, out var label) == true && !string.IsNullOrEmpty(label))
        {
            return label;
        }

        if (machine.Metadata?.Annotations?.TryGetValue(InstanceTags.NodeClaim, out var annotation) == true && !string.IsNullOrEmpty(annotation))
        {
            return annotation;
        }

        return string.IsNullOrEmpty(machine.Metadata?.Name) ? null : machine.Metadata.Name;
    }

    private async Task<Dictionary<string, NodeClaim>> SnapshotAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_snapshot is not null)
            {
                return _snapshot;
            }
        }

        await _listing.WaitAsync(cancellationToken);
        try
        {
            lock (_lock)
            {
                if (_snapshot is not null)
                {
                    return _snapshot;
                }
            }

            var machines = await cloudProvider.ListAsync(cancellationToken);
            var byOwner = new Dictionary<string, NodeClaim>(StringComparer.Ordinal);
            foreach (var machine in machines)
            {
                if (machine.Metadata?.DeletionTimestamp is null && !string.IsNullOrEmpty(machine.Status?.ProviderId) && OwnerName(machine) is { } owner)
                {
                    byOwner.TryAdd(owner, machine);
                }
            }

            lock (_lock)
            {
                _snapshot = byOwner;
                return byOwner;
            }
        }
        finally
        {
            _listing.Release();
        }
    }
}
