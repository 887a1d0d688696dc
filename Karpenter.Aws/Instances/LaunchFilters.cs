using Karpenter.Aws.InstanceTypes;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Aws.Instances;

/// <summary>
/// The instance types a launch offers CreateFleet (upstream <c>pkg/providers/instance/filter</c> and core's
/// <c>Truncate</c>): compatible with the NodeClaim and holding one of its requests with an available offering; without
/// GPU, accelerator and metal types unless nothing else is left; without spot types pricier than the cheapest on-demand
/// one when both are allowed; the cheapest 60, keeping enough distinct values for every <c>minValues</c>.
/// </summary>
public static class LaunchFilters
{
    /// <summary>CreateFleet is given at most this many instance types (upstream <c>maxInstanceTypes</c>).</summary>
    public const int MaxInstanceTypes = 60;

    private static readonly string[] ExoticResources =
    [
        AwsResourceNames.AwsNeuron, AwsResourceNames.AwsNeuronCore, AwsResourceNames.AmdGpu, AwsResourceNames.NvidiaGpu, AwsResourceNames.HabanaGaudi,
    ];

    /// <summary>The NodeClaim's requirements, minValues included.</summary>
    public static Requirements ClaimRequirements(NodeClaim nodeClaim)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var requirements = new Requirements();
        foreach (var r in nodeClaim.Spec.Requirements)
        {
            if (Requirement.Create(Requirements.NormalizeKey(r.Key), r.Operator, r.Values, r.MinValues, out _) is { } created)
            {
                requirements.Add(created);
            }
        }
        return requirements;
    }

    public static bool HasMinValues(Requirements requirements) => requirements.Values.Any(r => r.MinValues is > 0);

    /// <summary>The available offerings of <paramref name="type"/> compatible with <paramref name="requirements"/>.</summary>
    public static IEnumerable<Offering> Compatible(InstanceType type, Requirements requirements) => type.AvailableOfferings(requirements);

    public static IReadOnlyList<InstanceType> CompatibleAvailable(IEnumerable<InstanceType> types, Requirements requirements, Resources requests) =>
        [.. types.Where(t => requirements.Intersects(t.Requirements) is null && requests.FitsIn(t.Allocatable) && Compatible(t, requirements).Any())];

    /// <summary>Drops GPU, accelerator and metal types when others remain (not when minValues is used).</summary>
    public static IReadOnlyList<InstanceType> Exotic(IReadOnlyList<InstanceType> types, Requirements requirements)
    {
        if (HasMinValues(requirements))
        {
            return types;
        }
        var generic = types.Where(t => !t.Requirements.Get(Labels.InstanceSize).Values.Any(s => s.Contains("metal", StringComparison.Ordinal))
            && ExoticResources.All(r => t.Capacity.Get(r) == 0)).ToList();
        return generic.Count == 0 ? types : generic;
    }

    /// <summary>When both spot and on-demand are allowed, drops types whose spot offerings all cost more than the cheapest on-demand offering.</summary>
    public static IReadOnlyList<InstanceType> Spot(IReadOnlyList<InstanceType> types, Requirements requirements)
    {
        var capacity = requirements.Get(Labels.CapacityType);
        if (HasMinValues(requirements) || !capacity.Has(CapacityTypes.Spot) || !capacity.Has(CapacityTypes.OnDemand))
        {
            return types;
        }
        var offerings = types.SelectMany(t => Compatible(t, requirements)).ToList();
        if (!offerings.Any(o => o.CapacityType == CapacityTypes.OnDemand) || !offerings.Any(o => o.CapacityType == CapacityTypes.Spot))
        {
            return types;
        }
        var cheapestOnDemand = offerings.Where(o => o.CapacityType == CapacityTypes.OnDemand).Min(o => o.Price);
        return [.. types.Where(t =>
        {
            var mine = Compatible(t, requirements).ToList();
            if (mine.Any(o => o.IsReserved))
            {
                return true;
            }
            var spot = mine.Where(o => o.CapacityType == CapacityTypes.Spot).ToList();
            return spot.Count == 0 || spot.Any(o => o.Price <= cheapestOnDemand);
        })];
    }

    /// <summary>Cheapest compatible available offering first, then by name.</summary>
    public static IReadOnlyList<InstanceType> OrderByPrice(IEnumerable<InstanceType> types, Requirements requirements) =>
        [.. types.Select(t => (Type: t, Price: t.CheapestOffering(requirements)?.Price ?? decimal.MaxValue))
            .OrderBy(p => p.Price).ThenBy(p => p.Type.Name, StringComparer.Ordinal).Select(p => p.Type)];

    /// <summary>
    /// The cheapest <paramref name="max"/> types. When minValues apply and the cheapest ones lack distinct values, the
    /// cheapest type of each missing value is taken in first; null when even that cannot satisfy them.
    /// </summary>
    public static IReadOnlyList<InstanceType>? Truncate(IReadOnlyList<InstanceType> types, Requirements requirements, int max = MaxInstanceTypes)
    {
        var ordered = OrderByPrice(types, requirements);
        var cheapest = ordered.Take(max).ToList();
        if (!HasMinValues(requirements) || SatisfiesMinValues(cheapest, requirements))
        {
            return cheapest;
        }
        var chosen = new List<InstanceType>();
        foreach (var requirement in requirements.Values.Where(r => r.MinValues is > 0))
        {
            var seen = new HashSet<string>(chosen.SelectMany(t => t.Requirements.Get(requirement.Key).Values), StringComparer.Ordinal);
            foreach (var type in ordered)
            {
                if (seen.Count >= requirement.MinValues)
                {
                    break;
                }
                var values = type.Requirements.Get(requirement.Key).Values.Where(v => requirement.Has(v)).ToList();
                if (values.Any(v => !seen.Contains(v)) && !chosen.Contains(type))
                {
                    chosen.Add(type);
                    seen.UnionWith(values);
                }
            }
        }
        foreach (var type in ordered)
        {
            if (chosen.Count >= max)
            {
                break;
            }
            if (!chosen.Contains(type))
            {
                chosen.Add(type);
            }
        }
        var truncated = OrderByPrice(chosen.Take(max), requirements);
        return SatisfiesMinValues(truncated, requirements) ? truncated : null;
    }

    /// <summary>Every requirement with minValues sees at least that many distinct values among the types.</summary>
    public static bool SatisfiesMinValues(IReadOnlyList<InstanceType> types, Requirements requirements) =>
        requirements.Values.Where(r => r.MinValues is > 0).All(r =>
            types.SelectMany(t => t.Requirements.Get(r.Key).Values).Where(r.Has).Distinct(StringComparer.Ordinal).Count() >= r.MinValues);

    /// <summary>Reserved (not offered by this provider) &gt; spot &gt; on-demand: spot when allowed and some type has an available spot offering.</summary>
    public static string CapacityType(IReadOnlyList<InstanceType> types, Requirements requirements)
    {
        if (requirements.Get(Labels.CapacityType).Has(CapacityTypes.Spot))
        {
            var spot = requirements.Clone().Set(Requirement.In(Labels.CapacityType, CapacityTypes.Spot));
            if (types.Any(t => Compatible(t, spot).Any()))
            {
                return CapacityTypes.Spot;
            }
        }
        return CapacityTypes.OnDemand;
    }
}
