using System.Globalization;
using System.Text;
using k8s.Models;

namespace Karpenter.Core.Scheduling;

/// <summary>Kubernetes resource names the scheduler treats specially.</summary>
public static class ResourceNames
{
    public const string Cpu = "cpu";
    public const string Memory = "memory";
    public const string Pods = "pods";
    public const string EphemeralStorage = "ephemeral-storage";
    public const string Nodes = "nodes";
}

/// <summary>
/// An immutable vector of resource amounts in the integer units kube-scheduler uses: CPU in millicores, everything else
/// in whole units (bytes for memory and storage, counts for pods and extended resources), each rounded up from the
/// exact <see cref="Quantity"/>. The four common resources are fields; extended resources (GPUs, ENIs, hugepages) are a
/// small sorted array, absent for most pods, so the hot path compares four longs.
/// </summary>
public readonly struct Resources : IEquatable<Resources>
{
    private readonly Extended[]? _extended;

    public Resources(long cpuMilli, long memory, long pods = 0, long ephemeralStorage = 0)
        : this(cpuMilli, memory, pods, ephemeralStorage, null)
    {
    }

    private Resources(long cpuMilli, long memory, long pods, long ephemeralStorage, Extended[]? extended)
    {
        CpuMilli = cpuMilli;
        Memory = memory;
        Pods = pods;
        EphemeralStorage = ephemeralStorage;
        _extended = extended is { Length: > 0 } ? extended : null;
    }

    public static Resources None => default;

    public long CpuMilli { get; }

    public long Memory { get; }

    public long Pods { get; }

    public long EphemeralStorage { get; }

    public bool HasExtended => _extended is not null;

    public bool IsZero => CpuMilli == 0 && Memory == 0 && Pods == 0 && EphemeralStorage == 0 && _extended is null;

    /// <summary>The amount of <paramref name="name"/> in its scheduler unit (millicores for cpu).</summary>
    public long Get(string name) => name switch
    {
        ResourceNames.Cpu => CpuMilli,
        ResourceNames.Memory => Memory,
        ResourceNames.Pods => Pods,
        ResourceNames.EphemeralStorage => EphemeralStorage,
        _ => FindExtended(name),
    };

    /// <summary>Every non-zero resource name in this vector.</summary>
    public IEnumerable<string> Names
    {
        get
        {
            if (CpuMilli != 0)
            {
                yield return ResourceNames.Cpu;
            }

            if (Memory != 0)
            {
                yield return ResourceNames.Memory;
            }

            if (Pods != 0)
            {
                yield return ResourceNames.Pods;
            }

            if (EphemeralStorage != 0)
            {
                yield return ResourceNames.EphemeralStorage;
            }

            if (_extended is not null)
            {
                foreach (var e in _extended)
                {
                    yield return e.Name;
                }
            }
        }
    }

    public Resources WithPods(long pods) => new(CpuMilli, Memory, pods, EphemeralStorage, _extended);

    /// <summary>A vector with one resource set (in its scheduler unit).</summary>
    public Resources With(string name, long amount) => name switch
    {
        ResourceNames.Cpu => new(amount, Memory, Pods, EphemeralStorage, _extended),
        ResourceNames.Memory => new(CpuMilli, amount, Pods, EphemeralStorage, _extended),
        ResourceNames.Pods => new(CpuMilli, Memory, amount, EphemeralStorage, _extended),
        ResourceNames.EphemeralStorage => new(CpuMilli, Memory, Pods, amount, _extended),
        _ => new(CpuMilli, Memory, Pods, EphemeralStorage, SetExtended(_extended, name, amount)),
    };

    public static Resources operator +(Resources a, Resources b) => new(
        Sat(a.CpuMilli + (Int128)b.CpuMilli), Sat(a.Memory + (Int128)b.Memory), Sat(a.Pods + (Int128)b.Pods),
        Sat(a.EphemeralStorage + (Int128)b.EphemeralStorage), Merge(a._extended, b._extended, static (x, y) => x + y));

    public static Resources operator -(Resources a, Resources b) => new(
        Sat(a.CpuMilli - (Int128)b.CpuMilli), Sat(a.Memory - (Int128)b.Memory), Sat(a.Pods - (Int128)b.Pods),
        Sat(a.EphemeralStorage - (Int128)b.EphemeralStorage), Merge(a._extended, b._extended, static (x, y) => x - y));

    public static Resources Add(Resources a, Resources b) => a + b;

    public static Resources Subtract(Resources a, Resources b) => a - b;

    /// <summary>Component-wise maximum (the init-container rule of kube-scheduler).</summary>
    public static Resources Max(Resources a, Resources b) => new(
        Math.Max(a.CpuMilli, b.CpuMilli), Math.Max(a.Memory, b.Memory), Math.Max(a.Pods, b.Pods),
        Math.Max(a.EphemeralStorage, b.EphemeralStorage), Merge(a._extended, b._extended, static (x, y) => Math.Max(x, y)));

    /// <summary>Component-wise minimum over the resources both vectors name (missing extended resources count as zero).</summary>
    public static Resources Min(Resources a, Resources b) => new(
        Math.Min(a.CpuMilli, b.CpuMilli), Math.Min(a.Memory, b.Memory), Math.Min(a.Pods, b.Pods),
        Math.Min(a.EphemeralStorage, b.EphemeralStorage), Merge(a._extended, b._extended, static (x, y) => Math.Min(x, y)));

    /// <summary>True when every amount of this vector is at most the matching amount of <paramref name="capacity"/>.</summary>
    public bool FitsIn(Resources capacity)
    {
        if (CpuMilli > capacity.CpuMilli || Memory > capacity.Memory || Pods > capacity.Pods || EphemeralStorage > capacity.EphemeralStorage)
        {
            return false;
        }

        if (_extended is null)
        {
            return true;
        }

        foreach (var e in _extended)
        {
            if (e.Amount > capacity.FindExtended(e.Name))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The names of the resources for which this vector exceeds <paramref name="capacity"/>.</summary>
    public IEnumerable<string> Exceeding(Resources capacity)
    {
        var self = this;
        return Names.Where(n => self.Get(n) > capacity.Get(n));
    }

    /// <summary>True when some amount is negative (a capacity that was over-subtracted).</summary>
    public bool AnyNegative => CpuMilli < 0 || Memory < 0 || Pods < 0 || EphemeralStorage < 0 || (_extended?.Any(e => e.Amount < 0) ?? false);

    /// <summary>Reads a Kubernetes resource list (nulls and unparsable values are reported through <paramref name="errors"/>).</summary>
    public static Resources FromList(IDictionary<string, ResourceQuantity>? list, ICollection<string>? errors = null)
    {
        if (list is null || list.Count == 0)
        {
            return default;
        }

        var r = default(Resources);
        foreach (var (name, quantity) in list)
        {
            if (quantity is null || !Quantity.TryParse(quantity.ToString(), out var q))
            {
                errors?.Add($"resource {name} has an invalid quantity '{quantity}'");
                continue;
            }

            r = r.With(name, r.Get(name) + ToUnit(name, q));
        }

        return r;
    }

    /// <summary>Reads a map of resource name to quantity text (tests, catalogs).</summary>
    public static Resources Parse(IReadOnlyDictionary<string, string> list)
    {
        var r = default(Resources);
        foreach (var (name, text) in list)
        {
            r = r.With(name, r.Get(name) + ToUnit(name, Quantity.Parse(text)));
        }

        return r;
    }

    /// <summary>Converts an exact quantity into the scheduler unit of <paramref name="name"/>.</summary>
    public static long ToUnit(string name, Quantity q) => name == ResourceNames.Cpu ? q.MilliValueCeiling : q.ValueCeiling;

    /// <summary>The Kubernetes text of one resource amount (<c>1500m</c>, <c>4Gi</c>, <c>110</c>).</summary>
    public static string Format(string name, long amount)
    {
        if (name == ResourceNames.Cpu)
        {
            return amount % 1000 == 0 ? (amount / 1000).ToString(CultureInfo.InvariantCulture) : amount.ToString(CultureInfo.InvariantCulture) + "m";
        }

        if (amount != 0 && (name == ResourceNames.Memory || name == ResourceNames.EphemeralStorage || name.StartsWith("hugepages-", StringComparison.Ordinal)))
        {
            foreach (var (suffix, factor) in BinarySuffixes)
            {
                if (amount % factor == 0)
                {
                    return (amount / factor).ToString(CultureInfo.InvariantCulture) + suffix;
                }
            }
        }

        return amount.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A Kubernetes resource list holding the non-zero amounts.</summary>
    public Dictionary<string, ResourceQuantity> ToList()
    {
        var list = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        foreach (var name in Names)
        {
            list[name] = new ResourceQuantity(Format(name, Get(name)));
        }

        return list;
    }

    public bool Equals(Resources other) =>
        CpuMilli == other.CpuMilli && Memory == other.Memory && Pods == other.Pods && EphemeralStorage == other.EphemeralStorage &&
        (_extended ?? []).AsSpan().SequenceEqual(other._extended ?? []);

    public override bool Equals(object? obj) => obj is Resources r && Equals(r);

    public override int GetHashCode()
    {
        var h = HashCode.Combine(CpuMilli, Memory, Pods, EphemeralStorage);
        if (_extended is not null)
        {
            foreach (var e in _extended)
            {
                h = HashCode.Combine(h, e.Name, e.Amount);
            }
        }

        return h;
    }

    public static bool operator ==(Resources left, Resources right) => left.Equals(right);

    public static bool operator !=(Resources left, Resources right) => !left.Equals(right);

    public override string ToString()
    {
        var self = this;
        var sb = new StringBuilder("{");
        foreach (var name in Names)
        {
            if (sb.Length > 1)
            {
                sb.Append(", ");
            }

            sb.Append(name).Append(": ").Append(Format(name, self.Get(name)));
        }

        return sb.Append('}').ToString();
    }

    private static readonly (string Suffix, long Factor)[] BinarySuffixes =
        [("Ei", 1L << 60), ("Pi", 1L << 50), ("Ti", 1L << 40), ("Gi", 1L << 30), ("Mi", 1L << 20), ("Ki", 1L << 10)];

    private long FindExtended(string name)
    {
        if (_extended is null)
        {
            return 0;
        }

        foreach (var e in _extended)
        {
            if (string.Equals(e.Name, name, StringComparison.Ordinal))
            {
                return e.Amount;
            }
        }

        return 0;
    }

    private static Extended[] SetExtended(Extended[]? current, string name, long amount)
    {
        var list = new List<Extended>(current ?? []);
        var index = list.FindIndex(e => string.Equals(e.Name, name, StringComparison.Ordinal));
        if (index >= 0)
        {
            list.RemoveAt(index);
        }

        if (amount != 0)
        {
            list.Add(new Extended(name, amount));
        }

        list.Sort(static (x, y) => string.CompareOrdinal(x.Name, y.Name));
        return [.. list];
    }

    private static Extended[]? Merge(Extended[]? a, Extended[]? b, Func<long, long, long> op)
    {
        if (a is null && b is null)
        {
            return null;
        }

        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var e in a ?? [])
        {
            names.Add(e.Name);
        }

        foreach (var e in b ?? [])
        {
            names.Add(e.Name);
        }

        var result = new List<Extended>(names.Count);
        foreach (var name in names)
        {
            var va = Lookup(a, name);
            var vb = Lookup(b, name);
            var v = op(va, vb);
            if (v != 0)
            {
                result.Add(new Extended(name, v));
            }
        }

        return result.Count == 0 ? null : [.. result];
    }

    private static long Lookup(Extended[]? list, string name)
    {
        if (list is null)
        {
            return 0;
        }

        foreach (var e in list)
        {
            if (string.Equals(e.Name, name, StringComparison.Ordinal))
            {
                return e.Amount;
            }
        }

        return 0;
    }

    private static long Sat(Int128 v) => v > long.MaxValue ? long.MaxValue : v < long.MinValue ? long.MinValue : (long)v;

    private readonly record struct Extended(string Name, long Amount);
}
