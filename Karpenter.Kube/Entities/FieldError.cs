using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Karpenter.Kube.Entities;

/// <summary>
/// One validation failure as the API server reports it (apimachinery's <c>field.Error</c>):
/// <c>spec.weight: Invalid value: 101: spec.weight in body should be less than or equal to 100</c>. <see cref="Reason"/>
/// is the cause type of the Status (<c>FieldValueInvalid</c>, <c>FieldValueRequired</c>, …).
/// </summary>
public sealed record FieldError(string Reason, string Field, string Body)
{
    public override string ToString() => Field.Length == 0 ? Body : $"{Field}: {Body}";

    public static FieldError Invalid(string field, JsonNode? value, string detail) =>
        new("FieldValueInvalid", field, $"Invalid value: {RenderValue(value)}{(detail.Length > 0 ? ": " + detail : string.Empty)}");

    /// <summary>
    /// A failed CEL rule, as the API server reports it: with the node's schema type (<c>"object"</c>, <c>"array"</c>,
    /// <c>"string"</c>, …) where other errors show the value.
    /// </summary>
    public static FieldError Rule(string field, string schemaType, string message) =>
        new("FieldValueInvalid", field, $"Invalid value: {GoQuote(schemaType)}: {message}");

    public static FieldError Required(string field, string detail = "") =>
        new("FieldValueRequired", field, "Required value" + (detail.Length > 0 ? ": " + detail : string.Empty));

    public static FieldError Forbidden(string field, string detail) =>
        new("FieldValueForbidden", field, "Forbidden: " + detail);

    public static FieldError NotSupported(string field, JsonNode? value, IEnumerable<string> supported) =>
        new("FieldValueNotSupported", field, $"Unsupported value: {RenderValue(value)}: supported values: {string.Join(", ", supported.Select(s => "\"" + s + "\""))}");

    public static FieldError Duplicate(string field, JsonNode? value) =>
        new("FieldValueDuplicate", field, $"Duplicate value: {RenderValue(value)}");

    public static FieldError TooLong(string field, long max) =>
        new("FieldValueTooLong", field, $"Too long: may not be more than {max.ToString(CultureInfo.InvariantCulture)} bytes");

    public static FieldError TooMany(string field, long actual, long max) =>
        new("FieldValueTooMany", field, $"Too many: {actual.ToString(CultureInfo.InvariantCulture)}: must have at most {max.ToString(CultureInfo.InvariantCulture)} items");

    /// <summary>Strings quoted as Go's <c>%q</c> does, numbers and booleans bare, lists and maps in Go's <c>%#v</c> shape.</summary>
    public static string RenderValue(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => GoQuote(v.GetValue<string>()),
        JsonValue v => v.ToJsonString(),
        JsonArray a => "[]interface {}{" + string.Join(", ", a.Select(RenderValue)) + "}",
        _ => "map[string]interface {}{...}",
    };

    /// <summary>Go's <c>strconv.Quote</c>.</summary>
    public static string GoQuote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length + 2).Append('"');
        foreach (var rune in text.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\a': builder.Append("\\a"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\v': builder.Append("\\v"); break;
                default:
                    if (rune.Value < 0x20 || rune.Value == 0x7f)
                    {
                        builder.Append("\\x").Append(rune.Value.ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else if (Rune.IsControl(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
                    {
                        builder.Append(rune.Value > 0xFFFF ? $"\\U{rune.Value:x8}" : $"\\u{rune.Value:x4}");
                    }
                    else
                    {
                        builder.Append(rune.ToString());
                    }

                    break;
            }
        }

        return builder.Append('"').ToString();
    }
}
