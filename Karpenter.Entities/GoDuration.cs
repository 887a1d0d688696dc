using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Karpenter.Entities;

/// <summary>
/// Durations as Go's <c>time.ParseDuration</c> reads them and <c>time.Duration.String()</c> writes them
/// (<c>"1h30m"</c>, <c>"720h0m0s"</c>, <c>"1.5h"</c>, <c>"300ms"</c>), which is how Karpenter's API spells
/// <c>expireAfter</c>, <c>consolidateAfter</c>, <c>terminationGracePeriod</c> and budget durations.
/// </summary>
public static class GoDuration
{
    /// <summary>The value of a "nillable" duration that means "no limit".</summary>
    public const string Never = "Never";

    private static readonly (string Unit, decimal Ticks)[] Units =
    [
        ("ns", 0.01m), ("us", 10m), ("µs", 10m), ("μs", 10m), ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond), ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
    ];

    /// <summary>Parses a Go duration; false (with a reason) when Go would reject it.</summary>
    public static bool TryParse(string? text, out TimeSpan duration, [NotNullWhen(false)] out string? error)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text))
        {
            error = "invalid duration \"\": empty";
            return false;
        }

        var s = text.AsSpan();
        var negative = false;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s is "0")
        {
            error = null;
            return true;
        }

        if (s.IsEmpty)
        {
            error = $"invalid duration \"{text}\"";
            return false;
        }

        decimal ticks = 0;
        while (!s.IsEmpty)
        {
            var digits = 0;
            while (digits < s.Length && (char.IsAsciiDigit(s[digits]) || s[digits] == '.'))
            {
                digits++;
            }

            if (digits == 0 || !decimal.TryParse(s[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || s[..digits] is ".")
            {
                error = $"invalid duration \"{text}\"";
                return false;
            }

            s = s[digits..];
            var unitLength = 0;
            while (unitLength < s.Length && !char.IsAsciiDigit(s[unitLength]) && s[unitLength] != '.')
            {
                unitLength++;
            }

            if (unitLength == 0)
            {
                error = $"missing unit in duration \"{text}\"";
                return false;
            }

            var unit = s[..unitLength].ToString();
            var match = Array.Find(Units, u => u.Unit == unit);
            if (match.Unit is null)
            {
                error = $"unknown unit \"{unit}\" in duration \"{text}\"";
                return false;
            }

            ticks += number * match.Ticks;
            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                error = $"invalid duration \"{text}\": out of range";
                return false;
            }

            s = s[unitLength..];
        }

        duration = TimeSpan.FromTicks((long)decimal.Truncate(negative ? -ticks : ticks));
        error = null;
        return true;
    }

    /// <summary>Parses a Go duration or throws <see cref="FormatException"/> with Go's message.</summary>
    public static TimeSpan Parse(string text) =>
        TryParse(text, out var duration, out var error) ? duration : throw new FormatException(error);

    /// <summary>
    /// Parses a nillable duration: <c>Never</c> is null (no limit). False with a reason when it is neither.
    /// </summary>
    public static bool TryParseNillable(string? text, out TimeSpan? duration, [NotNullWhen(false)] out string? error)
    {
        if (text == Never)
        {
            duration = null;
            error = null;
            return true;
        }

        var ok = TryParse(text, out var value, out error);
        duration = ok ? value : null;
        return ok;
    }

    /// <summary>Writes a duration as Go's <c>Duration.String()</c> does: <c>720h0m0s</c>, <c>1m30s</c>, <c>1.5s</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }

        var builder = new StringBuilder();
        var ticks = duration.Ticks;
        if (ticks < 0)
        {
            builder.Append('-');
            ticks = -ticks;
        }

        if (ticks < TimeSpan.TicksPerSecond)
        {
            // Below a second Go picks the largest unit that keeps the integer part non-zero.
            var (unit, perUnit) = ticks >= TimeSpan.TicksPerMillisecond ? ("ms", TimeSpan.TicksPerMillisecond)
                : ticks >= 10 ? ("µs", 10L) : ("ns", 0L);
            if (perUnit == 0)
            {
                return builder.Append(ticks * 100).Append("ns").ToString();
            }

            return builder.Append(Fraction(ticks, perUnit)).Append(unit).ToString();
        }

        var hours = ticks / TimeSpan.TicksPerHour;
        ticks -= hours * TimeSpan.TicksPerHour;
        var minutes = ticks / TimeSpan.TicksPerMinute;
        ticks -= minutes * TimeSpan.TicksPerMinute;
        if (hours > 0)
        {
            builder.Append(hours).Append('h');
        }

        if (hours > 0 || minutes > 0)
        {
            builder.Append(minutes).Append('m');
        }

        return builder.Append(Fraction(ticks, TimeSpan.TicksPerSecond)).Append('s').ToString();
    }

    private static string Fraction(long ticks, long perUnit)
    {
        var whole = ticks / perUnit;
        var rest = ticks % perUnit;
        if (rest == 0)
        {
            return whole.ToString(CultureInfo.InvariantCulture);
        }

        var digits = perUnit.ToString(CultureInfo.InvariantCulture).Length - 1;
        var fraction = rest.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0');
        return $"{whole}.{fraction}";
    }
}
