using System.Globalization;
using k8s.Models;

namespace Karpenter.Sim.Cluster.Resources;

/// <summary>
/// Resource amounts in integer units as kube-scheduler compares them: CPU in millicores (rounded up), everything
/// else in whole units (bytes, pods, devices). Immutable; missing names are zero.
/// </summary>
public sealed class ResourceAmounts
{
    public const string Cpu = "cpu";
    public const string Memory = "memory";
    public const string Pods = "pods";
    public const string EphemeralStorage = "ephemeral-storage";

    private readonly Dictionary<string, long> _amounts;

    private ResourceAmounts(Dictionary<string, long> amounts) => _amounts = amounts;

    public static ResourceAmounts Empty { get; } = new(new Dictionary<string, long>(StringComparer.Ordinal));

    public IEnumerable<string> Names => _amounts.Keys;

    public long this[string name] => _amounts.GetValueOrDefault(name);

    /// <summary>Reads a Kubernetes resource list; an unparsable quantity throws <see cref="FormatException"/> naming it.</summary>
    public static ResourceAmounts From(IDictionary<string, ResourceQuantity>? list)
    {
        if (list is null || list.Count == 0)
        {
            return Empty;
        }

        var amounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, quantity) in list)
        {
            amounts[name] = ToUnits(name, quantity?.ToString());
        }

        return new ResourceAmounts(amounts);
    }

    /// <summary>Reads a map of resource name to quantity text (kube-reserved and similar settings).</summary>
    public static ResourceAmounts From(IReadOnlyDictionary<string, string>? list)
    {
        if (list is null || list.Count == 0)
        {
            return Empty;
        }

        return new ResourceAmounts(list.ToDictionary(kv => kv.Key, kv => ToUnits(kv.Key, kv.Value), StringComparer.Ordinal));
    }

    public static ResourceAmounts Of(params (string Name, long Amount)[] amounts) =>
        new(amounts.ToDictionary(a => a.Name, a => a.Amount, StringComparer.Ordinal));

    /// <summary>The integer amount of one quantity text in <paramref name="name"/>'s unit.</summary>
    public static long ToUnits(string name, string? quantity)
    {
        decimal value;
        try
        {
            value = new ResourceQuantity(quantity ?? string.Empty).ToDecimal();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            throw new FormatException($"resource {name} has an invalid quantity '{quantity}'", e);
        }

        return (long)Math.Ceiling(name == Cpu ? value * 1000 : value);
    }

    public ResourceAmounts With(string name, long amount)
    {
        var copy = new Dictionary<string, long>(_amounts, StringComparer.Ordinal) { [name] = amount };
        return new ResourceAmounts(copy);
    }

    public ResourceAmounts Add(ResourceAmounts other) => Combine(other, static (a, b) => a + b);

    public ResourceAmounts Subtract(ResourceAmounts other) => Combine(other, static (a, b) => a - b);

    /// <summary>The larger amount of each name (init containers against the regular ones).</summary>
    public ResourceAmounts Max(ResourceAmounts other) => Combine(other, Math.Max);

    /// <summary>Negative amounts raised to zero (allocatable never goes below zero).</summary>
    public ResourceAmounts ClampAtZero() =>
        new(_amounts.ToDictionary(kv => kv.Key, kv => Math.Max(0, kv.Value), StringComparer.Ordinal));

    /// <summary>As a Kubernetes resource list in canonical notation (<c>1930m</c>, <c>7269Mi</c>, <c>29</c>).</summary>
    public Dictionary<string, ResourceQuantity> ToList() =>
        _amounts.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => new ResourceQuantity(Format(kv.Key, kv.Value)), StringComparer.Ordinal);

    public static string Format(string name, long amount)
    {
        if (name == Cpu)
        {
            return amount % 1000 == 0 ? (amount / 1000).ToString(CultureInfo.InvariantCulture) : amount.ToString(CultureInfo.InvariantCulture) + "m";
        }

        if (amount > 0 && (name is Memory or EphemeralStorage || name.StartsWith("hugepages-", StringComparison.Ordinal)))
        {
            foreach (var (suffix, factor) in new[] { ("Gi", 1L << 30), ("Mi", 1L << 20), ("Ki", 1L << 10) })
            {
                if (amount % factor == 0)
                {
                    return (amount / factor).ToString(CultureInfo.InvariantCulture) + suffix;
                }
            }
        }

        return amount.ToString(CultureInfo.InvariantCulture);
    }

    public override string ToString() =>
        "{" + string.Join(", ", _amounts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {Format(kv.Key, kv.Value)}")) + "}";

    private ResourceAmounts Combine(ResourceAmounts other, Func<long, long, long> op)
    {
        var result = new Dictionary<string, long>(_amounts, StringComparer.Ordinal);
        foreach (var (name, amount) in other._amounts)
        {
            result[name] = op(result.GetValueOrDefault(name), amount);
        }

        return new ResourceAmounts(result);
    }
}

/// <summary>What a pod asks of a node, computed as kube-scheduler and the kubelet do (<c>resourcehelper.PodRequests</c>).</summary>
public static class PodRequests
{
    /// <summary>
    /// The effective requests: the regular containers plus restartable init containers (sidecars), or the largest
    /// init-container phase if that is more, plus the pod overhead; always one <c>pods</c>. A container's limit stands
    /// in for a missing request, as the API server defaults it.
    /// </summary>
    public static ResourceAmounts Of(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var spec = pod.Spec;
        var requests = ResourceAmounts.Empty;
        foreach (var container in spec?.Containers ?? [])
        {
            requests = requests.Add(OfContainer(container));
        }

        var sidecars = ResourceAmounts.Empty;
        var initPeak = ResourceAmounts.Empty;
        foreach (var init in spec?.InitContainers ?? [])
        {
            var own = OfContainer(init);
            if (init.RestartPolicy == "Always")
            {
                // A sidecar keeps running beside the regular containers and every later init container.
                requests = requests.Add(own);
                sidecars = sidecars.Add(own);
                initPeak = initPeak.Max(sidecars);
            }
            else
            {
                initPeak = initPeak.Max(own.Add(sidecars));
            }
        }

        requests = requests.Max(initPeak);
        if (spec?.Overhead is { Count: > 0 } overhead)
        {
            requests = requests.Add(ResourceAmounts.From(overhead));
        }

        return requests.With(ResourceAmounts.Pods, 1);
    }

    private static ResourceAmounts OfContainer(V1Container container)
    {
        var requests = ResourceAmounts.From(container.Resources?.Requests);
        if (container.Resources?.Limits is { Count: > 0 } limits)
        {
            foreach (var (name, quantity) in limits)
            {
                if (container.Resources.Requests is null || !container.Resources.Requests.ContainsKey(name))
                {
                    requests = requests.With(name, ResourceAmounts.ToUnits(name, quantity?.ToString()));
                }
            }
        }

        return requests;
    }
}
