using System.Globalization;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.CloudProvider.Fake;

/// <summary>Instance-type catalogs for tests and benchmarks.</summary>
public static class FakeInstanceTypes
{
    public const string SizeLabel = "size";
    public const string ExoticLabel = "special";
    public const string IntegerLabel = "integer";

    public static IReadOnlyList<string> Zones { get; } = ["test-zone-1", "test-zone-2", "test-zone-3"];

    /// <summary>
    /// Upstream's benchmark catalog (<c>fake.InstanceTypes(n)</c>): type i has i+1 vCPU, 2(i+1) GiB and 10(i+1) pods,
    /// 100m CPU and 10Mi kube-reserved, spot offerings in zones 1–2 and on-demand in zones 1–3, all priced
    /// 0.1 per vCPU plus 0.1 per 10^9 bytes of memory.
    /// </summary>
    public static IReadOnlyList<InstanceType> Synthetic(int count)
    {
        var types = new List<InstanceType>(count);
        for (var i = 0; i < count; i++)
        {
            var cpu = i + 1;
            var capacity = new Resources(cpu * 1000L, cpu * 2L << 30, cpu * 10L);
            types.Add(Create($"fake-it-{i}", capacity));
        }

        return types;
    }

    /// <summary>One synthetic instance type shaped like upstream's <c>fake.NewInstanceType</c>.</summary>
    public static InstanceType Create(string name, Resources capacity, string arch = "amd64", IReadOnlyList<Offering>? offerings = null, Requirements? extra = null)
    {
        var price = PriceFromResources(capacity);
        offerings ??=
        [
            new Offering(Zones[0], CapacityTypes.Spot, price),
            new Offering(Zones[1], CapacityTypes.Spot, price),
            new Offering(Zones[0], CapacityTypes.OnDemand, price),
            new Offering(Zones[1], CapacityTypes.OnDemand, price),
            new Offering(Zones[2], CapacityTypes.OnDemand, price),
        ];
        var available = offerings.Where(o => o.Available).ToList();
        var large = capacity.CpuMilli > 4000 && capacity.Memory > 8L << 30;
        var requirements = new Requirements(
            Requirement.In(Labels.InstanceType, name),
            Requirement.In(Labels.Arch, arch),
            Requirement.In(Labels.Os, "linux", "windows", "darwin"),
            Requirement.In(Labels.TopologyZone, available.Select(o => o.Zone)),
            Requirement.In(Labels.CapacityType, available.Select(o => o.CapacityType)),
            Requirement.In(SizeLabel, large ? "large" : "small"),
            large ? Requirement.In(ExoticLabel, "optional") : Requirement.DoesNotExist(ExoticLabel),
            Requirement.In(IntegerLabel, (capacity.CpuMilli / 1000).ToString(CultureInfo.InvariantCulture)));
        if (extra is not null)
        {
            requirements.Add(extra);
        }

        return new InstanceType(name, requirements, offerings, capacity,
            new InstanceTypeOverhead(new Resources(100, 10L << 20), default, default));
    }

    /// <summary>Upstream's fake price: 0.1 per vCPU plus 0.1 per 10^9 bytes of memory (exact, in decimal).</summary>
    public static decimal PriceFromResources(Resources capacity) =>
        (0.1m * capacity.CpuMilli / 1000m) + (0.1m * capacity.Memory / 1_000_000_000m);
}
