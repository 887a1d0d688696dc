using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;

namespace Karpenter.Sim.KubeApi.Validation;

/// <summary>
/// apimachinery's <c>validation.IsDNS1123Subdomain</c>, <c>IsDNS1123Label</c>, <c>IsQualifiedName</c>,
/// <c>IsValidLabelValue</c> and <c>ValidateObjectMeta</c>, with their exact messages.
/// </summary>
internal static partial class ObjectMetaValidation
{
    public const string Dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    public const string Dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

    public const string QualifiedNamePartMessage =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    public const string LabelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    public const int TotalAnnotationSizeLimitBytes = 256 * 1024;

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedNamePart();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    /// <summary>The messages of <c>IsDNS1123Subdomain</c>; empty when valid.</summary>
    public static List<string> Dns1123SubdomainErrors(string value)
    {
        var errors = new List<string>();
        if (value.Length > 253)
        {
            errors.Add("must be no more than 253 characters");
        }

        if (!Dns1123Subdomain().IsMatch(value))
        {
            errors.Add(Dns1123SubdomainMessage);
        }

        return errors;
    }

    public static List<string> Dns1123LabelErrors(string value)
    {
        var errors = new List<string>();
        if (value.Length > 63)
        {
            errors.Add("must be no more than 63 characters");
        }

        if (!Dns1123Label().IsMatch(value))
        {
            errors.Add(Dns1123LabelMessage);
        }

        return errors;
    }

    /// <summary><c>IsQualifiedName</c>: optional DNS-subdomain prefix and a name part of at most 63 characters.</summary>
    public static string? QualifiedNameError(string value)
    {
        var parts = value.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1:
                name = parts[0];
                break;
            case 2:
                var prefix = parts[0];
                name = parts[1];
                if (prefix.Length == 0)
                {
                    return "prefix part must be non-empty";
                }

                var prefixErrors = Dns1123SubdomainErrors(prefix);
                if (prefixErrors.Count > 0)
                {
                    return "prefix part " + prefixErrors[0];
                }

                break;
            default:
                return "a qualified name " + QualifiedNamePartMessage.Replace("name part ", "", StringComparison.Ordinal) +
                       " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
        }

        if (name.Length == 0)
        {
            return "name part must be non-empty";
        }

        if (name.Length > 63)
        {
            return "name part must be no more than 63 characters";
        }

