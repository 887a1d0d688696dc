using System.Globalization;
using System.Text;
using k8s.Models;

namespace Karpenter.Core.Scheduling;

/// <summary>Node selector operators Karpenter accepts (Kubernetes' six plus Karpenter's <c>Gte</c> and <c>Lte</c>).</summary>
public static class Operators
{
    public const string In = "In";
    public const string NotIn = "NotIn";
    public const string Exists = "Exists";
    public const string DoesNotExist = "DoesNotExist";
    public const string Gt = "Gt";
    public const string Lt = "Lt";
    public const string Gte = "Gte";
    public const string Lte = "Lte";

    public static bool IsKnown(string? op) => op is In or NotIn or Exists or DoesNotExist or Gt or Lt or Gte or Lte;
}

/// <summary>
/// One label key's allowed states: a set of values plus whether the label may be absent. Finite sets come from
/// <c>In</c>; co-finite sets ("any value except …", optionally only integers within open bounds) from <c>NotIn</c>,
/// <c>Exists</c>, <c>Gt</c>, <c>Lt</c>, <c>Gte</c>, <c>Lte</c>. <c>NotIn</c> and <c>DoesNotExist</c> also admit an absent
/// label, as node selectors do. Every operation is exact set algebra over that model, so intersection is
/// commutative and associative, and <see cref="IsEmpty"/> is true exactly when no node could satisfy it.
/// Integer values follow Go's <c>strconv.Atoi</c> (optional sign, decimal digits); since "7", "07" and "+7" are all
/// the integer 7, a bounded range holding any integer is never empty.
/// </summary>
public sealed class Requirement : IEquatable<Requirement>
{
    private static readonly string[] NoValues = [];

    private readonly string[] _values; // sorted ordinal, distinct: members (finite) or exclusions (complement)
    private int _hash;

    private Requirement(string key, bool complement, string[] values, Int128? greaterThan, Int128? lessThan, bool allowsAbsent, int? minValues)
    {
        Key = key;
        Complement = complement;
        _values = values;
        GreaterThan = complement ? greaterThan : null;
        LessThan = complement ? lessThan : null;
        AllowsAbsent = allowsAbsent;
        MinValues = minValues;
    }

    public string Key { get; }

    /// <summary>True for "every value except <see cref="Values"/>" (within the bounds, if any).</summary>
    public bool Complement { get; }

    /// <summary>The members of a finite set, or the exclusions of a complement, sorted ordinally.</summary>
    public IReadOnlyList<string> Values => _values;

    /// <summary>Exclusive lower bound: only integer values above it (complements only).</summary>
    public Int128? GreaterThan { get; }

    /// <summary>Exclusive upper bound: only integer values below it (complements only).</summary>
    public Int128? LessThan { get; }

    /// <summary>True when a node without this label satisfies the requirement.</summary>
    public bool AllowsAbsent { get; }

    /// <summary>The minimum number of distinct values the instance types of a NodeClaim must offer for this key.</summary>
    public int? MinValues { get; }

    /// <summary>The requirement that constrains nothing: any value, or none.</summary>
    public static Requirement Any(string key) => new(key, true, NoValues, null, null, true, null);

    public static Requirement In(string key, params IEnumerable<string> values) => new(key, false, Normalize(values), null, null, false, null);

    public static Requirement NotIn(string key, params IEnumerable<string> values) => new(key, true, Normalize(values), null, null, true, null);

    public static Requirement Exists(string key) => new(key, true, NoValues, null, null, false, null);

    public static Requirement DoesNotExist(string key) => new(key, false, NoValues, null, null, true, null);

    public static Requirement Gt(string key, long value) => new(key, true, NoValues, value, null, false, null);

    public static Requirement Lt(string key, long value) => new(key, true, NoValues, null, value, false, null);

    public static Requirement Gte(string key, long value) => new(key, true, NoValues, (Int128)value - 1, null, false, null);

    public static Requirement Lte(string key, long value) => new(key, true, NoValues, null, (Int128)value + 1, false, null);

