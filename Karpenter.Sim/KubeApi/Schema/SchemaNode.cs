namespace Karpenter.Sim.KubeApi.Schema;

internal enum SchemaKind
{
    /// <summary>Any JSON value (RawExtension, JSON, preserve-unknown-fields).</summary>
    Any,
    Object,
    Map,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    IntOrString,
    Quantity,
    Time,
    MicroTime,
    Bytes,
}

/// <summary>
/// The shape of a built-in type as the Go structs of kube-apiserver define it, derived from the
/// KubernetesClient models: which fields exist (for pruning and unknown-field errors), their JSON types
/// (for decode errors), timestamp precision and quantity canonicalisation, and the strategic-merge-patch
/// metadata (<c>patchStrategy</c>/<c>patchMergeKey</c>) of list fields.
/// </summary>
internal sealed class SchemaNode
{
    public SchemaNode(SchemaKind kind, string goType)
    {
        Kind = kind;
        GoType = goType;
    }

    public SchemaKind Kind { get; }

    /// <summary>The Go type name used in decode errors: <c>string</c>, <c>int32</c>, <c>[]v1.Container</c>.</summary>
    public string GoType { get; }

    /// <summary>For objects: the Go struct name (<c>PodSpec</c>) that prefixes field paths in decode errors.</summary>
    public string? GoStruct { get; init; }

    public Dictionary<string, SchemaNode> Properties { get; } = new(StringComparer.Ordinal);

    /// <summary>Array items or map values.</summary>
    public SchemaNode? Items { get; set; }

    /// <summary>Strategic merge patch strategy of this list or map field: <c>merge</c>, <c>retainKeys</c>, or null (replace).</summary>
    public string? PatchStrategy { get; set; }

    public string? PatchMergeKey { get; set; }
}
