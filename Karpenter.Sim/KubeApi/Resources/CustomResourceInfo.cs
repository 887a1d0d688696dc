using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Schema;

namespace Karpenter.Sim.KubeApi.Resources;

/// <summary>What a served custom resource version knows about the CRD that defines it.</summary>
internal sealed class CustomResourceInfo
{
    /// <summary><c>&lt;plural&gt;.&lt;group&gt;</c>.</summary>
    public required string CrdName { get; init; }

    public required string StorageVersion { get; init; }

    /// <summary>The version discovery advertises as preferred (highest priority served version).</summary>
    public required string PreferredVersion { get; init; }

    /// <summary>This version's structural schema.</summary>
    public required StructuralSchema Schema { get; init; }

    /// <summary>This version's <c>additionalPrinterColumns</c> (empty: Name and Age).</summary>
    public JsonArray PrinterColumns { get; init; } = [];

    /// <summary>The CRD has a deletionTimestamp: its objects are being removed and creates are refused.</summary>
    public bool Terminating { get; init; }

    /// <summary>The CRD's <c>spec.versions[].selectableFields</c> JSON paths (e.g. <c>.spec.color</c>).</summary>
    public IReadOnlyList<string> SelectableFields { get; init; } = [];
}