    /// <summary>
    /// Builds a requirement from an operator and its values. Returns null and an error for unknown operators, <c>In</c>
    /// without values, or numeric operators without exactly one integer value.
    /// </summary>
    public static Requirement? Create(string key, string? op, IList<string>? values, int? minValues, out string? error)
    {
        error = null;
        values ??= [];
        Requirement? r = op switch
        {
            Operators.In when values.Count > 0 => In(key, values),
            Operators.NotIn => NotIn(key, values),
            Operators.Exists => Exists(key),
            Operators.DoesNotExist => DoesNotExist(key),
            Operators.Gt or Operators.Lt or Operators.Gte or Operators.Lte when values.Count == 1 && TryParseInt(values[0], out var n) => op switch
            {
                Operators.Gt => Gt(key, n),
                Operators.Lt => Lt(key, n),
                Operators.Gte => Gte(key, n),
                _ => Lte(key, n),
            },
            _ => null,
        };
        if (r is null)
        {
            error = op switch
            {
                Operators.In => $"requirement {key} In needs at least one value",
                Operators.Gt or Operators.Lt or Operators.Gte or Operators.Lte => $"requirement {key} {op} needs exactly one integer value, got [{string.Join(", ", values)}]",
                _ => $"requirement {key} has unsupported operator '{op}'",
            };
            return null;
        }

        return minValues is null ? r : r.WithMinValues(minValues);
    }

    public Requirement WithMinValues(int? minValues) =>
        minValues == MinValues ? this : new(Key, Complement, _values, GreaterThan, LessThan, AllowsAbsent, minValues);

    /// <summary>True when <paramref name="value"/> is an allowed value.</summary>
    public bool Has(string value)
    {
        if (!Complement)
        {
            return Array.BinarySearch(_values, value, StringComparer.Ordinal) >= 0;
        }

        return Array.BinarySearch(_values, value, StringComparer.Ordinal) < 0 && WithinBounds(value);
    }

    /// <summary>True when no label value is allowed (the label may still be allowed to be absent).</summary>
    public bool HasNoValues => Complement ? GreaterThan is { } g && LessThan is { } l && g + 1 >= l : _values.Length == 0;

    /// <summary>True when no node at all can satisfy the requirement.</summary>
    public bool IsEmpty => HasNoValues && !AllowsAbsent;

    /// <summary>The number of allowed values; <see cref="int.MaxValue"/> for co-finite sets.</summary>
    public int Count => Complement ? (HasNoValues ? 0 : int.MaxValue) : _values.Length;

    /// <summary>One allowed value, when the set is finite and non-empty.</summary>
    public string? Any() => !Complement && _values.Length > 0 ? _values[0] : null;

