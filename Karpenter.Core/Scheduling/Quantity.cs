using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Karpenter.Core.Scheduling;

/// <summary>
/// An exact Kubernetes resource quantity (<c>1500m</c>, <c>2Gi</c>, <c>1e3</c>, <c>0.5</c>), held as a whole number of
/// nano-units, which is the finest precision Kubernetes keeps (finer values round up, as the API server does).
/// No floating point is involved anywhere, so sums of thousands of requests never drift.
/// </summary>
public readonly record struct Quantity : IComparable<Quantity>
{
    private const long NanoPerUnit = 1_000_000_000;
    private const long NanoPerMilli = 1_000_000;

    private Quantity(Int128 nanos) => Nanos = nanos;

    /// <summary>The value in units of 10^-9.</summary>
    public Int128 Nanos { get; }

    public static Quantity Zero => default;

    public static Quantity FromMilli(long milli) => new((Int128)milli * NanoPerMilli);

    public static Quantity FromValue(long value) => new((Int128)value * NanoPerUnit);

    /// <summary>The value in thousandths, rounded up (how kube-scheduler reads CPU), saturating at <see cref="long.MaxValue"/>.</summary>
    public long MilliValueCeiling => Saturate(CeilDiv(Nanos, NanoPerMilli));

    /// <summary>The value in whole units, rounded up (how kube-scheduler reads memory, pods and extended resources).</summary>
    public long ValueCeiling => Saturate(CeilDiv(Nanos, NanoPerUnit));

    public int CompareTo(Quantity other) => Nanos.CompareTo(other.Nanos);

    public static bool operator <(Quantity a, Quantity b) => a.Nanos < b.Nanos;

    public static bool operator >(Quantity a, Quantity b) => a.Nanos > b.Nanos;

    public static bool operator <=(Quantity a, Quantity b) => a.Nanos <= b.Nanos;

    public static bool operator >=(Quantity a, Quantity b) => a.Nanos >= b.Nanos;

    public static Quantity operator +(Quantity a, Quantity b) => new(a.Nanos + b.Nanos);

    public static Quantity operator -(Quantity a, Quantity b) => new(a.Nanos - b.Nanos);

    public static Quantity Add(Quantity a, Quantity b) => a + b;

    public static Quantity Subtract(Quantity a, Quantity b) => a - b;

    /// <summary>Parses the Kubernetes quantity syntax; throws <see cref="FormatException"/> with the offending text.</summary>
    public static Quantity Parse(string text) =>
        TryParse(text, out var q) ? q : throw new FormatException($"'{text}' is not a valid Kubernetes quantity");

    /// <summary>
    /// Parses <c>&lt;signed number&gt;&lt;suffix&gt;</c> where the suffix is a binary SI suffix (Ki…Ei), a decimal SI
    /// suffix (n, u, m, "", k, M, G, T, P, E) or a decimal exponent (e3, E-2).
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Quantity quantity)
    {
        quantity = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.AsSpan().Trim();
        var negative = false;
        if (s[0] is '+' or '-')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        // Mantissa: digits with at most one dot, at least one digit.
        var i = 0;
        Int128 mantissa = 0;
        var fractionDigits = 0;
        var digits = 0;
        var seenDot = false;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '.')
            {
                if (seenDot)
                {
                    return false;
                }

                seenDot = true;
                continue;
            }

            if (c is < '0' or > '9')
            {
                break;
            }

            // Leading zeros cost nothing; beyond 30 significant digits the value cannot be a real quantity.
            if (mantissa != 0 || c != '0')
            {
                digits++;
                if (digits > 30)
                {
                    return false;
                }
            }

            mantissa = (mantissa * 10) + (c - '0');
            if (seenDot)
            {
                fractionDigits++;
            }
        }

        if (i == 0 || (i == 1 && seenDot))
        {
            return false;
        }

        var suffix = s[i..];
        var decimalExponent = 0;
        var binaryExponent = 0;
        switch (suffix)
        {
            case "": break;
            case "n": decimalExponent = -9; break;
            case "u": decimalExponent = -6; break;
            case "m": decimalExponent = -3; break;
            case "k": decimalExponent = 3; break;
            case "M": decimalExponent = 6; break;
            case "G": decimalExponent = 9; break;
            case "T": decimalExponent = 12; break;
            case "P": decimalExponent = 15; break;
            case "E": decimalExponent = 18; break;
            case "Ki": binaryExponent = 10; break;
            case "Mi": binaryExponent = 20; break;
            case "Gi": binaryExponent = 30; break;
            case "Ti": binaryExponent = 40; break;
            case "Pi": binaryExponent = 50; break;
            case "Ei": binaryExponent = 60; break;
            default:
                if (suffix[0] is not ('e' or 'E') ||
                    !int.TryParse(suffix[1..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out decimalExponent) ||
                    decimalExponent is > 30 or < -30)
                {
                    return false;
                }

                break;
        }

        // value = mantissa * 10^(decimalExponent - fractionDigits) * 2^binaryExponent, expressed in nano-units.
        var scale = decimalExponent - fractionDigits + 9;
        Int128 nanos;
        try
        {
            checked
            {
                nanos = mantissa << binaryExponent;
                if (binaryExponent > 0 && (nanos >> binaryExponent) != mantissa)
                {
                    return false;
                }

                if (scale >= 0)
                {
                    if (scale > 38)
                    {
                        return nanos == 0 && Assign(out quantity, 0);
                    }

                    nanos *= Pow10(scale);
                }
                else
                {
                    nanos = -scale > 38 ? (nanos == 0 ? 0 : 1) : CeilDiv(nanos, Pow10(-scale));
                }
            }
        }
        catch (OverflowException)
        {
            return false;
        }

        quantity = new Quantity(negative ? -nanos : nanos);
        return true;
    }

    /// <summary>The canonical text: whole units when exact, else milli, else nano.</summary>
    public override string ToString()
    {
        if (Nanos % NanoPerUnit == 0)
        {
            return (Nanos / NanoPerUnit).ToString(CultureInfo.InvariantCulture);
        }

        return Nanos % NanoPerMilli == 0
            ? (Nanos / NanoPerMilli).ToString(CultureInfo.InvariantCulture) + "m"
            : Nanos.ToString(CultureInfo.InvariantCulture) + "n";
    }

    private static bool Assign(out Quantity q, Int128 nanos)
    {
        q = new Quantity(nanos);
        return true;
    }

    private static Int128 Pow10(int exponent)
    {
        Int128 result = 1;
        for (var k = 0; k < exponent; k++)
        {
            result = checked(result * 10);
        }

        return result;
    }

    private static Int128 CeilDiv(Int128 value, Int128 divisor)
    {
        var q = Int128.DivRem(value, divisor);
        return q.Remainder > 0 ? q.Quotient + 1 : q.Quotient;
    }

    private static long Saturate(Int128 value) =>
        value > long.MaxValue ? long.MaxValue : value < long.MinValue ? long.MinValue : (long)value;
}
