using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Sim.KubeApi.Json;

namespace Karpenter.Sim.KubeApi.Schema;

/// <summary>How unknown and duplicate fields are treated (the <c>fieldValidation</c> query parameter).</summary>
internal enum FieldValidation
{
    Ignore,
    Warn,
    Strict,
}

/// <summary>
/// What decoding a request body into a built-in Go struct does on a real server, applied to the JSON tree:
/// JSON type errors fail with Go's <c>json: cannot unmarshal ...</c> message, unknown fields are dropped
/// (and reported per <see cref="FieldValidation"/>), <c>null</c>s become absent, <c>metav1.Time</c> loses its
/// fraction, <c>MicroTime</c> gets six digits, and quantities are canonicalised.
/// </summary>
internal static class BuiltinDecoder
{
    /// <summary>Normalises <paramref name="obj"/> in place and returns the unknown field paths it dropped.</summary>
    /// <exception cref="DecodeException">A value has the wrong JSON type.</exception>
    public static List<string> Decode(JsonObject obj, SchemaNode schema)
    {
        var unknown = new List<string>();
        WalkObject(obj, schema, "", unknown);
        return unknown;
    }

    private static void WalkObject(JsonObject obj, SchemaNode schema, string path, List<string> unknown)
    {
        List<string>? remove = null;
        List<(string, JsonNode)>? replace = null;
        foreach (var (name, value) in obj)
        {
            var childPath = path.Length == 0 ? name : path + "." + name;
            if (!schema.Properties.TryGetValue(name, out var child))
            {
                unknown.Add(childPath);
                (remove ??= []).Add(name);
                continue;
            }

            // Go drops nulls, and omitempty drops empty slices and maps.
            if (value is null || (value is JsonArray { Count: 0 } && child.Kind == SchemaKind.Array) || (value is JsonObject { Count: 0 } && child.Kind == SchemaKind.Map))
            {
                (remove ??= []).Add(name);
                continue;
            }

            var replacement = Walk(value, child, schema, childPath, unknown);
            if (replacement is not null)
            {
                (replace ??= []).Add((name, replacement));
            }
        }

        if (remove is not null)
        {
            foreach (var name in remove)
            {
                obj.Remove(name);
            }
        }

        if (replace is not null)
        {
            foreach (var (name, value) in replace)
            {
                obj[name] = value;
            }
        }
    }

