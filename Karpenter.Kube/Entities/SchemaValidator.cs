using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Karpenter.Kube.Entities;

/// <summary>
/// Validates a JSON object against a structural CRD schema the way the API server's OpenAPI validation does (types,
/// required fields, enums, patterns, bounds, lengths, item and property counts, set and map-list uniqueness), with the
/// API server's messages. CEL rules are not evaluated here: the typed validators of each API enforce them.
/// </summary>
public sealed class SchemaValidator(V1JSONSchemaProps schema)
{
    private readonly Dictionary<string, Regex> _patterns = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Every violation in <paramref name="value"/>, in document order.</summary>
    public IReadOnlyList<FieldError> Validate(JsonNode? value)
    {
        var errors = new List<FieldError>();
        Validate(value, schema, string.Empty, errors);
        return errors;
    }

    private void Validate(JsonNode? value, V1JSONSchemaProps node, string path, List<FieldError> errors)
    {
        if (value is null)
        {
            if (node.Nullable != true)
            {
                errors.Add(FieldError.Invalid(path, null, $"{path} in body must be of type {node.Type ?? "object"}: \"null\""));
            }

            return;
        }

        if (node.XKubernetesIntOrString == true)
        {
            if (!(value is JsonValue s && s.GetValueKind() == JsonValueKind.String) && !IsInteger(value))
            {
                errors.Add(FieldError.Invalid(path, Renderable(value), $"{path} in body must be of type integer,string: {FieldError.GoQuote(TypeOf(value))}"));
                return;
            }
        }
        else if (node.Type is { } type && !TypeMatches(value, type))
        {
            errors.Add(FieldError.Invalid(path, Renderable(value), $"{path} in body must be of type {type}: {FieldError.GoQuote(TypeOf(value))}"));
            return;
        }

        if (node.EnumProperty is { Count: > 0 } allowed && !allowed.Any(a => JsonNode.DeepEquals(JsonSerializer.SerializeToNode(a), value)))
        {
            errors.Add(FieldError.NotSupported(path, Renderable(value), allowed.Select(a => a?.ToString() ?? "null")));
        }

        switch (value)
        {
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                // An int-or-string's pattern (a quantity's) applies to its string form only.
                ValidateString(v.GetValue<string>(), node, path, errors);
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                ValidateNumber(v, node, path, errors);
                break;
            case JsonArray a:
                ValidateArray(a, node, path, errors);
                break;
            case JsonObject o:
                ValidateObject(o, node, path, errors);
                break;
        }

        if (node.AnyOf is { Count: > 0 } anyOf && node.XKubernetesIntOrString != true)
        {
            var branches = anyOf.Select(branch =>
            {
                var branchErrors = new List<FieldError>();
                Validate(value, branch, path, branchErrors);
                return branchErrors;
            }).ToList();
            if (branches.All(b => b.Count > 0))
            {
                errors.AddRange(branches.SelectMany(b => b));
            }
        }

        foreach (var branch in node.AllOf ?? [])
        {
            Validate(value, branch, path, errors);
        }
    }

