using System.Globalization;
using System.Text;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Validation;

namespace Karpenter.Sim.KubeApi.Selectors;

internal enum LabelOperator
{
    Exists,
    DoesNotExist,
    Equals,
    NotEquals,
    In,
    NotIn,
    GreaterThan,
    LessThan,
}

internal sealed record LabelRequirement(string Key, LabelOperator Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        var has = labels.TryGetValue(Key, out var value);
        switch (Operator)
        {
            case LabelOperator.Exists:
                return has;
            case LabelOperator.DoesNotExist:
                return !has;
            case LabelOperator.Equals:
            case LabelOperator.In:
                return has && Values.Contains(value!);
            case LabelOperator.NotEquals:
            case LabelOperator.NotIn:
                return !has || !Values.Contains(value!);
            case LabelOperator.GreaterThan:
            case LabelOperator.LessThan:
                if (!has || !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var actual))
                {
                    return false;
                }

                var bound = long.Parse(Values[0], CultureInfo.InvariantCulture);
                return Operator == LabelOperator.GreaterThan ? actual > bound : actual < bound;
            default:
                return false;
        }
    }
}

/// <summary>
/// A parsed <c>labelSelector</c> query (apimachinery <c>labels.Parse</c>): comma-separated requirements,
/// <c>k</c>, <c>!k</c>, <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>, <c>k&gt;1</c>, <c>k&lt;1</c>.
/// </summary>
internal sealed class LabelSelector
{
    public static readonly LabelSelector Everything = new([]);

    private LabelSelector(IReadOnlyList<LabelRequirement> requirements) => Requirements = requirements;

    public IReadOnlyList<LabelRequirement> Requirements { get; }

    public bool IsEmpty => Requirements.Count == 0;

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var requirement in Requirements)
        {
            if (!requirement.Matches(labels))
            {
                return false;
            }
        }

        return true;
    }

    public static LabelSelector FromRequirements(IReadOnlyList<LabelRequirement> requirements) =>
        requirements.Count == 0 ? Everything : new LabelSelector(requirements);

    /// <exception cref="ApiError">400 BadRequest with the parser's message.</exception>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        try
        {
            var parser = new Parser(text);
            var requirements = parser.ParseAll();
            return new LabelSelector(requirements);
        }
        catch (FormatException e)
        {
            throw ApiError.BadRequest($"unable to parse requirement: {e.Message}");
        }
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public List<LabelRequirement> ParseAll()
        {
            var result = new List<LabelRequirement>();
            while (true)
            {
                SkipSpaces();
                if (_pos >= text.Length)
                {
                    if (result.Count > 0 && text.TrimEnd().EndsWith(','))
                    {
                        throw new FormatException($"found '', expected: !, identifier, or 'end of string'");
                    }

                    return result;
                }

                result.Add(ParseRequirement());
                SkipSpaces();
                if (_pos < text.Length)
                {
                    if (text[_pos] != ',')
                    {
                        throw new FormatException($"found '{Rest()}', expected: ',' or 'end of string'");
                    }

                    _pos++;
                }
            }
        }

        private LabelRequirement ParseRequirement()
        {
            SkipSpaces();
            var negated = false;
            if (Peek() == '!')
            {
                negated = true;
                _pos++;
                SkipSpaces();
            }

            var key = ReadIdentifier();
            ValidateKey(key);
            SkipSpaces();
            if (negated)
            {
                return new LabelRequirement(key, LabelOperator.DoesNotExist, []);
            }

            if (_pos >= text.Length || text[_pos] == ',')
            {
                return new LabelRequirement(key, LabelOperator.Exists, []);
            }

            if (Match("==") || Match("="))
            {
                return new LabelRequirement(key, LabelOperator.Equals, [ReadValue()]);
            }

            if (Match("!="))
            {
                return new LabelRequirement(key, LabelOperator.NotEquals, [ReadValue()]);
            }

            if (Match(">") || Match("<"))
            {
                var op = text[_pos - 1] == '>' ? LabelOperator.GreaterThan : LabelOperator.LessThan;
                var value = ReadValue();
                if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                {
                    throw new FormatException($"for 'Gt', 'Lt' operators, the value must be an integer");
                }

                return new LabelRequirement(key, op, [value]);
            }

            var word = ReadIdentifier();
            var setOp = word switch
            {
                "in" => LabelOperator.In,
                "notin" => LabelOperator.NotIn,
                _ => throw new FormatException($"found '{word}', expected: in, notin, =, ==, !=, gt, lt"),
            };
            SkipSpaces();
            if (Peek() != '(')
            {
                throw new FormatException($"found '{Rest()}', expected: '('");
            }

            _pos++;
            var values = new List<string>();
            while (true)
            {
                SkipSpaces();
                if (Peek() == ')')
                {
                    _pos++;
                    break;
                }

                values.Add(ReadValue());
                SkipSpaces();
                if (Peek() == ',')
                {
                    _pos++;
                    continue;
                }

                if (Peek() == ')')
                {
                    _pos++;
                    break;
                }

                throw new FormatException($"found '{Rest()}', expected: ',' or ')'");
            }

            if (values.Count == 0)
            {
                throw new FormatException("for 'in', 'notin' operators, values set can't be empty");
            }

            return new LabelRequirement(key, setOp, values);
        }

        private string ReadIdentifier()
        {
            SkipSpaces();
            var sb = new StringBuilder();
            while (_pos < text.Length && !IsSpecial(text[_pos]) && !char.IsWhiteSpace(text[_pos]))
            {
                sb.Append(text[_pos++]);
            }

            if (sb.Length == 0)
            {
                throw new FormatException($"found '{Rest()}', expected: identifier");
            }

            return sb.ToString();
        }

        private string ReadValue()
        {
            SkipSpaces();
            var sb = new StringBuilder();
            while (_pos < text.Length && !IsSpecial(text[_pos]) && !char.IsWhiteSpace(text[_pos]))
            {
                sb.Append(text[_pos++]);
            }

            var value = sb.ToString();
            var error = ObjectMetaValidation.LabelValueError(value);
            if (error is not null)
            {
                throw new FormatException($"invalid label value: \"{value}\": at key: \"\": {error}");
            }

            return value;
        }

        private static void ValidateKey(string key)
        {
            var error = ObjectMetaValidation.QualifiedNameError(key);
            if (error is not null)
            {
                throw new FormatException($"invalid label key \"{key}\": {error}");
            }
        }

        private static bool IsSpecial(char c) => c is '!' or '=' or '<' or '>' or ',' or '(' or ')';

        private bool Match(string token)
        {
            if (string.CompareOrdinal(text, _pos, token, 0, token.Length) == 0)
            {
                _pos += token.Length;
                return true;
            }

            return false;
        }

        private char Peek() => _pos < text.Length ? text[_pos] : '\0';

        private string Rest() => _pos < text.Length ? text[_pos..] : "";

        private void SkipSpaces()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }
    }
}