    /// <summary>Checks one value; returns a replacement node when it must be re-encoded.</summary>
    private static JsonValue? Walk(JsonNode value, SchemaNode schema, SchemaNode parent, string path, List<string> unknown)
    {
        switch (schema.Kind)
        {
            case SchemaKind.Any:
                return null;
            case SchemaKind.Object:
                if (value is not JsonObject o)
                {
                    throw Mismatch(value, schema, parent, path);
                }

                WalkObject(o, schema, path, unknown);
                return null;
            case SchemaKind.Map:
                if (value is not JsonObject map)
                {
                    throw Mismatch(value, schema, parent, path);
                }

                List<(string, JsonNode)>? replaced = null;
                foreach (var (key, item) in map)
                {
                    if (item is null)
                    {
                        continue;
                    }

                    var r = Walk(item, schema.Items!, parent, path + "." + key, unknown);
                    if (r is not null)
                    {
                        (replaced ??= []).Add((key, r));
                    }
                }

                if (replaced is not null)
                {
                    foreach (var (key, r) in replaced)
                    {
                        map[key] = r;
                    }
                }

                return null;
            case SchemaKind.Array:
                if (value is not JsonArray array)
                {
                    throw Mismatch(value, schema, parent, path);
                }

                for (var i = 0; i < array.Count; i++)
                {
                    var item = array[i];
                    if (item is null)
                    {
                        continue;
                    }

                    var r = Walk(item, schema.Items!, parent, $"{path}[{i}]", unknown);
                    if (r is not null)
                    {
                        array[i] = r;
                    }
                }

                return null;
            case SchemaKind.String:
                return value.IsString() ? null : throw Mismatch(value, schema, parent, path);
            case SchemaKind.Bytes:
                if (!value.IsString())
                {
                    throw Mismatch(value, schema, parent, path);
                }

                var base64 = value.GetValue<string>();
                var buffer = new byte[base64.Length];
                return Convert.TryFromBase64String(base64, buffer, out _)
                    ? null
                    : throw new DecodeException($"illegal base64 data at input byte {Math.Max(0, base64.Length - 1)}");
            case SchemaKind.Boolean:
                return value.IsBool() ? null : throw Mismatch(value, schema, parent, path);
            case SchemaKind.Integer:
                if (!value.IsNumber())
                {
                    throw Mismatch(value, schema, parent, path);
                }

                var raw = value.ToJsonString();
                var fits = schema.GoType == "int32" ? int.TryParse(raw, out _) : long.TryParse(raw, out _);
                return fits ? null : throw new DecodeException($"json: cannot unmarshal number {raw} into Go struct field {GoField(parent, path)} of type {schema.GoType}");
            case SchemaKind.Number:
                return value.IsNumber() ? null : throw Mismatch(value, schema, parent, path);
            case SchemaKind.IntOrString:
                if (value.IsString())
                {
                    return null;
                }

                return value.IsNumber() && int.TryParse(value.ToJsonString(), out _)
                    ? null
                    : throw Mismatch(value, schema, parent, path);
            case SchemaKind.Quantity:
                return Quantity(value);
            case SchemaKind.Time:
            case SchemaKind.MicroTime:
                if (!value.IsString())
                {
                    throw Mismatch(value, schema, parent, path);
                }

                var text = value.GetValue<string>();
                var normalized = schema.Kind == SchemaKind.Time ? KubeTime.NormalizeTime(text) : KubeTime.NormalizeMicroTime(text);
                if (normalized is null)
                {
                    throw new DecodeException($"parsing time {KubeJson.GoQuote(text)} as \"2006-01-02T15:04:05Z07:00\": cannot parse {KubeJson.GoQuote(text)} as \"2006\"");
                }

                return normalized == text ? null : JsonValue.Create(normalized);
            default:
                return null;
        }
    }

    private const string QuantityRegexMessage =
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    private static JsonValue? Quantity(JsonNode value)
    {
        string text;
        if (value.IsString())
        {
            text = value.GetValue<string>();
        }
        else if (value.IsNumber())
        {
            text = value.ToJsonString();
        }
        else
        {
            throw new DecodeException(QuantityRegexMessage);
        }

        string canonical;
        try
        {
            canonical = new ResourceQuantity(text.Trim()).CanonicalizeString();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            throw new DecodeException(QuantityRegexMessage);
        }

        return value.IsString() && canonical == text ? null : JsonValue.Create(canonical);
    }

    private static DecodeException Mismatch(JsonNode value, SchemaNode schema, SchemaNode parent, string path) =>
        new($"json: cannot unmarshal {JsonKind(value)} into Go struct field {GoField(parent, path)} of type {schema.GoType}");

    /// <summary><c>PodSpec.spec.containers.name</c>: the enclosing struct and the path without list indexes.</summary>
    private static string GoField(SchemaNode parent, string path)
    {
        var sb = new StringBuilder(path.Length);
        var depth = 0;
        foreach (var c in path)
        {
            if (c == '[')
            {
                depth++;
            }
            else if (c == ']')
            {
                depth--;
            }
            else if (depth == 0)
            {
                sb.Append(c);
            }
        }

        return (parent.GoStruct ?? "") + "." + sb;
    }

    private static string JsonKind(JsonNode value) => value switch
    {
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "number",
            JsonValueKind.True or JsonValueKind.False => "bool",
            _ => "null",
        },
        _ => "null",
    };
}

/// <summary>A body that cannot be decoded into the resource's Go type.</summary>
internal sealed class DecodeException(string message) : Exception(message);
