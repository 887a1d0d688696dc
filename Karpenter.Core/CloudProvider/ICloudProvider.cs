using Karpenter.Entities.V1;

namespace Karpenter.Core.CloudProvider;

/// <summary>
/// The seam between Karpenter's cloud-neutral controllers and one cloud (upstream's <c>cloudprovider.CloudProvider</c>):
/// launching, finding and terminating the machines behind NodeClaims, the instance types a NodePool may use, drift,
/// and the node conditions that warrant repair. Implementations throw <see cref="NodeClaimNotFoundException"/>,
/// <see cref="InsufficientCapacityException"/> or <see cref="NodeClassNotReadyException"/> where upstream returns
/// those errors; anything else is a retryable failure.
/// </summary>
public interface ICloudProvider
{
    /// <summary>The provider's name (<c>aws</c>), as metrics and logs show it.</summary>
    string Name { get; }

    /// <summary>
    /// Launches a machine for <paramref name="nodeClaim"/> and returns the NodeClaim as launched: provider ID, image,
    /// labels of the chosen instance type, zone and capacity type, capacity and allocatable.
    /// </summary>
    Task<NodeClaim> CreateAsync(NodeClaim nodeClaim, CancellationToken cancellationToken);

    /// <summary>Terminates the machine behind <paramref name="nodeClaim"/>; throws <see cref="NodeClaimNotFoundException"/> once it is gone.</summary>
    Task DeleteAsync(NodeClaim nodeClaim, CancellationToken cancellationToken);

    /// <summary>The NodeClaim as the cloud knows it, by provider ID; throws <see cref="NodeClaimNotFoundException"/>.</summary>
    Task<NodeClaim> GetAsync(string providerId, CancellationToken cancellationToken);

    /// <summary>Every machine this cluster's Karpenter launched, as NodeClaims (garbage collection reads this).</summary>
    Task<IReadOnlyList<NodeClaim>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The instance types (with offerings, prices and availability) <paramref name="nodePool"/> may launch.</summary>
    Task<IReadOnlyList<InstanceType>> GetInstanceTypesAsync(NodePool nodePool, CancellationToken cancellationToken);

    /// <summary>Why the machine no longer matches its NodeClass (a drift reason such as <c>AMIDrift</c>), or null.</summary>
    Task<string?> IsDriftedAsync(NodeClaim nodeClaim, CancellationToken cancellationToken);

    /// <summary>Node conditions that, held long enough, mean the node should be replaced.</summary>
    IReadOnlyList<RepairPolicy> RepairPolicies { get; }

    /// <summary>The NodeClass entity types this provider serves (e.g. EC2NodeClass).</summary>
    IReadOnlyList<Type> SupportedNodeClasses { get; }

    /// <summary>
    /// Label keys the provider defines on its nodes (instance family, zone ID, …). A NodeClaim may leave them undefined
    /// because its instance types define them (upstream registers these into its global well-known labels).
    /// </summary>
    IReadOnlySet<string> WellKnownLabels { get; }
}

/// <summary>A node condition that, once it has held for <see cref="TolerationDuration"/>, makes the node unhealthy.</summary>
public sealed record RepairPolicy(string ConditionType, string ConditionStatus, TimeSpan TolerationDuration);

/// <summary>The machine behind a NodeClaim does not exist (any more).</summary>
public sealed class NodeClaimNotFoundException : Exception
{
    public NodeClaimNotFoundException()
    {
    }

    public NodeClaimNotFoundException(string message)
        : base(message)
    {
    }

    public NodeClaimNotFoundException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>No offering of the requested instance types could be launched (capacity, quota).</summary>
public sealed class InsufficientCapacityException : Exception
{
    public InsufficientCapacityException()
    {
    }

    public InsufficientCapacityException(string message)
        : base(message)
    {
    }

    public InsufficientCapacityException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>The NodeClaim's NodeClass is missing or not Ready, so nothing can be launched from it yet.</summary>
public sealed class NodeClassNotReadyException : Exception
{
    public NodeClassNotReadyException()
    {
    }

    public NodeClassNotReadyException(string message)
        : base(message)
    {
    }

    public NodeClassNotReadyException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
