using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Json;

namespace Karpenter.Sim.KubeApi.Storage;

/// <summary>
/// One persisted revision of an object: its serialized form (what GET, LIST and WATCH write verbatim) plus the
/// values selectors need, extracted once at write time so that filtering 50,000 objects never parses JSON.
/// Immutable; a write creates a new instance.
/// </summary>
internal sealed class StoredObject
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    private StoredObject(string ns, string name, string uid, long resourceVersion, byte[] json,
        IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string> fields, bool deleting)
    {
        Namespace = ns;
        Name = name;
        Uid = uid;
        ResourceVersion = resourceVersion;
        Json = json;
        Labels = labels;
        Fields = fields;
        Deleting = deleting;
    }

    /// <summary>Empty for cluster-scoped objects.</summary>
    public string Namespace { get; }

    public string Name { get; }

    public string Uid { get; }

    public long ResourceVersion { get; }

    public byte[] Json { get; }

    public IReadOnlyDictionary<string, string> Labels { get; }

    /// <summary>The resource's selectable field values (besides name and namespace).</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    public bool Deleting { get; }

    public string Key => KeyOf(Namespace, Name);

    public static string KeyOf(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : ns + "/" + name;

    public JsonObject ToJson() => KubeJson.ParseObject(Json);

    public string? FieldValue(string field) => field switch
    {
        "metadata.name" => Name,
        "metadata.namespace" => Namespace,
        _ => Fields.TryGetValue(field, out var value) ? value : null,
    };

    /// <summary>Stamps <paramref name="resourceVersion"/> into <paramref name="obj"/> and freezes it.</summary>
    public static StoredObject Create(JsonObject obj, long resourceVersion, Func<JsonObject, IReadOnlyDictionary<string, string>> fields)
    {
        var metadata = obj.GetOrAddObject("metadata");
        metadata["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture);
        IReadOnlyDictionary<string, string> labels = NoLabels;
        if (metadata["labels"] is JsonObject labelObject && labelObject.Count > 0)
        {
            var copy = new Dictionary<string, string>(labelObject.Count, StringComparer.Ordinal);
            foreach (var (key, value) in labelObject)
            {
                copy[key] = value is JsonValue v && value.IsString() ? v.GetValue<string>() : "";
            }

            labels = copy;
        }

        return new StoredObject(
            metadata.GetString("namespace") ?? "",
            metadata.GetString("name") ?? "",
            metadata.GetString("uid") ?? "",
            resourceVersion,
            KubeJson.ToBytes(obj),
            labels,
            fields(obj),
            metadata["deletionTimestamp"] is not null);
    }

    /// <summary>The same object re-stamped with another resourceVersion (DELETED events carry the deletion revision).</summary>
    public StoredObject WithResourceVersion(long resourceVersion)
    {
        var obj = ToJson();
        obj.GetOrAddObject("metadata")["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture);
        return new StoredObject(Namespace, Name, Uid, resourceVersion, KubeJson.ToBytes(obj), Labels, Fields, Deleting);
    }
}
