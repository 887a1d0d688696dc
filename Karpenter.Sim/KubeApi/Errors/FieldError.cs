using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Json;

namespace Karpenter.Sim.KubeApi.Errors;

/// <summary>
/// One validation failure, rendered like apimachinery's <c>field.Error</c>:
/// <c>spec.replicas: Invalid value: -1: must be greater than or equal to 0</c>.
/// </summary>
internal sealed record FieldError(string Reason, string Field, string Body)
{
    public override string ToString() => Field.Length == 0 ? Body : $"{Field}: {Body}";

    public static FieldError Invalid(string field, JsonNode? value, string detail) =>
        new("FieldValueInvalid", field, $"Invalid value: {RenderValue(value)}{(detail.Length > 0 ? ": " + detail : "")}");

    /// <summary>An invalid object or array value, whose value is omitted in the rendering.</summary>
    public static FieldError InvalidOmitValue(string field, string detail) =>
        new("FieldValueInvalid", field, $"Invalid value: {detail}");

    public static FieldError Required(string field, string detail = "") =>
        new("FieldValueRequired", field, "Required value" + (detail.Length > 0 ? ": " + detail : ""));

    public static FieldError Forbidden(string field, string detail) =>
        new("FieldValueForbidden", field, "Forbidden: " + detail);

    public static FieldError NotSupported(string field, JsonNode? value, IEnumerable<string> supported) =>
        new("FieldValueNotSupported", field,
            $"Unsupported value: {RenderValue(value)}: supported values: {string.Join(", ", supported.Select(s => "\"" + s + "\""))}");

    public static FieldError Duplicate(string field, JsonNode? value) =>
        new("FieldValueDuplicate", field, $"Duplicate value: {RenderValue(value)}");

    public static FieldError TooLong(string field, int max) =>
        new("FieldValueTooLong", field, $"Too long: may not be more than {max.ToString(CultureInfo.InvariantCulture)} bytes");

    public static FieldError TooMany(string field, int actual, int max) =>
        new("FieldValueTooMany", field,
            $"Too many: {actual.ToString(CultureInfo.InvariantCulture)}: must have at most {max.ToString(CultureInfo.InvariantCulture)} items");

    public static FieldError TypeInvalid(string field, JsonNode? value, string detail) =>
        new("FieldValueTypeInvalid", field, $"Invalid value: {RenderValue(value)}: {detail}");

    /// <summary>Go's <c>%#v</c>-like rendering used by field errors: strings quoted, numbers bare, objects elided.</summary>
    public static string RenderValue(JsonNode? value)
    {
        switch (value)
        {
            case null:
                return "null";
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return KubeJson.GoQuote(v.GetValue<string>());
            case JsonValue v:
                return v.ToJsonString();
            case JsonArray a:
                return "[]interface {}{" + string.Join(", ", a.Select(RenderValue)) + "}";
            default:
                return "map[string]interface {}{...}";
        }
    }
}
