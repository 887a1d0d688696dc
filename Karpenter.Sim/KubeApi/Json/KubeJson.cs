using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Karpenter.Sim.KubeApi.Json;

/// <summary>JSON conventions of the emulator: compact output, relaxed escaping, Go-style quoting in messages.</summary>
internal static class KubeJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    public static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };

    public static byte[] ToBytes(JsonNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            node.WriteTo(writer, Options);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static string ToJsonString(JsonNode node) => node.ToJsonString(Options);

    public static JsonObject ParseObject(ReadOnlySpan<byte> json) =>
        JsonNode.Parse(json, NodeOptions, new JsonDocumentOptions { MaxDepth = 10_000 })!.AsObject();

    /// <summary>Go's <c>strconv.Quote</c>, as used by <c>%q</c> in apimachinery messages.</summary>
    public static string GoQuote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < 0x20 or 0x7f:
                    sb.Append("\\x").Append(rune.Value.ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(rune.ToString());
                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    public static string? GetString(this JsonObject obj, string property) =>
        obj.TryGetPropertyValue(property, out var node) && node is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : null;

    public static JsonObject? GetObject(this JsonObject obj, string property) =>
        obj.TryGetPropertyValue(property, out var node) ? node as JsonObject : null;

    public static JsonArray? GetArray(this JsonObject obj, string property) =>
        obj.TryGetPropertyValue(property, out var node) ? node as JsonArray : null;

    public static JsonObject GetOrAddObject(this JsonObject obj, string property)
    {
        if (obj.TryGetPropertyValue(property, out var node) && node is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        obj[property] = created;
        return created;
    }

    public static long? GetLong(this JsonObject obj, string property)
    {
        if (obj.TryGetPropertyValue(property, out var node) && node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            // Nodes built in code may hold an int; parsed ones hold a JsonElement.
            return v.TryGetValue<long>(out var l) ? l
                : v.TryGetValue<int>(out var i) ? i
                : (long)double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
        }

        return null;
    }

    public static bool? GetBool(this JsonObject obj, string property) =>
        obj.TryGetPropertyValue(property, out var node) && node is JsonValue v &&
        v.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? v.GetValue<bool>()
            : null;

    /// <summary>Walks a dotted path of object properties (no arrays).</summary>
    public static JsonNode? At(this JsonObject obj, params string[] path)
    {
        JsonNode? current = obj;
        foreach (var segment in path)
        {
            if (current is not JsonObject o || !o.TryGetPropertyValue(segment, out current))
            {
                return null;
            }
        }

        return current;
    }

    public static string? StringAt(this JsonObject obj, params string[] path) =>
        obj.At(path) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static bool IsString(this JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String;

    public static bool IsNumber(this JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number;

    public static bool IsBool(this JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False;
}
