using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Metrics;
using Karpenter.Entities.V1;
using Karpenter.Tests.Kube.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Core.CloudProvider;

/// <summary>Upstream's cloud provider metrics: every call timed, every failure counted with its well-known kind.</summary>
public sealed class MeteredCloudProviderTests : IDisposable
{
    private readonly TestMeterFactory _meters = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task Calls_are_timed_and_failures_counted_by_method_provider_and_error_kind()
    {
        var inner = new FakeCloudProvider();
        var cloud = new MeteredCloudProvider(inner, _time, _meters);
        using var durations = new MetricCollector<double>(_meters, LifecycleMetrics.MeterName, "karpenter_cloudprovider_duration_seconds");
        using var errors = new MetricCollector<long>(_meters, LifecycleMetrics.MeterName, "karpenter_cloudprovider_errors_total");

        var launched = await cloud.CreateAsync(new NodeClaim
        {
            Metadata = new V1ObjectMeta { Name = "default-abc" },
            Spec = new NodeClaimSpec { Requirements = [new NodeClaimRequirement { Key = "node.kubernetes.io/instance-type", Operator = "In", Values = ["fake-it-1"] }] },
        }, CancellationToken.None);
        await Assert.ThrowsAsync<NodeClaimNotFoundException>(() => cloud.GetAsync("fake:///nowhere", CancellationToken.None));

        Assert.Equal("fake-it-1", launched.Metadata.Labels["node.kubernetes.io/instance-type"]);
        Assert.Equal(["Create", "Get"], durations.GetMeasurementSnapshot().Select(m => (string)m.Tags["method"]!).ToArray());
        Assert.All(durations.GetMeasurementSnapshot(), m => Assert.Equal(inner.Name, m.Tags["provider"]));
        var error = Assert.Single(errors.GetMeasurementSnapshot());
        Assert.Equal(("Get", "NodeClaimNotFoundError", ""), ((string)error.Tags["method"]!, (string)error.Tags["error"]!, (string)error.Tags["controller"]!));
    }

    [Fact]
    public async Task The_instance_types_returned_are_published_with_their_offerings()
    {
        var inner = new FakeCloudProvider();
        var cloud = new MeteredCloudProvider(inner, _time, _meters);
        using var cores = new MetricCollector<double>(_meters, LifecycleMetrics.MeterName, "karpenter_cloudprovider_instance_type_cpu_cores");
        using var prices = new MetricCollector<double>(_meters, LifecycleMetrics.MeterName, "karpenter_cloudprovider_instance_type_offering_price_estimate");
        using var available = new MetricCollector<double>(_meters, LifecycleMetrics.MeterName, "karpenter_cloudprovider_instance_type_offering_available");

        var types = await cloud.GetInstanceTypesAsync(new NodePool { Metadata = new V1ObjectMeta { Name = "default" } }, CancellationToken.None);
        cores.RecordObservableInstruments();
        prices.RecordObservableInstruments();
        available.RecordObservableInstruments();

        var type = types[0];
        var offering = type.Offerings[0];
        Assert.Equal(type.Capacity.CpuMilli / 1000.0, cores.GetMeasurementSnapshot().Single(m => (string)m.Tags["instance_type"]! == type.Name).Value);
        var price = prices.GetMeasurementSnapshot().Single(m => (string)m.Tags["instance_type"]! == type.Name && (string)m.Tags["zone"]! == offering.Zone && (string)m.Tags["capacity_type"]! == offering.CapacityType);
        Assert.Equal((double)offering.Price, price.Value);
        Assert.Equal(types.Sum(t => t.Offerings.Count), available.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public async Task Decorate_wraps_the_registered_provider_once()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddMetrics();
        var inner = new FakeCloudProvider();
        services.AddSingleton<ICloudProvider>(inner);

        MeteredCloudProvider.Decorate(services);
        MeteredCloudProvider.Decorate(services);
        await using var provider = services.BuildServiceProvider();
        using var durations = new MetricCollector<double>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), LifecycleMetrics.MeterName, "karpenter_cloudprovider_duration_seconds");

        var cloud = Assert.IsType<MeteredCloudProvider>(provider.GetRequiredService<ICloudProvider>());
        await cloud.ListAsync(CancellationToken.None);
        Assert.Equal(inner.Name, cloud.Name);
        Assert.Single(durations.GetMeasurementSnapshot());
        Assert.Throws<InvalidOperationException>(() => MeteredCloudProvider.Decorate(new ServiceCollection()));
    }
}
