using Karpenter.Core.Scheduling;

namespace Karpenter.Core;

/// <summary>
/// Cloud-neutral settings under upstream's names (<c>PREFERENCE_POLICY</c>, <c>MIN_VALUES_POLICY</c>, <c>FEATURE_GATES</c>),
/// bound by the operator's composition root and read by the provisioner and disruption through <c>IOptions</c>.
/// </summary>
public sealed class KarpenterOptions
{
    /// <summary><c>PREFERENCE_POLICY</c>: <see cref="PreferencePolicy.Respect"/> (default) or <see cref="PreferencePolicy.Ignore"/>.</summary>
    public PreferencePolicy PreferencePolicy { get; set; } = PreferencePolicy.Respect;

    /// <summary><c>MIN_VALUES_POLICY</c>: <see cref="MinValuesPolicy.Strict"/> (default) or <see cref="MinValuesPolicy.BestEffort"/>.</summary>
    public MinValuesPolicy MinValuesPolicy { get; set; } = MinValuesPolicy.Strict;

    /// <summary><c>FEATURE_GATES</c>.</summary>
    public FeatureGates FeatureGates { get; set; } = new();
}

/// <summary>
/// Upstream's feature gates with upstream's defaults (<c>NodeRepair=false,ReservedCapacity=true,SpotToSpotConsolidation=false,
/// NodeOverlay=false,StaticCapacity=false,CapacityBuffer=false</c>).
/// </summary>
public sealed record FeatureGates
{
    /// <summary>The gate names as upstream spells them, for parsing and messages.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["NodeRepair", "ReservedCapacity", "SpotToSpotConsolidation", "NodeOverlay", "StaticCapacity", "CapacityBuffer"];

    public bool NodeRepair { get; init; }

    public bool ReservedCapacity { get; init; } = true;

    public bool SpotToSpotConsolidation { get; init; }

    public bool NodeOverlay { get; init; }

    public bool StaticCapacity { get; init; }

    public bool CapacityBuffer { get; init; }

    /// <summary>
    /// Parses <c>Name=true,Other=false</c> over these defaults. Unknown names and values other than true/false are refused
    /// with a message naming the known gates, because a misspelt gate silently ignored is a surprise in production.
    /// </summary>
    public static FeatureGates Parse(string? text)
    {
        var gates = new FeatureGates();
        if (string.IsNullOrWhiteSpace(text))
        {
            return gates;
        }

        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq].Trim();
            var raw = eq < 0 ? "" : part[(eq + 1)..].Trim();
            if (!bool.TryParse(raw, out var on))
            {
                throw new FormatException($"FEATURE_GATES: '{part}' must be Name=true or Name=false");
            }

            gates = name switch
            {
                "NodeRepair" => gates with { NodeRepair = on },
                "ReservedCapacity" => gates with { ReservedCapacity = on },
                "SpotToSpotConsolidation" => gates with { SpotToSpotConsolidation = on },
                "NodeOverlay" => gates with { NodeOverlay = on },
                "StaticCapacity" => gates with { StaticCapacity = on },
                "CapacityBuffer" => gates with { CapacityBuffer = on },
                _ => throw new FormatException($"FEATURE_GATES: unknown gate '{name}'; known gates: {string.Join(", ", Names)}"),
            };
        }

        return gates;
    }

    public override string ToString() =>
        $"NodeRepair={NodeRepair},ReservedCapacity={ReservedCapacity},SpotToSpotConsolidation={SpotToSpotConsolidation}," +
        $"NodeOverlay={NodeOverlay},StaticCapacity={StaticCapacity},CapacityBuffer={CapacityBuffer}";
}
