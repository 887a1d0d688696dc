using Karpenter.Core.Scheduling;

namespace Karpenter.Core.CloudProvider;

/// <summary>What the node reserves for itself: kube-reserved, system-reserved and the hard eviction threshold.</summary>
public sealed record InstanceTypeOverhead(Resources KubeReserved, Resources SystemReserved, Resources EvictionThreshold)
{
    public static InstanceTypeOverhead None { get; } = new(default, default, default);

    public Resources Total => KubeReserved + SystemReserved + EvictionThreshold;
}

/// <summary>
/// A machine shape a cloud provider can launch: its label requirements (instance type, architecture, OS, zones,
/// capacity types, provider labels), its capacity, what the node reserves, and its offerings.
/// </summary>
public sealed class InstanceType
{
    private Resources? _allocatable;

    public InstanceType(string name, Requirements requirements, IReadOnlyList<Offering> offerings, Resources capacity, InstanceTypeOverhead? overhead = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(requirements);
        ArgumentNullException.ThrowIfNull(offerings);
        Name = name;
        Requirements = requirements;
        Offerings = offerings;
        Capacity = capacity;
        Overhead = overhead ?? InstanceTypeOverhead.None;
    }

    public string Name { get; }

    public Requirements Requirements { get; }

    public IReadOnlyList<Offering> Offerings { get; }

    public Resources Capacity { get; }

    public InstanceTypeOverhead Overhead { get; }

    /// <summary>Capacity minus kube-reserved, system-reserved and the eviction threshold (never below zero).</summary>
    public Resources Allocatable
    {
        get
        {
            _allocatable ??= Clamp(Capacity - Overhead.Total);
            return _allocatable.Value;
        }
    }

    /// <summary>The available offerings compatible with <paramref name="requirements"/>.</summary>
    public IEnumerable<Offering> AvailableOfferings(Requirements? requirements = null) =>
        Offerings.Where(o => o.Available && (requirements is null || requirements.Intersects(o.Requirements) is null));

    /// <summary>The cheapest available offering compatible with <paramref name="requirements"/>, if any.</summary>
    public Offering? CheapestOffering(Requirements? requirements = null)
    {
        Offering? best = null;
        foreach (var o in AvailableOfferings(requirements))
        {
            if (best is null || o.Price < best.Price)
            {
                best = o;
            }
        }

        return best;
    }

    public override string ToString() => Name;

    private static Resources Clamp(Resources r)
    {
        foreach (var name in r.Names.ToList())
        {
            if (r.Get(name) < 0)
            {
                r = r.With(name, 0);
            }
        }

        return r;
    }
}
