using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;

namespace Karpenter.Sim.KubeApi.Schema;

/// <summary>
/// A CRD version's <c>openAPIV3Schema</c> applied the way apiextensions-apiserver does: pruning of unknown
/// fields (unless <c>x-kubernetes-preserve-unknown-fields</c>), dropping <c>null</c> for non-nullable fields,
/// defaulting where the parent exists, then validation with kube-openapi's messages and field paths.
/// </summary>
internal sealed class StructuralSchema
{
    private readonly JsonObject _root;
    private readonly Dictionary<string, Regex> _patterns = new(StringComparer.Ordinal);
    private readonly CelRules _cel = new();

    public StructuralSchema(JsonObject root)
    {
        _root = root;

        // Conservative: a property named "default" also counts, which only costs a needless defaulting pass.
        HasDefaults = root.ToJsonString().Contains("\"default\":", StringComparison.Ordinal);
    }

    public JsonObject Root => _root;

    /// <summary>Whether any node declares a <c>default</c>; without one, defaulting never changes an object.</summary>
    public bool HasDefaults { get; }

    /// <summary>Removes fields the schema does not know (and nulls it does not allow); returns their paths.</summary>
    public List<string> Prune(JsonObject obj)
    {
        var unknown = new List<string>();
        foreach (var (name, value) in obj.ToList())
        {
            if (name is "apiVersion" or "kind" or "metadata")
            {
                continue;
            }

            var child = Property(_root, name);
            if (child is null && !PreservesUnknown(_root))
            {
                unknown.Add(name);
                obj.Remove(name);
                continue;
            }

            if (child is not null)
            {
                if (value is null && child.GetBool("nullable") != true)
                {
                    obj.Remove(name);
                    continue;
                }

                PruneValue(value, child, name, unknown);
            }
        }

        return unknown;
    }

    private static void PruneValue(JsonNode? value, JsonObject schema, string path, List<string> unknown)
    {
        switch (value)
        {
            case JsonObject o:
                var preserve = PreservesUnknown(schema);
                var additional = schema["additionalProperties"];
                foreach (var (name, child) in o.ToList())
                {
                    var childSchema = Property(schema, name) ?? (additional as JsonObject);
                    var childPath = path + "." + name;
                    if (childSchema is null)
                    {
                        if (!preserve && additional is not JsonValue { } && schema["x-kubernetes-embedded-resource"] is null)
                        {
                            unknown.Add(childPath);
                            o.Remove(name);
                        }

                        continue;
                    }

                    if (child is null && childSchema.GetBool("nullable") != true)
                    {
                        o.Remove(name);
                        continue;
                    }

                    PruneValue(child, childSchema, childPath, unknown);
                }

                break;
            case JsonArray a when schema["items"] is JsonObject items:
                for (var i = 0; i < a.Count; i++)
                {
                    PruneValue(a[i], items, $"{path}[{i}]", unknown);
                }

                break;
        }
    }

    /// <summary>Applies <c>default</c>s where a field is absent and its parent object exists.</summary>
    public void Default(JsonObject obj) => DefaultObject(obj, _root);

