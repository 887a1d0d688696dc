using System.Globalization;
using Karpenter.Sim.Aws.Catalog;

namespace Karpenter.Sim.Aws.World;

/// <summary>
/// Capacity pools (instance type × zone × capacity type), which of them are offered, their limits, windows of
/// insufficient capacity, vCPU quotas and spot prices.
/// </summary>
/// <remarks>
/// Offerings: every type is offered in every zone, except bare-metal types and the <c>inf*</c>, <c>trn*</c> and
/// <c>p*</c> families, which the third zone does not offer (as real regions lack some types in some zones);
/// <see cref="SetOffered"/> changes that. Spot prices: the on-demand price times (1 − d), with the discount d
/// between 55% and 80% drawn deterministically from a hash of type and zone, rounded to 4 decimals like EC2's;
/// <see cref="SetSpotPrice"/> adds a newer history entry.
/// </remarks>
public sealed partial class AwsWorld
{
    private readonly Dictionary<(string Type, string Zone, string CapacityType), int> _poolLimits = [];
    private readonly List<CapacityWindow> _iceWindows = [];
    private readonly Dictionary<(string Type, string Zone), bool> _offeredOverrides = [];
    private readonly Dictionary<string, int> _vcpuLimits = new(StringComparer.Ordinal);
    private readonly List<SpotPricePoint> _spotPriceChanges = [];

    internal sealed record CapacityWindow(string? InstanceType, string? Zone, string? CapacityType, DateTimeOffset From, DateTimeOffset To);

    internal sealed record SpotPricePoint(string InstanceType, string Zone, double Price, DateTimeOffset Time);

    /// <summary>
    /// Limits the pool to <paramref name="maxInstances"/> live (pending or running) instances; null removes the limit.
    /// Launches beyond it fail with <c>InsufficientInstanceCapacity</c> for that override.
    /// </summary>
    public void SetPoolCapacity(string instanceType, string zone, string capacityType, int? maxInstances)
    {
        RequireCapacityType(capacityType);
        Locked(() =>
        {
            if (maxInstances is { } max)
            {
                _poolLimits[(instanceType, zone, capacityType)] = Math.Max(0, max);
            }
            else
            {
                _poolLimits.Remove((instanceType, zone, capacityType));
            }
        });
    }

    /// <summary>
    /// Makes matching pools report <c>InsufficientInstanceCapacity</c> from <paramref name="from"/> until
    /// <paramref name="to"/> on the world's clock. A null type, zone or capacity type matches all.
    /// </summary>
    public void SetInsufficientCapacity(string? instanceType, string? zone, string? capacityType, DateTimeOffset from, DateTimeOffset to)
    {
        if (capacityType is not null)
        {
            RequireCapacityType(capacityType);
        }

        if (to <= from)
        {
            throw new ArgumentException($"The window must end after it starts ({from:O} → {to:O}).", nameof(to));
        }

        Locked(() => _iceWindows.Add(new CapacityWindow(instanceType, zone, capacityType, from, to)));
    }

    /// <summary>Removes every insufficient-capacity window and pool limit.</summary>
    public void ClearCapacityConstraints() => Locked(() =>
    {
        _iceWindows.Clear();
        _poolLimits.Clear();
    });

    /// <summary>Whether <paramref name="instanceType"/> is offered in <paramref name="zone"/> (DescribeInstanceTypeOfferings).</summary>
    public void SetOffered(string instanceType, string zone, bool offered) => Locked(() => _offeredOverrides[(instanceType, zone)] = offered);

    /// <summary>
    /// A vCPU quota for the capacity type (EC2's "Running On-Demand Standard instances" and "All Standard Spot
    /// Instance Requests"); launches beyond it fail with <c>VcpuLimitExceeded</c> or <c>MaxSpotInstanceCountExceeded</c>.
    /// </summary>
    public void SetVcpuLimit(string capacityType, int? vcpus)
    {
        RequireCapacityType(capacityType);
        Locked(() =>
        {
            if (vcpus is { } v)
            {
                _vcpuLimits[capacityType] = v;
            }
            else
            {
                _vcpuLimits.Remove(capacityType);
            }
        });
    }

    /// <summary>Sets the current spot price of a pool; DescribeSpotPriceHistory shows it from now on.</summary>
    public void SetSpotPrice(string instanceType, string zone, double price)
    {
        if (price <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(price), "A spot price must be positive.");
        }