        return QualifiedNamePart().IsMatch(name) ? null : QualifiedNamePartMessage;
    }

    public static string? LabelValueError(string value)
    {
        if (value.Length > 63)
        {
            return "must be no more than 63 characters";
        }

        return LabelValue().IsMatch(value) ? null : LabelValueMessage;
    }

    /// <summary>How a resource's names are validated.</summary>
    internal enum NameRule
    {
        Dns1123Subdomain,
        Dns1123Label,

        /// <summary>Any name that is a valid path segment (Events, Leases use subdomain; a few types are lax).</summary>
        PathSegment,
    }

    /// <summary><c>ValidateObjectMeta</c>: name, generateName, labels, annotations, finalizers, ownerReferences.</summary>
    public static void Validate(JsonObject metadata, NameRule rule, bool nameRequired, List<FieldError> errors)
    {
        var name = metadata.GetString("name");
        var generateName = metadata.GetString("generateName");
        if (string.IsNullOrEmpty(name))
        {
            if (nameRequired)
            {
                errors.Add(FieldError.Required("metadata.name", "name or generateName is required"));
            }
        }
        else
        {
            foreach (var message in NameErrors(name, rule))
            {
                errors.Add(FieldError.Invalid("metadata.name", name, message));
            }
        }

        if (!string.IsNullOrEmpty(generateName))
        {
            // The generated suffix is appended after validation of the prefix (trailing '-' is allowed).
            var probe = generateName.TrimEnd('-');
            if (probe.Length > 0)
            {
                foreach (var message in NameErrors(probe, rule))
                {
                    errors.Add(FieldError.Invalid("metadata.generateName", generateName, message));
                }
            }
        }

        if (metadata["labels"] is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                var keyError = QualifiedNameError(key);
                if (keyError is not null)
                {
                    errors.Add(FieldError.Invalid("metadata.labels", key, keyError));
                }

                var text = value is JsonValue v && value.IsString() ? v.GetValue<string>() : "";
                var valueError = LabelValueError(text);
                if (valueError is not null)
                {
                    errors.Add(FieldError.Invalid("metadata.labels", text, valueError));
                }
            }
        }

        if (metadata["annotations"] is JsonObject annotations)
        {
            long total = 0;
            foreach (var (key, value) in annotations)
            {
                var keyError = QualifiedNameError(key.ToLowerInvariant());
                if (keyError is not null)
                {
                    errors.Add(FieldError.Invalid("metadata.annotations", key, keyError));
                }

                total += System.Text.Encoding.UTF8.GetByteCount(key);
                total += value is JsonValue v && value.IsString() ? System.Text.Encoding.UTF8.GetByteCount(v.GetValue<string>()) : 0;
            }

            if (total > TotalAnnotationSizeLimitBytes)
            {
                errors.Add(FieldError.TooLong("metadata.annotations", TotalAnnotationSizeLimitBytes));
            }
        }

        if (metadata["finalizers"] is JsonArray finalizers)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in finalizers)
            {
                var finalizer = item is JsonValue v && item.IsString() ? v.GetValue<string>() : "";
                var error = QualifiedNameError(finalizer);
                if (error is not null)
                {
                    errors.Add(FieldError.Invalid("metadata.finalizers", finalizer, error));
                }

                if (!seen.Add(finalizer))
                {
                    errors.Add(FieldError.Duplicate("metadata.finalizers", finalizer));
                }
            }
        }

        if (metadata["ownerReferences"] is JsonArray owners)
        {
            var controllers = 0;
            for (var i = 0; i < owners.Count; i++)
            {
                if (owners[i] is not JsonObject owner)
                {
                    continue;
                }

                var path = $"metadata.ownerReferences[{i}]";
                if (string.IsNullOrEmpty(owner.GetString("apiVersion")))
                {
                    errors.Add(FieldError.Invalid(path + ".apiVersion", owner["apiVersion"]?.DeepClone() ?? "", "version must not be empty"));
                }

                if (string.IsNullOrEmpty(owner.GetString("kind")))
                {
                    errors.Add(FieldError.Invalid(path + ".kind", owner["kind"]?.DeepClone() ?? "", "kind must not be empty"));
                }

                if (string.IsNullOrEmpty(owner.GetString("name")))
                {
                    errors.Add(FieldError.Invalid(path + ".name", owner["name"]?.DeepClone() ?? "", "name must not be empty"));
                }

                if (string.IsNullOrEmpty(owner.GetString("uid")))
                {
                    errors.Add(FieldError.Invalid(path + ".uid", owner["uid"]?.DeepClone() ?? "", "uid must not be empty"));
                }

                if (owner.GetBool("controller") == true)
                {
                    controllers++;
                }
            }

            if (controllers > 1)
            {
                errors.Add(FieldError.Invalid("metadata.ownerReferences", null,
                    "Only one reference can have Controller set to true"));
            }
        }
    }

    public static List<string> NameErrors(string name, NameRule rule) => rule switch
    {
        NameRule.Dns1123Label => Dns1123LabelErrors(name),
        NameRule.Dns1123Subdomain => Dns1123SubdomainErrors(name),
        _ => PathSegmentErrors(name),
    };

    /// <summary><c>path.ValidatePathSegmentName</c>.</summary>
    public static List<string> PathSegmentErrors(string name)
    {
        var errors = new List<string>();
        if (name is "." or "..")
        {
            errors.Add($"may not be '{name}'");
        }

        foreach (var illegal in new[] { "/", "%" })
        {
            if (name.Contains(illegal, StringComparison.Ordinal))
            {
                errors.Add($"may not contain '{illegal}'");
            }
        }

        return errors;
    }
}
