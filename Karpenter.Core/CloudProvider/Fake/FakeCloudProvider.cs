using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.CloudProvider.Fake;

/// <summary>
/// An in-memory cloud for controller tests: launches the cheapest available instance type and offering a NodeClaim
/// allows, remembers machines by provider ID, and lets a test script failures and drift.
/// </summary>
public sealed class FakeCloudProvider(IReadOnlyList<InstanceType>? instanceTypes = null) : ICloudProvider
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, NodeClaim> _machines = new(StringComparer.Ordinal);
    private readonly List<NodeClaim> _createCalls = [];
    private int _serial;

    public string Name => "fake";

    /// <summary>The catalog every NodePool gets (upstream's 400-type synthetic catalog by default).</summary>
    public IReadOnlyList<InstanceType> InstanceTypes { get; set; } = instanceTypes ?? FakeInstanceTypes.Synthetic(400);

    /// <summary>When set, the next <see cref="CreateAsync"/> throws it (once).</summary>
    public Exception? NextCreateError { get; set; }

    /// <summary>Drift reasons by provider ID.</summary>
    public Dictionary<string, string> Drifted { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<NodeClaim> CreateCalls
    {
        get
        {
            lock (_lock)
            {
                return [.. _createCalls];
            }
        }
    }

    public IReadOnlyList<RepairPolicy> RepairPolicies { get; } =
        [new RepairPolicy("Ready", "False", TimeSpan.FromMinutes(30)), new RepairPolicy("Ready", "Unknown", TimeSpan.FromMinutes(30))];

    public IReadOnlyList<Type> SupportedNodeClasses { get; } = [];

    public IReadOnlySet<string> WellKnownLabels { get; } = new HashSet<string>(StringComparer.Ordinal) { FakeInstanceTypes.SizeLabel, FakeInstanceTypes.ExoticLabel, FakeInstanceTypes.IntegerLabel };

    public Task<NodeClaim> CreateAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        lock (_lock)
        {
            _createCalls.Add(nodeClaim);
            if (NextCreateError is { } error)
            {
                NextCreateError = null;
                throw error;
            }

            var requirements = Requirements.FromNodeSelector(nodeClaim.Spec.Requirements.Select(r => r.ToV1()));
            var choice = InstanceTypes
                .Where(t => requirements.Intersects(t.Requirements) is null)
                .Select(t => (Type: t, Offering: t.CheapestOffering(requirements)))
                .Where(c => c.Offering is not null && (nodeClaim.Spec.Resources?.Requests is null || Resources.FromList(nodeClaim.Spec.Resources.Requests).FitsIn(c.Type.Allocatable)))
                .OrderBy(c => c.Offering!.Price)
                .FirstOrDefault();
            if (choice.Type is null)
            {
                throw new InsufficientCapacityException($"no instance type and offering satisfies {requirements}");
            }

            var providerId = $"fake:///{choice.Offering!.Zone}/i-{++_serial:x8}";
            var launched = KubeClone(nodeClaim);
            launched.Metadata.Labels ??= new Dictionary<string, string>();
            launched.Metadata.Labels[Labels.InstanceType] = choice.Type.Name;
            launched.Metadata.Labels[Labels.TopologyZone] = choice.Offering.Zone;
            launched.Metadata.Labels[Labels.CapacityType] = choice.Offering.CapacityType;
            launched.Status.ProviderId = providerId;
            launched.Status.ImageId = "fake-image";
            launched.Status.Capacity = choice.Type.Capacity.ToList();
            launched.Status.Allocatable = choice.Type.Allocatable.ToList();
            _machines[providerId] = launched;
            return Task.FromResult(launched);
        }
    }

    public Task DeleteAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        lock (_lock)
        {
            if (nodeClaim.Status.ProviderId is not { } id || !_machines.Remove(id))
            {
                throw new NodeClaimNotFoundException($"no machine for NodeClaim {nodeClaim.Metadata.Name}");
            }
        }

        return Task.CompletedTask;
    }

    public Task<NodeClaim> GetAsync(string providerId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _machines.TryGetValue(providerId, out var machine)
                ? Task.FromResult(machine)
                : throw new NodeClaimNotFoundException($"no machine with provider ID {providerId}");
        }
    }

    public Task<IReadOnlyList<NodeClaim>> ListAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<NodeClaim>>([.. _machines.Values]);
        }
    }

    public Task<IReadOnlyList<InstanceType>> GetInstanceTypesAsync(NodePool nodePool, CancellationToken cancellationToken) => Task.FromResult(InstanceTypes);

    public Task<string?> IsDriftedAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        lock (_lock)
        {
            return Task.FromResult(nodeClaim.Status.ProviderId is { } id && Drifted.TryGetValue(id, out var reason) ? reason : null);
        }
    }

    private static NodeClaim KubeClone(NodeClaim nodeClaim) =>
        k8s.KubernetesJson.Deserialize<NodeClaim>(k8s.KubernetesJson.Serialize(nodeClaim));
}
