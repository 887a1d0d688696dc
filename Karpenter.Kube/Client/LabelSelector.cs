using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>Operators of a label requirement, as apimachinery's <c>selection.Operator</c>.</summary>
public enum LabelOperator
{
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// <summary>One requirement of a <see cref="LabelSelector"/>.</summary>
public sealed record LabelRequirement
{
    public LabelRequirement(string key, LabelOperator op, IEnumerable<string>? values = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        var vals = (values ?? []).ToArray();
        LabelSelector.ValidateKey(key);
        switch (op)
        {
            case LabelOperator.Equals or LabelOperator.NotEquals when vals.Length != 1:
                throw new FormatException($"label selector: '{key}' with {op} needs exactly one value");
            case LabelOperator.In or LabelOperator.NotIn when vals.Length == 0:
                throw new FormatException($"label selector: '{key}' with {op} needs at least one value");
            case LabelOperator.Exists or LabelOperator.DoesNotExist when vals.Length != 0:
                throw new FormatException($"label selector: '{key}' with {op} takes no values");
            case LabelOperator.GreaterThan or LabelOperator.LessThan
                when vals.Length != 1 || !long.TryParse(vals[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _):
                throw new FormatException($"label selector: '{key}' with {op} needs one integer value");
        }

        foreach (var v in vals)
        {
            LabelSelector.ValidateValue(key, v);
        }

        Key = key;
        Operator = op;
        Values = vals.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    public string Key { get; }

    public LabelOperator Operator { get; }

    /// <summary>The values, deduplicated and sorted.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>Whether labels satisfy this requirement (<c>!=</c> and <c>notin</c> match objects without the key).</summary>
    public bool Matches(IDictionary<string, string>? labels)
    {
        string? value = null;
        var has = labels is not null && labels.TryGetValue(Key, out value);
        return Operator switch
        {
            LabelOperator.Equals or LabelOperator.In => has && Values.Contains(value!, StringComparer.Ordinal),
            LabelOperator.NotEquals or LabelOperator.NotIn => !has || !Values.Contains(value!, StringComparer.Ordinal),
            LabelOperator.Exists => has,
            LabelOperator.DoesNotExist => !has,
            LabelOperator.GreaterThan => has && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var g)
                && g > long.Parse(Values[0], CultureInfo.InvariantCulture),
            LabelOperator.LessThan => has && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                && l < long.Parse(Values[0], CultureInfo.InvariantCulture),
            _ => false,
        };
    }

    public override string ToString() => Operator switch
    {
        LabelOperator.Equals => $"{Key}={Values[0]}",
        LabelOperator.NotEquals => $"{Key}!={Values[0]}",
        LabelOperator.In => $"{Key} in ({string.Join(',', Values)})",
        LabelOperator.NotIn => $"{Key} notin ({string.Join(',', Values)})",
        LabelOperator.Exists => Key,
        LabelOperator.DoesNotExist => "!" + Key,
        LabelOperator.GreaterThan => $"{Key}>{Values[0]}",
        LabelOperator.LessThan => $"{Key}<{Values[0]}",
        _ => Key,
    };
}

/// <summary>
/// A label selector with the API server's grammar (<c>apimachinery/pkg/labels</c>): parse the
/// <c>?labelSelector=</c> string, build one in code, convert a <see cref="V1LabelSelector"/>, match labels, and
/// print the canonical form (requirements sorted by key).
/// </summary>
public sealed partial class LabelSelector
{
    private LabelSelector(IReadOnlyList<LabelRequirement> requirements, bool nothing)
    {
        Requirements = requirements;
        IsNothing = nothing;
    }

    /// <summary>Matches every object (the empty selector).</summary>
    public static LabelSelector Everything { get; } = new([], false);

    /// <summary>Matches no object (what a null <see cref="V1LabelSelector"/> means for PDBs and services).</summary>
    public static LabelSelector Nothing { get; } = new([], true);

    public IReadOnlyList<LabelRequirement> Requirements { get; }

    public bool IsNothing { get; }

    public bool IsEverything => !IsNothing && Requirements.Count == 0;

    /// <summary>A selector of the given requirements (all must hold).</summary>
    public static LabelSelector Of(IEnumerable<LabelRequirement> requirements) =>
        new(requirements.OrderBy(r => r.Key, StringComparer.Ordinal).ToArray(), false);

    /// <summary><c>k1=v1,k2=v2</c> from a dictionary (matchLabels).</summary>
    public static LabelSelector FromLabels(IEnumerable<KeyValuePair<string, string>> labels) =>
        Of(labels.Select(kv => new LabelRequirement(kv.Key, LabelOperator.Equals, [kv.Value])));

    /// <summary>Adds a requirement and returns the new selector.</summary>
    public LabelSelector And(LabelRequirement requirement) => IsNothing ? this : Of([.. Requirements, requirement]);

    public LabelSelector Equal(string key, string value) => And(new LabelRequirement(key, LabelOperator.Equals, [value]));

    public LabelSelector NotEqual(string key, string value) => And(new LabelRequirement(key, LabelOperator.NotEquals, [value]));

    public LabelSelector In(string key, params string[] values) => And(new LabelRequirement(key, LabelOperator.In, values));

    public LabelSelector NotIn(string key, params string[] values) => And(new LabelRequirement(key, LabelOperator.NotIn, values));

    public LabelSelector Exists(string key) => And(new LabelRequirement(key, LabelOperator.Exists));

    public LabelSelector DoesNotExist(string key) => And(new LabelRequirement(key, LabelOperator.DoesNotExist));