    private void ValidateString(string text, V1JSONSchemaProps node, string path, List<FieldError> errors)
    {
        var length = text.EnumerateRunes().Count();
        if (node.MaxLength is { } max && length > max)
        {
            errors.Add(FieldError.TooLong(path, max));
        }

        if (node.MinLength is { } min && length < min)
        {
            errors.Add(FieldError.Invalid(path, text, $"{path} in body should be at least {min} chars long"));
        }

        if (node.Pattern is { } pattern && !Pattern(pattern).IsMatch(text))
        {
            errors.Add(FieldError.Invalid(path, text, $"{path} in body should match '{pattern}'"));
        }

        if (node.Format == "date-time" && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
        {
            errors.Add(FieldError.Invalid(path, text, $"{path} in body must be of type date-time: {FieldError.GoQuote(text)}"));
        }
    }

    private static void ValidateNumber(JsonValue value, V1JSONSchemaProps node, string path, List<FieldError> errors)
    {
        var number = double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
        if (node.Maximum is { } max && (node.ExclusiveMaximum == true ? number >= max : number > max))
        {
            errors.Add(FieldError.Invalid(path, value.DeepClone(), $"{path} in body should be less than {(node.ExclusiveMaximum == true ? string.Empty : "or equal to ")}{Render(max)}"));
        }

        if (node.Minimum is { } min && (node.ExclusiveMinimum == true ? number <= min : number < min))
        {
            errors.Add(FieldError.Invalid(path, value.DeepClone(), $"{path} in body should be greater than {(node.ExclusiveMinimum == true ? string.Empty : "or equal to ")}{Render(min)}"));
        }

        if (node.MultipleOf is { } factor && factor != 0 && Math.Abs(Math.IEEERemainder(number, factor)) > 1e-9)
        {
            errors.Add(FieldError.Invalid(path, value.DeepClone(), $"{path} in body should be a multiple of {Render(factor)}"));
        }
    }

    private void ValidateArray(JsonArray array, V1JSONSchemaProps node, string path, List<FieldError> errors)
    {
        if (node.MaxItems is { } max && array.Count > max)
        {
            errors.Add(FieldError.TooMany(path, array.Count, max));
        }

        if (node.MinItems is { } min && array.Count < min)
        {
            errors.Add(FieldError.Invalid(path, array.Count, $"{path} in body should have at least {min} items"));
        }

        if (node.XKubernetesListType == "set")
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (Enumerable.Range(0, i).Any(j => JsonNode.DeepEquals(array[i], array[j])))
                {
                    errors.Add(FieldError.Duplicate($"{path}[{i}]", Renderable(array[i])));
                }
            }
        }
        else if (node.XKubernetesListType == "map" && node.XKubernetesListMapKeys is { Count: > 0 } keys)
        {
            var seen = new List<JsonNode?[]>();
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is not JsonObject item)
                {
                    continue;
                }

                var tuple = keys.Select(k => item[k]).ToArray();
                if (seen.Any(s => s.Zip(tuple).All(p => JsonNode.DeepEquals(p.First, p.Second))))
                {
                    var rendered = "map[string]interface {}{" + string.Join(", ", keys.Select((k, n) => $"\"{k}\":{FieldError.RenderValue(tuple[n])}")) + "}";
                    errors.Add(new FieldError("FieldValueDuplicate", $"{path}[{i}]", $"Duplicate value: {rendered}"));
                }
                else
                {
                    seen.Add(tuple);
                }
            }
        }

        if (node.Items is V1JSONSchemaProps items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Validate(array[i], items, $"{path}[{i}]", errors);
            }
        }
    }

    private void ValidateObject(JsonObject obj, V1JSONSchemaProps node, string path, List<FieldError> errors)
    {
        if (node.MaxProperties is { } max && obj.Count > max)
        {
            errors.Add(FieldError.TooMany(path, obj.Count, max));
        }

        if (node.MinProperties is { } min && obj.Count < min)
        {
            errors.Add(FieldError.Invalid(path, obj.Count, $"{path} in body should have at least {min} properties"));
        }

        var additional = node.AdditionalProperties as V1JSONSchemaProps;
        foreach (var (name, child) in obj)
        {
            var childSchema = node.Properties is not null && node.Properties.TryGetValue(name, out var property) ? property : additional;
            if (childSchema is not null)
            {
                Validate(child, childSchema, Join(path, name), errors);
            }
        }

        foreach (var name in node.Required ?? [])
        {
            if (!obj.ContainsKey(name))
            {
                errors.Add(FieldError.Required(Join(path, name)));
            }
        }
    }

    private Regex Pattern(string pattern)
    {
        lock (_gate)
        {
            if (!_patterns.TryGetValue(pattern, out var regex))
            {
                regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                _patterns[pattern] = regex;
            }

            return regex;
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static bool IsInteger(JsonNode node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && (v.TryGetValue<long>(out _) || Math.Abs(double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture) % 1) < double.Epsilon);

    private static bool TypeMatches(JsonNode value, string type) => type switch
    {
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value is JsonValue v && v.GetValueKind() == JsonValueKind.String,
        "boolean" => value is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        "integer" => IsInteger(value),
        "number" => value is JsonValue v && v.GetValueKind() == JsonValueKind.Number,
        _ => true,
    };

    private static string TypeOf(JsonNode value) => value switch
    {
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => IsInteger(v) ? "integer" : "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            _ => "null",
        },
        _ => "null",
    };

    private static JsonNode? Renderable(JsonNode? value) => value?.DeepClone();

    private static string Render(double value) => value.ToString(CultureInfo.InvariantCulture);
}
