using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;

namespace Karpenter.Tests.Core.CloudProvider;

public sealed class InstanceTypeTests
{
    private static InstanceType Type() => new(
        "m5.large",
        new Requirements(Requirement.In("node.kubernetes.io/instance-type", "m5.large")),
        [new Offering("z1", "spot", 0.04m), new Offering("z2", "on-demand", 0.096m), new Offering("z3", "spot", 0.01m, available: false)],
        new Resources(2000, 8L << 30, 29),
        new InstanceTypeOverhead(new Resources(70, 574L << 20), default, new Resources(0, 100L << 20)));

    [Fact]
    public void Allocatable_is_capacity_minus_reserved_and_eviction_threshold()
    {
        Assert.Equal(new Resources(1930, (8L << 30) - (674L << 20), 29), Type().Allocatable);
    }

    [Fact]
    public void The_cheapest_offering_ignores_unavailable_ones_and_honours_requirements()
    {
        var type = Type();

        Assert.Equal(0.04m, type.CheapestOffering()!.Price);
        Assert.Equal(0.096m, type.CheapestOffering(new Requirements(Requirement.In("karpenter.sh/capacity-type", "on-demand")))!.Price);
        Assert.Null(type.CheapestOffering(new Requirements(Requirement.In("topology.kubernetes.io/zone", "z3"))));
    }
}
