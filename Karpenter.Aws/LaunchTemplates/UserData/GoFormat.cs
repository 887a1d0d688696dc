using System.Globalization;
using System.Text;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>The few Go formatting conventions the upstream user data relies on, reproduced so that output matches byte for byte.</summary>
internal static class GoFormat
{
    /// <summary>Go's <c>strconv.Quote</c> for the printable ASCII that labels and kubelet values consist of.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Go's <c>time.Duration.String()</c>: <c>1m0s</c>, <c>1h30m0s</c>, <c>1.5s</c>, <c>500ms</c>, <c>0s</c>.</summary>
    public static string Duration(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }
        var negative = value < TimeSpan.Zero;
        var ticks = Math.Abs(value.Ticks);
        var sb = new StringBuilder();
        if (negative)
        {
            sb.Append('-');
        }
        if (ticks < TimeSpan.TicksPerSecond)
        {
            var ns = ticks * 100;
            return sb.Append(ns >= 1_000_000 ? Trim(ns / 1e6) + "ms" : ns >= 1_000 ? Trim(ns / 1e3) + "µs" : ns + "ns").ToString();
        }
        var hours = ticks / TimeSpan.TicksPerHour;
        ticks -= hours * TimeSpan.TicksPerHour;
        var minutes = ticks / TimeSpan.TicksPerMinute;
        ticks -= minutes * TimeSpan.TicksPerMinute;
        if (hours > 0)
        {
            sb.Append(hours).Append('h');
        }
        if (hours > 0 || minutes > 0)
        {
            sb.Append(minutes).Append('m');
        }
        return sb.Append(Trim(ticks / (double)TimeSpan.TicksPerSecond)).Append('s').ToString();
    }

    private static string Trim(double value) => value.ToString("0.#########", CultureInfo.InvariantCulture);

    /// <summary>A kubelet duration as written in the NodeClass, re-printed as Go prints a <c>metav1.Duration</c>.</summary>
    public static string NormalizeDuration(string value)
    {
        try
        {
            return Duration(GoDuration.Parse(value));
        }
        catch (FormatException e)
        {
            throw new UserDataException($"kubelet duration '{value}' is not valid: {e.Message}", e);
        }
    }
}
