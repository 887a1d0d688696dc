using System.Globalization;
using System.Text.RegularExpressions;

namespace Karpenter.Aws;

/// <summary>Parses durations written the way upstream's flags take them (Go's <c>time.ParseDuration</c>: <c>90s</c>, <c>1m</c>, <c>1h30m</c>, <c>250ms</c>).</summary>
internal static partial class GoDuration
{
    [GeneratedRegex("^(?<n>[0-9]+(\\.[0-9]+)?)(?<u>ns|us|µs|ms|s|m|h)")]
    private static partial Regex Part();

    public static TimeSpan Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var rest = value.Trim();
        if (rest == "0")
        {
            return TimeSpan.Zero;
        }
        if (rest.Length == 0)
        {
            throw new FormatException("an empty duration");
        }
        var total = TimeSpan.Zero;
        while (rest.Length > 0)
        {
            var match = Part().Match(rest);
            if (!match.Success)
            {
                throw new FormatException($"'{value}' is not a duration like 90s, 5m or 1h30m");
            }
            var n = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            total += match.Groups["u"].Value switch
            {
                "ns" => TimeSpan.FromTicks((long)(n / 100)),
                "us" or "µs" => TimeSpan.FromTicks((long)(n * 10)),
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                _ => TimeSpan.FromHours(n),
            };
            rest = rest[match.Length..];
        }
        return total;
    }
}
