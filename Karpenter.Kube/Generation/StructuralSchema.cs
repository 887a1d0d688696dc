using k8s.Models;

namespace Karpenter.Kube.Generation;

/// <summary>
/// Checks the rules the API server applies to a CRD's <c>openAPIV3Schema</c> before it accepts it ("structural
/// schemas"): a type on every node unless it is int-or-string or preserves unknown fields, no <c>$ref</c> and the other
/// forbidden keywords, value validations only (no types, descriptions or defaults) inside <c>anyOf</c>/<c>allOf</c>/
/// <c>oneOf</c>/<c>not</c>, list-type constraints, and well-formed CEL rule entries.
/// </summary>
public static class StructuralSchema
{
    /// <summary>Every violation, each naming the path of the offending node; empty when the schema is structural.</summary>
    public static IReadOnlyList<string> Violations(V1JSONSchemaProps root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var errors = new List<string>();
        if (root.Type != "object")
        {
            errors.Add("openAPIV3Schema: the root must have type: object");
        }

        Check(root, "openAPIV3Schema", errors, insideLogic: false);
        if (root.Properties?.TryGetValue("metadata", out var metadata) == true)
        {
            var extra = (metadata.Properties?.Keys ?? []).Except(["name", "generateName"]).ToList();
            if (extra.Count > 0 || metadata.Type != "object")
            {
                errors.Add("openAPIV3Schema.properties[metadata]: may only be type: object, restricting name and generateName");
            }
        }

        return errors;
    }

    private static void Check(V1JSONSchemaProps node, string path, List<string> errors, bool insideLogic)
    {
        if (node.RefProperty is not null)
        {
            errors.Add($"{path}: $ref is not allowed");
        }

        if (node.Definitions is not null || node.Dependencies is not null || node.AdditionalItems is not null
            || node.PatternProperties is not null || node.Id is not null || node.Schema is not null)
        {
            errors.Add($"{path}: definitions, dependencies, additionalItems, patternProperties, id and $schema are not allowed");
        }

        var intOrString = node.XKubernetesIntOrString == true;
        var preserve = node.XKubernetesPreserveUnknownFields == true;
        if (insideLogic)
        {
            if (node.Type is not null || node.Description is not null || node.DefaultProperty is not null
                || node.Nullable is not null || node.AdditionalProperties is not null || node.XKubernetesValidations is not null)
            {
                errors.Add($"{path}: inside anyOf/allOf/oneOf/not only value validations are allowed (no type, description, default, nullable, additionalProperties or x-kubernetes-validations)");
            }
        }
        else if (string.IsNullOrEmpty(node.Type) && !intOrString && !preserve)
        {
            errors.Add($"{path}: type is required (unless x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields)");
        }

        if (intOrString)
        {
            var ok = node.Type is null && (node.AnyOf is null || IsIntegerOrString(node.AnyOf));
            if (!ok)
            {
                errors.Add($"{path}: x-kubernetes-int-or-string needs no type and anyOf exactly [integer, string]");
            }
        }

        if (node.Properties is not null && node.AdditionalProperties is not null)
        {
            errors.Add($"{path}: properties and additionalProperties are mutually exclusive");
        }

        if (node.Properties is not null && node.Type is not null && node.Type != "object")
        {
            errors.Add($"{path}: properties need type: object");
        }

        if (node.Type == "array" && node.Items is null && !insideLogic)
        {
            errors.Add($"{path}: an array needs items");
        }

        if (node.Items is not null and not V1JSONSchemaProps)
        {
            errors.Add($"{path}.items: must be a single schema");
        }

        if (node.AdditionalProperties is not null and not V1JSONSchemaProps and not bool)
        {
            errors.Add($"{path}.additionalProperties: must be a schema or a boolean");
        }

        if (node.Required is not null)
        {
            foreach (var name in node.Required)
            {
                if (node.Properties?.ContainsKey(name) != true)
                {
                    errors.Add($"{path}.required: '{name}' is not a property");
                }
            }
        }

        CheckListType(node, path, errors);
        CheckRules(node, path, errors);

        foreach (var (name, child) in node.Properties ?? new Dictionary<string, V1JSONSchemaProps>())
        {
            Check(child, $"{path}.properties[{name}]", errors, insideLogic);
        }

        if (node.Items is V1JSONSchemaProps items)
        {
            Check(items, $"{path}.items", errors, insideLogic);
        }

        if (node.AdditionalProperties is V1JSONSchemaProps values)
        {
            Check(values, $"{path}.additionalProperties", errors, insideLogic);
        }

        foreach (var (keyword, list) in new[] { ("anyOf", node.AnyOf), ("allOf", node.AllOf), ("oneOf", node.OneOf) })
        {
            if (list is null)
            {
                continue;
            }

            if (intOrString && keyword == "anyOf" && IsIntegerOrString(list))
            {
                continue;
            }

            for (var i = 0; i < list.Count; i++)
            {
                Check(list[i], $"{path}.{keyword}[{i}]", errors, insideLogic: true);
            }
        }

        if (node.Not is not null)
        {
            Check(node.Not, $"{path}.not", errors, insideLogic: true);
        }
    }