    private void DefaultObject(JsonObject obj, JsonObject schema)
    {
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, childNode) in properties)
            {
                if (childNode is not JsonObject child)
                {
                    continue;
                }

                if (!obj.ContainsKey(name) && child["default"] is { } defaultValue)
                {
                    obj[name] = defaultValue.DeepClone();
                }

                DefaultValue(obj[name], child);
            }
        }

        if (schema["additionalProperties"] is JsonObject additional)
        {
            foreach (var (name, value) in obj.ToList())
            {
                if (Property(schema, name) is null)
                {
                    DefaultValue(value, additional);
                }
            }
        }
    }

    private void DefaultValue(JsonNode? value, JsonObject schema)
    {
        switch (value)
        {
            case JsonObject o:
                DefaultObject(o, schema);
                break;
            case JsonArray a when schema["items"] is JsonObject items:
                foreach (var item in a)
                {
                    DefaultValue(item, items);
                }

                break;
        }
    }

    /// <summary>Validates against the schema; errors carry the real field paths (<c>spec.replicas</c>, <c>spec.items[2].name</c>).</summary>
    public void Validate(JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        foreach (var (name, value) in obj)
        {
            if (name is "apiVersion" or "kind" or "metadata")
            {
                continue;
            }

            if (Property(_root, name) is { } child)
            {
                JsonNode? oldChild = null;
                var hasOld = old is not null && old.TryGetPropertyValue(name, out oldChild);
                ValidateValue(value, child, name, errors, oldChild, hasOld);
            }
        }

        ValidateRequired(obj, _root, "", errors);
        if (_root["x-kubernetes-validations"] is JsonArray rules)
        {
            _cel.Evaluate(rules, obj, old, old is not null, "<nil>", "object", errors);
        }
    }

    private static void ValidateRequired(JsonObject obj, JsonObject schema, string path, List<FieldError> errors)
    {
        if (schema["required"] is not JsonArray required)
        {
            return;
        }

        foreach (var name in required.Select(r => r?.GetValue<string>()).OfType<string>())
        {
            if (name is "apiVersion" or "kind" or "metadata" && path.Length == 0)
            {
                continue;
            }

            if (!obj.ContainsKey(name) || obj[name] is null)
            {
                errors.Add(FieldError.Required(Join(path, name)));
            }
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    private void ValidateValue(JsonNode? value, JsonObject schema, string path, List<FieldError> errors, JsonNode? old = null, bool hasOld = false)
    {
        if (value is null)
        {
            if (schema.GetBool("nullable") != true)
            {
                errors.Add(FieldError.Invalid(path, null, $"{path} in body must be of type {schema.GetString("type") ?? "object"}: \"null\""));
            }

            return;
        }

        var type = schema.GetString("type");
        var intOrString = schema.GetBool("x-kubernetes-int-or-string") == true;
        if (intOrString)
        {
            if (!value.IsString() && !(value.IsNumber() && IsInteger(value)))
            {
                errors.Add(FieldError.Invalid(path, value.DeepClone(), $"{path} in body must be of type integer,string: {KubeJson.GoQuote(TypeOf(value))}"));
                return;
            }
        }
        else if (type is not null && !TypeMatches(value, type))
        {
            errors.Add(FieldError.Invalid(path, RenderableValue(value), $"{path} in body must be of type {type}: {KubeJson.GoQuote(TypeOf(value))}"));
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
        {
            errors.Add(FieldError.NotSupported(path, RenderableValue(value), allowed.Select(a => a is JsonValue v && v.IsString() ? v.GetValue<string>() : a?.ToJsonString() ?? "null")));
        }

        switch (value)
        {
            case JsonValue v when v.IsString():
                ValidateString(v.GetValue<string>(), schema, path, errors);
                break;
            case JsonValue v when v.IsNumber():
                ValidateNumber(v, schema, path, errors);
                break;
            case JsonArray a:
                ValidateArray(a, schema, path, errors, old as JsonArray, hasOld);
                break;
            case JsonObject o:
                ValidateObject(o, schema, path, errors, old as JsonObject);
                break;
        }

        foreach (var keyword in new[] { "allOf", "anyOf", "oneOf" })
        {
            if (schema[keyword] is not JsonArray branches)
            {
                continue;
            }

            var results = branches.OfType<JsonObject>().Select(branch =>
            {
                var branchErrors = new List<FieldError>();
                ValidateValue(value, branch, path, branchErrors);
                return branchErrors;
            }).ToList();
            if (keyword == "allOf")
            {
                errors.AddRange(results.SelectMany(r => r));
            }
            else if (keyword == "anyOf" && results.All(r => r.Count > 0))
            {
                errors.AddRange(results.SelectMany(r => r));
            }
            else if (keyword == "oneOf" && results.Count(r => r.Count == 0) != 1)
            {
                errors.Add(FieldError.Invalid(path, RenderableValue(value), $"{path} in body must validate one and only one schema (oneOf)"));
            }
        }

        if (schema["not"] is JsonObject not)
        {
            var notErrors = new List<FieldError>();
            ValidateValue(value, not, path, notErrors);
            if (notErrors.Count == 0)
            {
                errors.Add(FieldError.Invalid(path, RenderableValue(value), $"{path} in body should not be valid against schema"));
            }
        }

        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            _cel.Evaluate(rules, value, old, hasOld, path, schema.GetString("type") ?? "object", errors);
        }
    }

    private void ValidateString(string text, JsonObject schema, string path, List<FieldError> errors)
    {
        if (schema.GetLong("maxLength") is { } max && text.EnumerateRunes().Count() > max)
        {
            errors.Add(FieldError.TooLong(path, (int)max));
        }

        if (schema.GetLong("minLength") is { } min && text.EnumerateRunes().Count() < min)
        {
            errors.Add(FieldError.Invalid(path, text, $"{path} in body should be at least {min} chars long"));
        }

        if (schema.GetString("pattern") is { } pattern && !PatternFor(pattern).IsMatch(text))
        {
            errors.Add(FieldError.Invalid(path, text, $"{path} in body should match '{pattern}'"));
        }

        var format = schema.GetString("format");
        if (format == "date-time" && !KubeTime.TryParse(text, out _))
        {
            errors.Add(FieldError.Invalid(path, text, $"{path} in body must be of type date-time: {KubeJson.GoQuote(text)}"));
        }
    }

    private static void ValidateNumber(JsonValue value, JsonObject schema, string path, List<FieldError> errors)
    {
        var number = value.GetValue<double>();
        if (schema.GetString("type") == "integer" && !IsInteger(value))
        {
            return;
        }

        var rendered = (JsonNode)value.DeepClone();
        if (schema["maximum"] is JsonValue maxNode && maxNode.IsNumber())
        {
            var max = maxNode.GetValue<double>();
            var exclusive = schema.GetBool("exclusiveMaximum") == true;
            if (exclusive ? number >= max : number > max)
            {
                errors.Add(FieldError.Invalid(path, rendered, $"{path} in body should be less than {(exclusive ? "" : "or equal to ")}{Render(maxNode)}"));
            }
        }

        if (schema["minimum"] is JsonValue minNode && minNode.IsNumber())
        {
            var min = minNode.GetValue<double>();
            var exclusive = schema.GetBool("exclusiveMinimum") == true;
            if (exclusive ? number <= min : number < min)
            {
                errors.Add(FieldError.Invalid(path, rendered, $"{path} in body should be greater than {(exclusive ? "" : "or equal to ")}{Render(minNode)}"));
            }
        }

        if (schema["multipleOf"] is JsonValue multipleNode && multipleNode.IsNumber())
        {
            var factor = multipleNode.GetValue<double>();
            if (factor != 0 && Math.Abs(Math.IEEERemainder(number, factor)) > 1e-9)
            {
                errors.Add(FieldError.Invalid(path, rendered, $"{path} in body should be a multiple of {Render(multipleNode)}"));
            }
        }
    }

    private static string Render(JsonValue value) => value.ToJsonString();

    private void ValidateArray(JsonArray array, JsonObject schema, string path, List<FieldError> errors, JsonArray? old, bool hasOld)
    {
        if (schema.GetLong("maxItems") is { } max && array.Count > max)
        {
            errors.Add(FieldError.TooMany(path, array.Count, (int)max));
        }

        if (schema.GetLong("minItems") is { } min && array.Count < min)
        {
            errors.Add(FieldError.Invalid(path, array.Count, $"{path} in body should have at least {min} items"));
        }

        var listType = schema.GetString("x-kubernetes-list-type");
        if (listType == "set" || schema.GetBool("uniqueItems") == true)
        {
            for (var i = 0; i < array.Count; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    if (JsonNode.DeepEquals(array[i], array[j]))
                    {
                        errors.Add(FieldError.Duplicate($"{path}[{i}]", RenderableValue(array[i])));
                        break;
                    }
                }
            }
        }
        else if (listType == "map" && schema["x-kubernetes-list-map-keys"] is JsonArray keys)
        {
            var keyNames = keys.Select(k => k?.GetValue<string>() ?? "").ToList();
            var seen = new List<JsonNode?[]>();
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is not JsonObject item)
                {
                    continue;
                }

                var tuple = keyNames.Select(k => item[k]).ToArray();
                if (seen.Any(s => s.Zip(tuple).All(p => JsonNode.DeepEquals(p.First, p.Second))))
                {
                    var rendered = "map[string]interface {}{" + string.Join(", ", keyNames.Select((k, n) => $"\"{k}\":{FieldError.RenderValue(tuple[n])}")) + "}";
                    errors.Add(new FieldError("FieldValueDuplicate", $"{path}[{i}]", $"Duplicate value: {rendered}"));
                }
                else
                {
                    seen.Add(tuple);
                }
            }
        }

        if (schema["items"] is JsonObject items)
        {
            // Transition rules inside lists correlate elements only for map lists (by their keys).
            var mapKeys = schema.GetString("x-kubernetes-list-type") == "map" && schema["x-kubernetes-list-map-keys"] is JsonArray k
                ? k.Select(n => n?.GetValue<string>() ?? "").ToList()
                : null;
            for (var i = 0; i < array.Count; i++)
            {
                JsonNode? oldItem = null;
                var itemHasOld = false;
                if (hasOld && mapKeys is not null && old is not null && array[i] is JsonObject item)
                {
                    oldItem = old.OfType<JsonObject>().FirstOrDefault(o => mapKeys.All(key => JsonNode.DeepEquals(o[key], item[key])));
                    itemHasOld = oldItem is not null;
                }

                ValidateValue(array[i], items, $"{path}[{i}]", errors, oldItem, itemHasOld);
            }
        }
    }

    private void ValidateObject(JsonObject obj, JsonObject schema, string path, List<FieldError> errors, JsonObject? old)
    {
        if (schema.GetLong("maxProperties") is { } max && obj.Count > max)
        {
            errors.Add(FieldError.TooMany(path, obj.Count, (int)max));
        }

        if (schema.GetLong("minProperties") is { } min && obj.Count < min)
        {
            errors.Add(FieldError.Invalid(path, obj.Count, $"{path} in body should have at least {min} properties"));
        }

        var additional = schema["additionalProperties"] as JsonObject;
        foreach (var (name, value) in obj)
        {
            var child = Property(schema, name) ?? additional;
            if (child is not null)
            {
                JsonNode? oldChild = null;
                var hasOld = old is not null && old.TryGetPropertyValue(name, out oldChild);
                ValidateValue(value, child, path + "." + name, errors, oldChild, hasOld);
            }
        }

        ValidateRequired(obj, schema, path, errors);
    }

    private Regex PatternFor(string pattern)
    {
        if (!_patterns.TryGetValue(pattern, out var regex))
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            _patterns[pattern] = regex;
        }

        return regex;
    }

    public static JsonObject? Property(JsonObject schema, string name) =>
        schema["properties"] is JsonObject properties && properties[name] is JsonObject child ? child : null;

    private static bool PreservesUnknown(JsonObject schema) =>
        schema.GetBool("x-kubernetes-preserve-unknown-fields") == true ||
        (schema["additionalProperties"] is JsonValue v && v.IsBool() && v.GetValue<bool>());

    private static bool IsInteger(JsonNode value) =>
        long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    private static bool TypeMatches(JsonNode value, string type) => type switch
    {
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value.IsString(),
        "boolean" => value.IsBool(),
        "integer" => value.IsNumber() && IsInteger(value),
        "number" => value.IsNumber(),
        _ => true,
    };

    private static string TypeOf(JsonNode value) => value switch
    {
        JsonObject => "object",
        JsonArray => "array",
        _ when value.IsString() => "string",
        _ when value.IsBool() => "boolean",
        _ when value.IsNumber() => IsInteger(value) ? "integer" : "number",
        _ => "null",
    };

    private static JsonNode? RenderableValue(JsonNode? value) => value?.DeepClone();
}