        Locked(() => _spotPriceChanges.Add(new SpotPricePoint(instanceType, zone, price, Now)));
    }

    /// <summary>The current spot price of the pool, or null if the type has no published price.</summary>
    public double? SpotPrice(string instanceType, string zone) => Locked(() => SpotPriceInternal(instanceType, zone));

    /// <summary>The on-demand price per hour of the type, or null.</summary>
    public double? OnDemandPrice(string instanceType) => Catalog.Find(instanceType)?.OnDemandPrice;

    /// <summary>Sets how many addresses of the subnet are still free (others are taken by things outside Karpenter).</summary>
    public void SetSubnetAvailableAddresses(string subnetId, int available) => Locked(() =>
    {
        var subnet = SubnetList.FirstOrDefault(s => s.Id == subnetId)
            ?? throw new ArgumentException($"No subnet '{subnetId}' in the world.", nameof(subnetId));
        subnet.SetAvailable(available);
    });

    internal bool IsOffered(InstanceTypeInfo type, Zone zone)
    {
        if (_offeredOverrides.TryGetValue((type.Name, zone.Name), out var offered))
        {
            return offered;
        }

        var thirdZone = ZoneList.Count >= 3 && zone == ZoneList[2];
        var family = type.Family;
        var scarce = type.BareMetal || family.StartsWith("inf", StringComparison.Ordinal) ||
                     family.StartsWith("trn", StringComparison.Ordinal) || family.StartsWith('p');
        return !(thirdZone && scarce);
    }

    internal double? SpotPriceInternal(string instanceType, string zone)
    {
        for (var i = _spotPriceChanges.Count - 1; i >= 0; i--)
        {
            var change = _spotPriceChanges[i];
            if (change.InstanceType == instanceType && change.Zone == zone)
            {
                return change.Price;
            }
        }

        return DerivedSpotPrice(instanceType, zone);
    }

    internal double? DerivedSpotPrice(string instanceType, string zone)
    {
        if (Catalog.Find(instanceType)?.OnDemandPrice is not { } onDemand)
        {
            return null;
        }

        // FNV-1a over "type/zone": a stable discount between 55% and 80%.
        var hash = 2166136261u;
        foreach (var ch in instanceType + "/" + zone)
        {
            hash = (hash ^ ch) * 16777619u;
        }

        var discount = 0.55 + 0.25 * (hash / (double)uint.MaxValue);
        return Math.Max(0.0001, Math.Round(onDemand * (1 - discount), 4));
    }

    internal IEnumerable<SpotPricePoint> SpotPriceHistory(DateTimeOffset? start, DateTimeOffset? end)
    {
        // The derived price has held since the world started; later changes each add a point.
        foreach (var type in Catalog.Types)
        {
            foreach (var zone in ZoneList)
            {
                if (!IsOffered(type, zone) || DerivedSpotPrice(type.Name, zone.Name) is not { } derived)
                {
                    continue;
                }

                var points = new List<SpotPricePoint> { new(type.Name, zone.Name, derived, StartTime) };
                points.AddRange(_spotPriceChanges.Where(c => c.InstanceType == type.Name && c.Zone == zone.Name));
                for (var i = points.Count - 1; i >= 0; i--)
                {
                    var point = points[i];
                    var validUntil = i + 1 < points.Count ? points[i + 1].Time : DateTimeOffset.MaxValue;
                    // A point is in range when it was in effect at some time within [start, end].
                    if ((end is null || point.Time <= end) && (start is null || validUntil > start))
                    {
                        yield return point;
                    }
                }
            }
        }
    }

    /// <summary>Why the pool cannot take one more instance now, or null if it can.</summary>
    internal (string Code, string Message)? CapacityProblem(InstanceTypeInfo type, Zone zone, string capacityType)
    {
        var now = Now;
        if (!IsOffered(type, zone))
        {
            return ("Unsupported",
                $"Your requested instance type ({type.Name}) is not supported in your requested Availability Zone ({zone.Name}). " +
                $"Please retry your request by not specifying an Availability Zone or choosing {string.Join(", ", ZoneList.Where(z => IsOffered(type, z)).Select(z => z.Name))}.");
        }

        var ice = _iceWindows.Any(w =>
            (w.InstanceType is null || w.InstanceType == type.Name) && (w.Zone is null || w.Zone == zone.Name) &&
            (w.CapacityType is null || w.CapacityType == capacityType) && w.From <= now && now < w.To);
        if (!ice && _poolLimits.TryGetValue((type.Name, zone.Name, capacityType), out var limit))
        {
            ice = LiveInstancesIn(type.Name, zone.Name, capacityType) >= limit;
        }

        if (ice)
        {
            return ("InsufficientInstanceCapacity", capacityType == CapacityTypes.Spot
                ? "There is no Spot capacity available that matches your request."
                : $"We currently do not have sufficient {type.Name} capacity in the Availability Zone you requested ({zone.Name}). " +
                  "Our system will be working on provisioning additional capacity. You can currently get " +
                  $"{type.Name} capacity by not specifying an Availability Zone in your request or choosing " +
                  $"{string.Join(", ", ZoneList.Where(z => z != zone).Select(z => z.Name))}.");
        }

        if (_vcpuLimits.TryGetValue(capacityType, out var quota))
        {
            var used = InstanceList.Where(i => i.IsLive && i.CapacityType == capacityType).Sum(i => i.Type.VCpus);
            if (used + type.VCpus > quota)
            {
                return capacityType == CapacityTypes.Spot
                    ? ("MaxSpotInstanceCountExceeded", "Max spot instance count exceeded")
                    : ("VcpuLimitExceeded", string.Create(CultureInfo.InvariantCulture,
                        $"You have requested more vCPU capacity than your current vCPU limit of {quota} allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."));
            }
        }

        return null;
    }

    /// <summary>How many more instances the pool can take (int.MaxValue when unlimited).</summary>
    internal int RemainingCapacity(InstanceTypeInfo type, Zone zone, string capacityType) =>
        _poolLimits.TryGetValue((type.Name, zone.Name, capacityType), out var limit)
            ? Math.Max(0, limit - LiveInstancesIn(type.Name, zone.Name, capacityType))
            : int.MaxValue;

    private int LiveInstancesIn(string type, string zone, string capacityType) =>
        InstanceList.Count(i => i.IsLive && i.Type.Name == type && i.Zone == zone && i.CapacityType == capacityType);

    private static void RequireCapacityType(string capacityType)
    {
        if (!CapacityTypes.IsValid(capacityType))
        {
            throw new ArgumentException($"Capacity type must be '{CapacityTypes.Spot}' or '{CapacityTypes.OnDemand}', not '{capacityType}'.", nameof(capacityType));
        }
    }
}
