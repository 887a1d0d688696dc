using Karpenter.Core;
using Karpenter.Core.Disruption;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Karpenter.Tests.Core.Disruption;

/// <summary>The <c>SpotToSpotConsolidation</c> feature gate (<c>FEATURE_GATES</c>, read into <see cref="KarpenterOptions"/>) reaches disruption.</summary>
public sealed class DisruptionOptionsTests
{
    [Fact]
    public void The_SpotToSpotConsolidation_feature_gate_turns_spot_to_spot_replacement_on()
    {
        var services = new ServiceCollection().AddKarpenterCore();
        services.Configure<KarpenterOptions>(o => o.FeatureGates = FeatureGates.Parse("SpotToSpotConsolidation=true"));
        using var provider = services.BuildServiceProvider();

        Assert.True(provider.GetRequiredService<IOptions<DisruptionOptions>>().Value.SpotToSpotConsolidation);
    }

    [Fact]
    public void Spot_to_spot_replacement_is_off_by_default_as_upstream()
    {
        using var provider = new ServiceCollection().AddKarpenterCore().BuildServiceProvider();

        Assert.False(provider.GetRequiredService<IOptions<DisruptionOptions>>().Value.SpotToSpotConsolidation);
    }
}
