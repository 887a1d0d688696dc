using System.Text;
using Karpenter.Sim.KubeApi.Errors;

namespace Karpenter.Sim.KubeApi.Selectors;

internal sealed record FieldRequirement(string Field, bool Equal, string Value);

/// <summary>
/// A parsed <c>fieldSelector</c> (apimachinery <c>fields.ParseSelector</c>): <c>key=value</c>, <c>key==value</c>,
/// <c>key!=value</c>, comma = AND, with <c>\</c>, <c>,</c> and <c>=</c> escaped by a backslash in values.
/// </summary>
internal sealed class FieldSelector
{
    public static readonly FieldSelector Everything = new([]);

    private FieldSelector(IReadOnlyList<FieldRequirement> requirements) => Requirements = requirements;

    public IReadOnlyList<FieldRequirement> Requirements { get; }

    public bool IsEmpty => Requirements.Count == 0;

    /// <summary>The value required for <paramref name="field"/> by an equality term, if any.</summary>
    public string? RequiredValue(string field) =>
        Requirements.FirstOrDefault(r => r.Equal && r.Field == field)?.Value;

    public bool Matches(Func<string, string?> fieldValue)
    {
        foreach (var requirement in Requirements)
        {
            var actual = fieldValue(requirement.Field) ?? "";
            if ((actual == requirement.Value) != requirement.Equal)
            {
                return false;
            }
        }

        return true;
    }

    public FieldSelector With(FieldRequirement requirement) => new([.. Requirements, requirement]);

    public static FieldSelector Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Everything;
        }

        var requirements = new List<FieldRequirement>();
        foreach (var term in SplitTerms(text))
        {
            if (term.Length == 0)
            {
                continue;
            }

            requirements.Add(ParseTerm(term));
        }

        return new FieldSelector(requirements);
    }

    private static FieldRequirement ParseTerm(string term)
    {
        // Operators are searched outside escapes; "!=" before "==" before "=".
        for (var i = 0; i < term.Length; i++)
        {
            if (term[i] == '\\')
            {
                i++;
                continue;
            }

            if (term[i] == '!' && i + 1 < term.Length && term[i + 1] == '=')
            {
                return new FieldRequirement(term[..i], false, Unescape(term[(i + 2)..]));
            }

            if (term[i] == '=')
            {
                var skip = i + 1 < term.Length && term[i + 1] == '=' ? 2 : 1;
                return new FieldRequirement(term[..i], true, Unescape(term[(i + skip)..]));
            }
        }

        throw ApiError.BadRequest($"invalid selector: '{term}'; can't understand '{term}'");
    }

    private static IEnumerable<string> SplitTerms(string text)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\' && i + 1 < text.Length)
            {
                sb.Append(c).Append(text[++i]);
                continue;
            }

            if (c == ',')
            {
                yield return sb.ToString();
                sb.Clear();
                continue;
            }

            sb.Append(c);
        }

        yield return sb.ToString();
    }

    private static string Unescape(string value)
    {
        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            return value;
        }

        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                var next = value[i + 1];
                if (next is '\\' or ',' or '=')
                {
                    sb.Append(next);
                    i++;
                    continue;
                }

                throw ApiError.BadRequest($"invalid field selector: invalid escape sequence: \\{next}");
            }

            sb.Append(value[i]);
        }

        return sb.ToString();
    }
}
