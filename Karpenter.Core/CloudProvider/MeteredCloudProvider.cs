using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Karpenter.Core.Metrics;
using Karpenter.Entities.V1;
using Karpenter.Kube.Controllers;
using Microsoft.Extensions.DependencyInjection;

namespace Karpenter.Core.CloudProvider;

/// <summary>
/// Upstream's cloud provider metrics decorator: every call is timed into <c>karpenter_cloudprovider_duration_seconds</c>
/// and every failure counted in <c>karpenter_cloudprovider_errors_total</c>, labelled by the calling controller, the
/// method, the provider and (for errors) the well-known error kind; the instance types and offerings it returns are
/// published as <c>karpenter_cloudprovider_instance_type_{cpu_cores,memory_bytes,offering_available,offering_price_estimate}</c>.
/// Decorate once: a second layer double-counts.
/// </summary>
public sealed class MeteredCloudProvider : ICloudProvider
{
    private readonly ICloudProvider _inner;
    private readonly TimeProvider _time;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _errors;
    private readonly ConcurrentDictionary<string, (double Cores, double MemoryBytes)> _types = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Type, string CapacityType, string Zone), (double Price, bool Available)> _offerings = new();

    public MeteredCloudProvider(ICloudProvider inner, TimeProvider time, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _inner = inner;
        _time = time;
        var meter = meterFactory.Create(LifecycleMetrics.MeterName);
        _duration = meter.CreateHistogram<double>("karpenter_cloudprovider_duration_seconds", unit: "s", description: "Duration of cloud provider method calls. Labeled by the controller, method name and provider.");
        _errors = meter.CreateCounter<long>("karpenter_cloudprovider_errors_total", description: "Total number of errors returned from CloudProvider calls.");
        meter.CreateObservableGauge("karpenter_cloudprovider_instance_type_cpu_cores", () => TypeGauge(t => t.Cores), description: "VCPUs cores for a given instance type.");
        meter.CreateObservableGauge("karpenter_cloudprovider_instance_type_memory_bytes", () => TypeGauge(t => t.MemoryBytes), description: "Memory, in bytes, for a given instance type.");
        meter.CreateObservableGauge("karpenter_cloudprovider_instance_type_offering_available", () => OfferingGauge(o => o.Available ? 1 : 0), description: "Instance type offering availability, based on instance type, capacity type, and zone");
        meter.CreateObservableGauge("karpenter_cloudprovider_instance_type_offering_price_estimate", () => OfferingGauge(o => o.Price), description: "Instance type offering estimated hourly price used when making informed decisions on node cost calculation, based on instance type, capacity type, and zone.");
    }

    public string Name => _inner.Name;

    public IReadOnlyList<RepairPolicy> RepairPolicies => _inner.RepairPolicies;

    public IReadOnlyList<Type> SupportedNodeClasses => _inner.SupportedNodeClasses;

    public IReadOnlySet<string> WellKnownLabels => _inner.WellKnownLabels;

    /// <summary>
    /// Replaces the <see cref="ICloudProvider"/> registered in <paramref name="services"/> (the last one) by itself
    /// around it. Call after the provider registered itself.
    /// </summary>
    public static void Decorate(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(Decorated)))
        {
            return;
        }

        var index = -1;
        for (var i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType == typeof(ICloudProvider))
            {
                index = i;
            }
        }

        if (index < 0)
        {
            throw new InvalidOperationException("no ICloudProvider is registered to decorate; register the provider first");
        }

        var original = services[index];
        services.AddSingleton<Decorated>();
        services[index] = ServiceDescriptor.Singleton<ICloudProvider>(sp => new MeteredCloudProvider(
            original switch
            {
                { ImplementationInstance: ICloudProvider instance } => instance,
                { ImplementationFactory: { } factory } => (ICloudProvider)factory(sp),
                _ => (ICloudProvider)ActivatorUtilities.CreateInstance(sp, original.ImplementationType!),
            },
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IMeterFactory>()));
    }

    public Task<NodeClaim> CreateAsync(NodeClaim nodeClaim, CancellationToken cancellationToken) =>
        MeasureAsync("Create", () => _inner.CreateAsync(nodeClaim, cancellationToken));

    public Task DeleteAsync(NodeClaim nodeClaim, CancellationToken cancellationToken) =>
        MeasureAsync("Delete", async () =>
        {
            await _inner.DeleteAsync(nodeClaim, cancellationToken);
            return true;
        });

    public Task<NodeClaim> GetAsync(string providerId, CancellationToken cancellationToken) =>
        MeasureAsync("Get", () => _inner.GetAsync(providerId, cancellationToken));

    public Task<IReadOnlyList<NodeClaim>> ListAsync(CancellationToken cancellationToken) =>
        MeasureAsync("List", () => _inner.ListAsync(cancellationToken));

    public async Task<IReadOnlyList<InstanceType>> GetInstanceTypesAsync(NodePool nodePool, CancellationToken cancellationToken)
    {
        var types = await MeasureAsync("GetInstanceTypes", () => _inner.GetInstanceTypesAsync(nodePool, cancellationToken));
        foreach (var type in types)
        {
            _types[type.Name] = (type.Capacity.CpuMilli / 1000.0, type.Capacity.Memory);
            foreach (var offering in type.Offerings)
            {
                _offerings[(type.Name, offering.CapacityType, offering.Zone)] = ((double)offering.Price, offering.Available);
            }
        }

        return types;
    }

    public Task<string?> IsDriftedAsync(NodeClaim nodeClaim, CancellationToken cancellationToken) =>
        MeasureAsync("IsDrifted", () => _inner.IsDriftedAsync(nodeClaim, cancellationToken));

    /// <summary>Upstream's <c>error</c> label: the well-known error kinds, empty for any other.</summary>
    public static string ErrorKind(Exception error) => error switch
    {
        NodeClaimNotFoundException => "NodeClaimNotFoundError",
        InsufficientCapacityException => "InsufficientCapacityError",
        NodeClassNotReadyException => "NodeClassNotReadyError",
        _ => "",
    };

    private IEnumerable<Measurement<double>> TypeGauge(Func<(double Cores, double MemoryBytes), double> select) =>
        _types.Select(t => new Measurement<double>(select(t.Value), new KeyValuePair<string, object?>("instance_type", t.Key)));

    private IEnumerable<Measurement<double>> OfferingGauge(Func<(double Price, bool Available), double> select) =>
        _offerings.Select(o => new Measurement<double>(
            select(o.Value),
            new KeyValuePair<string, object?>("instance_type", o.Key.Type),
            new KeyValuePair<string, object?>("capacity_type", o.Key.CapacityType),
            new KeyValuePair<string, object?>("zone", o.Key.Zone)));

    /// <summary>Marks a service collection whose provider <see cref="Decorate"/> already wrapped.</summary>
    private sealed class Decorated;

    private async Task<T> MeasureAsync<T>(string method, Func<Task<T>> call)
    {
        var tags = new TagList { { "controller", ReconcileContext.ControllerName ?? "" }, { "method", method }, { "provider", _inner.Name } };
        var started = _time.GetTimestamp();
        try
        {
            return await call();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var errorTags = tags;
            errorTags.Add("error", ErrorKind(e));
            _errors.Add(1, errorTags);
            throw;
        }
        finally
        {
            _duration.Record(_time.GetElapsedTime(started).TotalSeconds, tags);
        }
    }
}
