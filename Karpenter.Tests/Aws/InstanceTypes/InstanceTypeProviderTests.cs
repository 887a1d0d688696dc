using Karpenter.Aws.Amis;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Aws.Pricing;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Logging.Abstractions;

namespace Karpenter.Tests.Aws.InstanceTypes;

/// <summary>The instance-type catalog from our emulator: labels, allocatable, offerings per subnet zone, and the ICE cache.</summary>
public sealed class InstanceTypeProviderTests
{
    private static InstanceTypeNodeClass NodeClass(params string[] zones) =>
        new(AmiFamily.AL2023, new KubeletSettings(), [], null, zones.Select(z => (z, (string?)null)).ToList());

    [Fact]
    public async Task Types_carry_well_known_labels_allocatable_and_offerings_in_the_subnet_zones_only()
    {
        await using var aws = await EmulatedAws.StartAsync();
        var ice = new UnavailableOfferings(aws.Time);
        var pricing = new PricingProvider(aws.Clients.Ec2, aws.Clients.Pricing, aws.Time, aws.OptionsWrapper, NullLogger<PricingProvider>.Instance);
        var provider = new InstanceTypeProvider(aws.Clients.Ec2, pricing, ice, aws.Time, aws.OptionsWrapper);
        var zoneA = aws.Emulator.Region + "a";
        var zoneB = aws.Emulator.Region + "b";

        var types = await provider.ListAsync(NodeClass(zoneA, zoneB), default);

        var m5 = Assert.Single(types, t => t.Name == "m5.large");
        Assert.Equal(["m5"], m5.Requirements.Get(Labels.InstanceFamily).Values);
        Assert.Equal(["m"], m5.Requirements.Get(Labels.InstanceCategory).Values);
        Assert.Equal(["5"], m5.Requirements.Get(Labels.InstanceGeneration).Values);
        Assert.Equal(["large"], m5.Requirements.Get(Labels.InstanceSize).Values);
        Assert.Equal(["2"], m5.Requirements.Get(Labels.InstanceCpu).Values);
        Assert.Equal(["amd64"], m5.Requirements.Get(Labels.Arch).Values);
        Assert.Equal(["linux"], m5.Requirements.Get(Labels.Os).Values);
        Assert.Equal(1930, m5.Allocatable.CpuMilli);
        Assert.Equal(29, m5.Allocatable.Pods);
        Assert.All(m5.Offerings, o => Assert.Contains(o.Zone, new[] { zoneA, zoneB }));
        Assert.Contains(m5.Offerings, o => o.CapacityType == CapacityTypes.Spot && o.Available);
        Assert.Contains(m5.Offerings, o => o.CapacityType == CapacityTypes.OnDemand && o.Price == 0.096m);
    }

    [Fact]
    public async Task An_insufficient_capacity_mark_makes_the_offering_unavailable_for_three_minutes()
    {
        await using var aws = await EmulatedAws.StartAsync();
        var ice = new UnavailableOfferings(aws.Time);
        var pricing = new PricingProvider(aws.Clients.Ec2, aws.Clients.Pricing, aws.Time, aws.OptionsWrapper, NullLogger<PricingProvider>.Instance);
        var provider = new InstanceTypeProvider(aws.Clients.Ec2, pricing, ice, aws.Time, aws.OptionsWrapper);
        var zone = aws.Emulator.Region + "a";

        ice.MarkUnavailable("InsufficientInstanceCapacity", CapacityTypes.Spot, "m5.large", zone);
        var marked = (await provider.ListAsync(NodeClass(zone), default)).Single(t => t.Name == "m5.large");
        Assert.False(marked.Offerings.Single(o => o.CapacityType == CapacityTypes.Spot).Available);
        Assert.True(marked.Offerings.Single(o => o.CapacityType == CapacityTypes.OnDemand).Available);

        aws.Time.Advance(UnavailableOfferings.Ttl);
        var later = (await provider.ListAsync(NodeClass(zone), default)).Single(t => t.Name == "m5.large");
        Assert.True(later.Offerings.Single(o => o.CapacityType == CapacityTypes.Spot).Available);
    }
}
