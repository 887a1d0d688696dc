using k8s.Models;
using Karpenter.Core;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Provisioning;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Karpenter.Tests.Core.CloudProvider;

public sealed class FakeCloudProviderTests
{
    private static NodeClaim Claim(params string[] types) => new()
    {
        Metadata = new V1ObjectMeta { Name = "default-abc" },
        Spec = new NodeClaimSpec { Requirements = [new NodeClaimRequirement { Key = "node.kubernetes.io/instance-type", Operator = "In", Values = [.. types] }] },
    };

    [Fact]
    public async Task Launches_the_cheapest_allowed_type_and_finds_it_by_provider_id_until_deleted()
    {
        var cloud = new FakeCloudProvider();

        var launched = await cloud.CreateAsync(Claim("fake-it-3", "fake-it-1"), CancellationToken.None);

        Assert.Equal("fake-it-1", launched.Metadata.Labels["node.kubernetes.io/instance-type"]);
        Assert.Equal("2", launched.Status.Capacity!["cpu"].ToString());
        Assert.Same(launched, await cloud.GetAsync(launched.Status.ProviderId!, CancellationToken.None));
        await cloud.DeleteAsync(launched, CancellationToken.None);
        await Assert.ThrowsAsync<NodeClaimNotFoundException>(() => cloud.GetAsync(launched.Status.ProviderId!, CancellationToken.None));
    }

    [Fact]
    public async Task Scripted_and_impossible_launches_fail_with_the_providers_errors()
    {
        var cloud = new FakeCloudProvider { NextCreateError = new InsufficientCapacityException("scripted") };

        await Assert.ThrowsAsync<InsufficientCapacityException>(() => cloud.CreateAsync(Claim("fake-it-1"), CancellationToken.None));
        await Assert.ThrowsAsync<InsufficientCapacityException>(() => cloud.CreateAsync(Claim("no-such-type"), CancellationToken.None));
        Assert.Equal(2, cloud.CreateCalls.Count);
    }

    [SkippableFact]
    public void The_real_catalog_loads_with_prices_and_karpenters_allocatable()
    {
        var path = AwsCatalog.FindDataFile();
        Skip.If(path is null, "../shared/data/aws/instance-types.json is not beside the repository");

        var types = AwsCatalog.Load(path!);
        var a1 = types.Single(t => t.Name == "a1.2xlarge");

        Assert.True(types.Count > 1300);
        Assert.Equal(new Resources(7910, 14103L << 20, 58, 17L << 30).With("vpc.amazonaws.com/pod-eni", 38), a1.Allocatable);
        Assert.Equal(0.204m, a1.CheapestOffering()!.Price);
    }

    [Fact]
    public void The_composition_root_registers_core_services_and_validates_batching()
    {
        var services = new ServiceCollection().AddKarpenterCore();
        services.Configure<BatchingOptions>(o => o.BatchIdleDuration = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();

        Assert.NotNull(provider.GetRequiredService<ClusterState>());
        Assert.NotNull(provider.GetRequiredService<Scheduler>());
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<BatchingOptions>>().Value);
    }
}
