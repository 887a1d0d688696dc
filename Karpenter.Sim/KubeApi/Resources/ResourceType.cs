using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Schema;
using Karpenter.Sim.KubeApi.Strategies;

namespace Karpenter.Sim.KubeApi.Resources;

/// <summary>
/// Converts objects between the form a resource is stored in and one of the versions (or groups) it is
/// served at: CR versions through the CRD's conversion strategy, events.k8s.io/v1 Events as a view of core
/// Events.
/// </summary>
internal interface IObjectConverter
{
    Task<JsonObject> ToStorageAsync(JsonObject obj, CancellationToken ct);

    Task<IReadOnlyList<JsonObject>> FromStorageAsync(IReadOnlyList<JsonObject> objects, CancellationToken ct);

    /// <summary>Maps a field-selector label of this view to the storage form's label (null = not supported).</summary>
    string? StorageFieldLabel(string label) => label;
}

/// <summary>One group/version/resource served by the emulator, with the behaviour of its registry strategy.</summary>
internal sealed class ResourceType
{
    public required string Group { get; init; }

    public required string Version { get; init; }

    public required string Plural { get; init; }

    public required string Singular { get; init; }

    public required string Kind { get; init; }

    public string ListKind { get; init; } = "";

    public required bool Namespaced { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Identifies the storage shared by all views of this resource (<c>pods</c>, <c>nodepools.karpenter.sh</c>).</summary>
    public required string StorageId { get; init; }

    public required ResourceStrategy Strategy { get; init; }

    /// <summary>The Go-struct shape of a built-in type; null for custom resources.</summary>
    public SchemaNode? BuiltinSchema { get; init; }

    /// <summary>Null when this view is the storage form.</summary>
    public IObjectConverter? Converter { get; init; }

    /// <summary>The custom resource definition behind this type, if any.</summary>
    public CustomResourceInfo? Custom { get; init; }

    /// <summary>Field-selector labels this type supports besides <c>metadata.name</c> and <c>metadata.namespace</c>.</summary>
    public IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; init; } =
        new Dictionary<string, Func<JsonObject, string?>>();

    /// <summary>Legacy field labels rewritten before evaluation (<c>spec.host</c> → <c>spec.nodeName</c>).</summary>
    public IReadOnlyDictionary<string, string> FieldLabelAliases { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> Verbs { get; init; } =
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    /// <summary>Subresources served (<c>status</c>, <c>binding</c>, <c>eviction</c>, <c>scale</c>).</summary>
    public IReadOnlySet<string> Subresources { get; init; } = new HashSet<string>();

    public bool IsCustom => Custom is not null;

    public bool HasStatus => Subresources.Contains("status");

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public string EffectiveListKind => ListKind.Length > 0 ? ListKind : Kind + "List";

    /// <summary><c>pods</c>, <c>leases.coordination.k8s.io</c>: the qualifier of NotFound/Conflict messages.</summary>
    public string GroupResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary><c>Pod</c>, <c>NodePool.karpenter.sh</c>: the qualifier of Invalid messages.</summary>
    public string QualifiedKind => Group.Length == 0 ? Kind : $"{Kind}.{Group}";

    public override string ToString() => $"{ApiVersion}/{Plural}";
}