    private static void CheckListType(V1JSONSchemaProps node, string path, List<string> errors)
    {
        if (node.XKubernetesListType is null)
        {
            if (node.XKubernetesListMapKeys is not null)
            {
                errors.Add($"{path}: x-kubernetes-list-map-keys needs x-kubernetes-list-type: map");
            }

            return;
        }

        if (node.Type != "array")
        {
            errors.Add($"{path}: x-kubernetes-list-type needs type: array");
            return;
        }

        var items = node.Items as V1JSONSchemaProps;
        switch (node.XKubernetesListType)
        {
            case "atomic":
                break;
            case "set":
                if (items?.Type is "object" or "array" && items.XKubernetesMapType != "atomic")
                {
                    errors.Add($"{path}: a set's items must be scalars or atomic");
                }

                break;
            case "map":
                if (items?.Type != "object" || node.XKubernetesListMapKeys is not { Count: > 0 })
                {
                    errors.Add($"{path}: a map list needs object items and x-kubernetes-list-map-keys");
                    break;
                }

                foreach (var key in node.XKubernetesListMapKeys)
                {
                    if (items.Properties?.TryGetValue(key, out var keyNode) != true)
                    {
                        errors.Add($"{path}: map key '{key}' is not a property of the items");
                    }
                    else if (items.Required?.Contains(key) != true && keyNode!.DefaultProperty is null)
                    {
                        errors.Add($"{path}: map key '{key}' must be required or defaulted");
                    }
                }

                break;
            default:
                errors.Add($"{path}: x-kubernetes-list-type must be atomic, set or map");
                break;
        }
    }

    private static void CheckRules(V1JSONSchemaProps node, string path, List<string> errors)
    {
        foreach (var rule in node.XKubernetesValidations ?? [])
        {
            if (string.IsNullOrWhiteSpace(rule.Rule))
            {
                errors.Add($"{path}.x-kubernetes-validations: rule may not be empty");
            }

            if (rule.Message is not null && (rule.Message.Length == 0 || rule.Message.Contains('\n', StringComparison.Ordinal)))
            {
                errors.Add($"{path}.x-kubernetes-validations: message must be non-empty and on one line");
            }

            if (rule.Reason is not null and not ("FieldValueInvalid" or "FieldValueForbidden" or "FieldValueRequired" or "FieldValueDuplicate"))
            {
                errors.Add($"{path}.x-kubernetes-validations: reason must be FieldValueInvalid, FieldValueForbidden, FieldValueRequired or FieldValueDuplicate");
            }

            if (rule.OptionalOldSelf == true && !rule.Rule.Contains("oldSelf", StringComparison.Ordinal))
            {
                errors.Add($"{path}.x-kubernetes-validations: optionalOldSelf is only for transition rules");
            }
        }
    }

    private static bool IsIntegerOrString(IList<V1JSONSchemaProps> anyOf) =>
        anyOf.Count == 2
        && anyOf[0] is { Type: "integer" } && anyOf[1] is { Type: "string" }
        && anyOf.All(a => a.Properties is null && a.Items is null && a.Description is null);
}