    /// <summary>The exact set intersection.</summary>
    public Requirement Intersect(Requirement other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other))
        {
            return this;
        }

        var minValues = MaxNullable(MinValues, other.MinValues);
        var absent = AllowsAbsent && other.AllowsAbsent;
        if (Complement && other.Complement)
        {
            var gt = MaxNullable(GreaterThan, other.GreaterThan);
            var lt = MinNullable(LessThan, other.LessThan);
            var union = Union(_values, other._values);
            if (gt is not null || lt is not null)
            {
                union = Array.FindAll(union, v => Within(v, gt, lt));
            }

            return new Requirement(Key, true, union, gt, lt, absent, minValues);
        }

        string[] values;
        if (!Complement && !other.Complement)
        {
            values = IntersectSorted(_values, other._values);
        }
        else
        {
            var (finite, complement) = Complement ? (other, this) : (this, other);
            values = Array.FindAll(finite._values, complement.Has);
        }

        return new Requirement(Key, false, values, null, null, absent, minValues);
    }

    /// <summary>The operator that best describes this set (for messages and NodeClaim requirements).</summary>
    public string Operator()
    {
        if (!Complement)
        {
            return _values.Length > 0 ? Operators.In : Operators.DoesNotExist;
        }

        if (GreaterThan is not null)
        {
            return Operators.Gt;
        }

        if (LessThan is not null)
        {
            return Operators.Lt;
        }

        return AllowsAbsent ? Operators.NotIn : Operators.Exists;
    }

    /// <summary>The node selector requirements that express this set exactly (one or two entries, none for <see cref="Any(string)"/>).</summary>
    public IEnumerable<V1NodeSelectorRequirement> ToNodeSelectorRequirements()
    {
        if (!Complement)
        {
            yield return Selector(_values.Length > 0 ? Operators.In : Operators.DoesNotExist, _values.Length > 0 ? [.. _values] : null);
            yield break;
        }

        var bounded = GreaterThan is not null || LessThan is not null;
        if (GreaterThan is { } g)
        {
            yield return Selector(Operators.Gt, [g.ToString(CultureInfo.InvariantCulture)]);
        }

        if (LessThan is { } l)
        {
            yield return Selector(Operators.Lt, [l.ToString(CultureInfo.InvariantCulture)]);
        }

        if (_values.Length > 0)
        {
            yield return Selector(Operators.NotIn, [.. _values]);
            if (!AllowsAbsent && !bounded)
            {
                yield return Selector(Operators.Exists);
            }
        }
        else if (!AllowsAbsent && !bounded)
        {
            yield return Selector(Operators.Exists);
        }
    }

    private V1NodeSelectorRequirement Selector(string op, IList<string>? values = null) =>
        new() { Key = Key, OperatorProperty = op, Values = values };

    public bool Equals(Requirement? other) =>
        other is not null && (ReferenceEquals(this, other) ||
        (string.Equals(Key, other.Key, StringComparison.Ordinal) && Complement == other.Complement && AllowsAbsent == other.AllowsAbsent &&
         GreaterThan == other.GreaterThan && LessThan == other.LessThan && MinValues == other.MinValues &&
         _values.AsSpan().SequenceEqual(other._values)));

    public override bool Equals(object? obj) => Equals(obj as Requirement);

    public override int GetHashCode()
    {
        if (_hash != 0)
        {
            return _hash;
        }

        var h = new HashCode();
        h.Add(Key, StringComparer.Ordinal);
        h.Add(Complement);
        h.Add(AllowsAbsent);
        h.Add(GreaterThan);
        h.Add(LessThan);
        h.Add(MinValues);
        foreach (var v in _values)
        {
            h.Add(v, StringComparer.Ordinal);
        }

        var hash = h.ToHashCode();
        _hash = hash == 0 ? 1 : hash;
        return _hash;
    }

    public override string ToString()
    {
        var sb = new StringBuilder(Key).Append(' ');
        if (!Complement)
        {
            sb.Append(_values.Length > 0 ? "In [" + string.Join(", ", _values) + "]" : "DoesNotExist");
        }
        else
        {
            var parts = new List<string>();
            if (GreaterThan is { } g)
            {
                parts.Add("Gt " + g.ToString(CultureInfo.InvariantCulture));
            }

            if (LessThan is { } l)
            {
                parts.Add("Lt " + l.ToString(CultureInfo.InvariantCulture));
            }

            if (_values.Length > 0)
            {
                parts.Add("NotIn [" + string.Join(", ", _values) + "]");
            }

            if (parts.Count == 0)
            {
                parts.Add(AllowsAbsent ? "Any" : "Exists");
            }
            else if (!AllowsAbsent && GreaterThan is null && LessThan is null)
            {
                parts.Add("Exists");
            }

            sb.Append(string.Join(" and ", parts));
        }

        if (MinValues is { } m)
        {
            sb.Append(" minValues ").Append(m);
        }

        return sb.ToString();
    }

    /// <summary>Go <c>strconv.Atoi</c> semantics: optional sign, ASCII decimal digits, 64-bit range.</summary>
    public static bool TryParseInt(string value, out long result) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result);

    private bool WithinBounds(string value) => Within(value, GreaterThan, LessThan);

    private static bool Within(string value, Int128? gt, Int128? lt)
    {
        if (gt is null && lt is null)
        {
            return true;
        }

        if (!TryParseInt(value, out var n))
        {
            return false;
        }

        return (gt is not { } g || n > g) && (lt is not { } l || n < l);
    }

    private static string[] Normalize(IEnumerable<string> values)
    {
        var array = values.Where(v => v is not null).Distinct(StringComparer.Ordinal).ToArray();
        Array.Sort(array, StringComparer.Ordinal);
        return array;
    }

    private static string[] Union(string[] a, string[] b)
    {
        if (a.Length == 0)
        {
            return b;
        }

        if (b.Length == 0)
        {
            return a;
        }

        var result = new List<string>(a.Length + b.Length);
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            var c = i == a.Length ? 1 : j == b.Length ? -1 : string.CompareOrdinal(a[i], b[j]);
            if (c <= 0)
            {
                result.Add(a[i++]);
                if (c == 0)
                {
                    j++;
                }
            }
            else
            {
                result.Add(b[j++]);
            }
        }

        return [.. result];
    }

    private static string[] IntersectSorted(string[] a, string[] b)
    {
        var result = new List<string>(Math.Min(a.Length, b.Length));
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            var c = string.CompareOrdinal(a[i], b[j]);
            if (c == 0)
            {
                result.Add(a[i]);
                i++;
                j++;
            }
            else if (c < 0)
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return result.Count == 0 ? NoValues : [.. result];
    }

    private static T? MaxNullable<T>(T? a, T? b)
        where T : struct, IComparable<T> => a is null ? b : b is null ? a : a.Value.CompareTo(b.Value) >= 0 ? a : b;

    private static T? MinNullable<T>(T? a, T? b)
        where T : struct, IComparable<T> => a is null ? b : b is null ? a : a.Value.CompareTo(b.Value) <= 0 ? a : b;
}
