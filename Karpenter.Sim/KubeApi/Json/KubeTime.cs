using System.Globalization;

namespace Karpenter.Sim.KubeApi.Json;

/// <summary>
/// The two timestamp encodings of the API: <c>metav1.Time</c> (RFC 3339, whole seconds) and
/// <c>metav1.MicroTime</c> (six fractional digits).
/// </summary>
internal static class KubeTime
{
    public static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string FormatMicro(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static bool TryParse(string value, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time) && value.Length >= 20 &&
        value[10] is 'T' or 't';

    /// <summary>Re-encodes a client timestamp as a real server stores a <c>metav1.Time</c> (fraction dropped).</summary>
    public static string? NormalizeTime(string value) => TryParse(value, out var t) ? Format(t) : null;

    public static string? NormalizeMicroTime(string value) => TryParse(value, out var t) ? FormatMicro(t) : null;
}
