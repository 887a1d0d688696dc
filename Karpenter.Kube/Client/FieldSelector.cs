using System.Text;

namespace Karpenter.Kube.Client;

/// <summary>One <c>field=value</c> or <c>field!=value</c> term of a <see cref="FieldSelector"/>.</summary>
public sealed record FieldRequirement(string Field, bool Equal, string Value)
{
    public override string ToString() => $"{Field}{(Equal ? "=" : "!=")}{FieldSelector.Escape(Value)}";
}

/// <summary>
/// A field selector with the API server's grammar (<c>apimachinery/pkg/fields</c>): terms <c>k=v</c>, <c>k==v</c>,
/// <c>k!=v</c> joined by commas, with <c>\</c>, <c>,</c> and <c>=</c> escaped by a backslash in values; an empty value
/// is legal (<c>spec.nodeName=</c> selects unscheduled pods). Which fields a resource supports is the server's
/// business: unsupported ones are refused with 400.
/// </summary>
public sealed class FieldSelector
{
    private FieldSelector(IReadOnlyList<FieldRequirement> requirements) => Requirements = requirements;

    public static FieldSelector Everything { get; } = new([]);

    public IReadOnlyList<FieldRequirement> Requirements { get; }

    public bool IsEverything => Requirements.Count == 0;

    /// <summary><c>field=value</c>.</summary>
    public static FieldSelector OneTermEqual(string field, string value) => Everything.Equal(field, value);

    public FieldSelector Equal(string field, string value) => new([.. Requirements, new FieldRequirement(Check(field), true, value ?? string.Empty)]);

    public FieldSelector NotEqual(string field, string value) => new([.. Requirements, new FieldRequirement(Check(field), false, value ?? string.Empty)]);

    /// <summary>Parses the <c>fieldSelector</c> query grammar; throws <see cref="FormatException"/> with the reason.</summary>
    public static FieldSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var terms = new List<FieldRequirement>();
        foreach (var term in SplitUnescaped(text, ','))
        {
            if (term.Length == 0)
            {
                continue;
            }

            var (index, op) = FindOperator(term);
            if (index < 0)
            {
                throw new FormatException($"invalid selector: '{text}'; can't understand '{term}'");
            }

            var field = term[..index].Trim();
            var raw = term[(index + op.Length)..];
            if (field.Length == 0)
            {
                throw new FormatException($"invalid selector: '{text}'; empty field name in '{term}'");
            }

            terms.Add(new FieldRequirement(field, op != "!=", Unescape(raw, text)));
        }

        return new FieldSelector(terms);
    }

    /// <summary>Whether an object satisfies every term, given a way to read its fields (missing fields read as empty).</summary>
    public bool Matches(Func<string, string?> field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return Requirements.All(r => string.Equals(field(r.Field) ?? string.Empty, r.Value, StringComparison.Ordinal) == r.Equal);
    }

    public override string ToString() => string.Join(',', Requirements.Select(r => r.ToString()));

    internal static string Escape(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is '\\' or ',' or '=')
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private static string Check(string field)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(field);
        return field;
    }

    private static (int Index, string Op) FindOperator(string term)
    {
        for (var i = 0; i < term.Length; i++)
        {
            if (term[i] == '\\')
            {
                i++;
                continue;
            }

            if (term[i] == '!' && i + 1 < term.Length && term[i + 1] == '=')
            {
                return (i, "!=");
            }

            if (term[i] == '=')
            {
                return i + 1 < term.Length && term[i + 1] == '=' ? (i, "==") : (i, "=");
            }
        }

        return (-1, string.Empty);
    }

    private static IEnumerable<string> SplitUnescaped(string text, char separator)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == separator)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }

    private static string Unescape(string raw, string whole)
    {
        var sb = new StringBuilder(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '\\')
            {
                if (i + 1 >= raw.Length || raw[i + 1] is not ('\\' or ',' or '='))
                {
                    throw new FormatException($"invalid selector: '{whole}'; invalid escape sequence in '{raw}'");
                }

                sb.Append(raw[++i]);
            }
            else if (c is ',' or '=')
            {
                throw new FormatException($"invalid selector: '{whole}'; unescaped '{c}' in value '{raw}'");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
