using System.Globalization;
using System.Text.RegularExpressions;

namespace Karpenter.Aws.InstanceTypes;

/// <summary>Parses Kubernetes resource quantities (<c>100m</c>, <c>1Gi</c>, <c>2e3</c>, <c>1.5G</c>) into their value in base units.</summary>
internal static partial class Quantity
{
    [GeneratedRegex("^(?<n>[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+))(?<s>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out decimal value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var match = Pattern().Match(text.Trim());
        if (!match.Success || !decimal.TryParse(match.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            return false;
        }
        var suffix = match.Groups["s"].Value;
        decimal multiplier = suffix switch
        {
            "" => 1m,
            "n" => 1e-9m,
            "u" => 1e-6m,
            "m" => 1e-3m,
            "k" => 1e3m,
            "M" => 1e6m,
            "G" => 1e9m,
            "T" => 1e12m,
            "P" => 1e15m,
            "E" => 1e18m,
            "Ki" => 1024m,
            "Mi" => 1024m * 1024,
            "Gi" => 1024m * 1024 * 1024,
            "Ti" => 1024m * 1024 * 1024 * 1024,
            "Pi" => 1024m * 1024 * 1024 * 1024 * 1024,
            "Ei" => 1024m * 1024 * 1024 * 1024 * 1024 * 1024,
            _ => Pow10(int.Parse(suffix[1..], CultureInfo.InvariantCulture)),
        };
        value = n * multiplier;
        return true;
    }

    public static decimal Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not a Kubernetes quantity like 100m, 1Gi or 2");

    private static decimal Pow10(int exponent)
    {
        var result = 1m;
        for (var i = 0; i < Math.Abs(exponent); i++)
        {
            result = exponent > 0 ? result * 10 : result / 10;
        }
        return result;
    }
}