    /// <summary>
    /// Converts a <see cref="V1LabelSelector"/> as apimachinery's <c>LabelSelectorAsSelector</c> does: null matches
    /// nothing, empty matches everything.
    /// </summary>
    public static LabelSelector FromV1(V1LabelSelector? selector)
    {
        if (selector is null)
        {
            return Nothing;
        }

        var requirements = new List<LabelRequirement>();
        foreach (var (k, v) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            requirements.Add(new LabelRequirement(k, LabelOperator.Equals, [v]));
        }

        foreach (var e in selector.MatchExpressions ?? [])
        {
            var op = e.OperatorProperty switch
            {
                "In" => LabelOperator.In,
                "NotIn" => LabelOperator.NotIn,
                "Exists" => LabelOperator.Exists,
                "DoesNotExist" => LabelOperator.DoesNotExist,
                _ => throw new FormatException($"label selector: '{e.OperatorProperty}' is not a valid label selector operator"),
            };
            requirements.Add(new LabelRequirement(e.Key, op, e.Values));
        }

        return Of(requirements);
    }

    /// <summary>Parses the <c>labelSelector</c> query grammar; throws <see cref="FormatException"/> with the reason.</summary>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        return Of(new Parser(text).ParseAll());
    }

    /// <summary>Parses without throwing.</summary>
    public static bool TryParse(string? text, out LabelSelector selector, out string? error)
    {
        try
        {
            selector = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            selector = Nothing;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Whether <paramref name="labels"/> satisfy every requirement.</summary>
    public bool Matches(IDictionary<string, string>? labels) => !IsNothing && Requirements.All(r => r.Matches(labels));

    /// <summary>The canonical query form; empty for <see cref="Everything"/>.</summary>
    public override string ToString() => string.Join(',', Requirements.Select(r => r.ToString()));

    internal static void ValidateKey(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0)
        {
            var prefix = key[..slash];
            if (prefix.Length == 0 || prefix.Length > 253 || !DnsSubdomain().IsMatch(prefix))
            {
                throw new FormatException($"label selector: invalid label key \"{key}\": prefix part must be a lowercase RFC 1123 subdomain");
            }
        }

        if (name.Length == 0 || name.Length > 63 || !QualifiedName().IsMatch(name))
        {
            throw new FormatException(
                $"label selector: invalid label key \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)");
        }
    }

    internal static void ValidateValue(string key, string value)
    {
        if (value.Length > 63 || (value.Length > 0 && !QualifiedName().IsMatch(value)))
        {
            throw new FormatException(
                $"label selector: invalid label value \"{value}\" for key \"{key}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)");
        }
    }

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedName();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    private sealed class Parser(string text)
    {
        private int _pos;

        public List<LabelRequirement> ParseAll()
        {
            var result = new List<LabelRequirement>();
            while (true)
            {
                result.Add(ParseRequirement());
                SkipSpace();
                if (_pos >= text.Length)
                {
                    return result;
                }

                Expect(",");
            }
        }

        private LabelRequirement ParseRequirement()
        {
            SkipSpace();
            if (Peek() == '!' && PeekAt(1) != '=')
            {
                _pos++;
                return new LabelRequirement(ReadWord("key"), LabelOperator.DoesNotExist);
            }

            var key = ReadWord("key");
            SkipSpace();
            if (_pos >= text.Length || Peek() == ',')
            {
                return new LabelRequirement(key, LabelOperator.Exists);
            }

            if (TryRead("==") || TryRead("="))
            {
                return new LabelRequirement(key, LabelOperator.Equals, [ReadValue()]);
            }

            if (TryRead("!="))
            {
                return new LabelRequirement(key, LabelOperator.NotEquals, [ReadValue()]);
            }

            if (TryRead(">"))
            {
                return new LabelRequirement(key, LabelOperator.GreaterThan, [ReadValue()]);
            }

            if (TryRead("<"))
            {
                return new LabelRequirement(key, LabelOperator.LessThan, [ReadValue()]);
            }

            var word = ReadWord("operator");
            var op = word switch
            {
                "in" => LabelOperator.In,
                "notin" => LabelOperator.NotIn,
                _ => throw Error($"found '{word}', expected: in, notin, =, ==, !=, gt, lt"),
            };
            SkipSpace();
            Expect("(");
            var values = new List<string>();
            while (true)
            {
                SkipSpace();
                if (TryRead(")"))
                {
                    if (values.Count == 0)
                    {
                        values.Add(string.Empty);
                    }

                    break;
                }

                values.Add(ReadValue());
                SkipSpace();
                if (TryRead(")"))
                {
                    break;
                }

                Expect(",");
            }

            return new LabelRequirement(key, op, values);
        }

        private string ReadValue()
        {
            SkipSpace();
            var start = _pos;
            while (_pos < text.Length && !IsSpecial(text[_pos]))
            {
                _pos++;
            }

            return text[start.._pos];
        }

        private string ReadWord(string what)
        {
            var w = ReadValue();
            return w.Length == 0 ? throw Error($"expected a {what}") : w;
        }

        private void Expect(string token)
        {
            SkipSpace();
            if (!TryRead(token))
            {
                throw Error($"expected '{token}'");
            }
        }

        private bool TryRead(string token)
        {
            if (string.CompareOrdinal(text, _pos, token, 0, token.Length) == 0)
            {
                _pos += token.Length;
                return true;
            }

            return false;
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }

        private char Peek() => _pos < text.Length ? text[_pos] : '\0';

        private char PeekAt(int offset) => _pos + offset < text.Length ? text[_pos + offset] : '\0';

        private static bool IsSpecial(char c) => char.IsWhiteSpace(c) || c is '!' or '=' or ',' or '(' or ')' or '<' or '>';

        private FormatException Error(string what)
        {
            var sb = new StringBuilder("unable to parse requirement: ").Append(what).Append(" at position ").Append(_pos)
                .Append(" of \"").Append(text).Append('"');
            return new FormatException(sb.ToString());
        }
    }
}
