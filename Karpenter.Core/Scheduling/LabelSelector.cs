using System.Text;
using k8s.Models;

namespace Karpenter.Core.Scheduling;

/// <summary>
/// A compiled Kubernetes label selector (<c>matchLabels</c> and <c>matchExpressions</c>). A null selector matches
/// nothing and an empty one matches everything, as <c>metav1.LabelSelectorAsSelector</c> does; a malformed expression
/// makes the selector match nothing and is reported in <see cref="Error"/>.
/// </summary>
public sealed class LabelSelector
{
    private readonly (string Key, string Op, string[] Values)[] _terms;

    private LabelSelector((string, string, string[])[] terms, bool matchesNothing, string? error)
    {
        _terms = terms;
        MatchesNothing = matchesNothing;
        Error = error;
        Key = matchesNothing ? "<nothing>" : string.Join(";", terms.Select(t => $"{t.Item1} {t.Item2} {string.Join(",", t.Item3)}"));
    }

    public static LabelSelector Nothing { get; } = new([], true, null);

    public static LabelSelector Everything { get; } = new([], false, null);

    public bool MatchesNothing { get; }

    public string? Error { get; }

    /// <summary>A canonical text form: equal selectors have equal keys.</summary>
    public string Key { get; }

    /// <summary>Compiles <paramref name="selector"/>; <paramref name="extra"/> adds <c>key In [value]</c> terms (matchLabelKeys).</summary>
    public static LabelSelector From(V1LabelSelector? selector, IEnumerable<KeyValuePair<string, string>>? extra = null)
    {
        if (selector is null)
        {
            return Nothing;
        }

        var terms = new List<(string, string, string[])>();
        foreach (var (k, v) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            terms.Add((k, "In", [v]));
        }

        foreach (var (k, v) in extra ?? [])
        {
            terms.Add((k, "In", [v]));
        }

        foreach (var e in selector.MatchExpressions ?? [])
        {
            var values = (e.Values ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            switch (e.OperatorProperty)
            {
                case "In" or "NotIn" when values.Length > 0:
                case "Exists" or "DoesNotExist" when values.Length == 0:
                    terms.Add((e.Key, e.OperatorProperty, values));
                    break;
                default:
                    return new LabelSelector([], true, $"invalid label selector expression {e.Key} {e.OperatorProperty} [{string.Join(", ", values)}]");
            }
        }

        terms.Sort((a, b) => string.CompareOrdinal(a.Item1 + a.Item2 + string.Join(",", a.Item3), b.Item1 + b.Item2 + string.Join(",", b.Item3)));
        return new LabelSelector([.. terms], false, null);
    }

    public bool Matches(IDictionary<string, string>? labels)
    {
        if (MatchesNothing)
        {
            return false;
        }

        foreach (var (key, op, values) in _terms)
        {
            string? value = null;
            var has = labels is not null && labels.TryGetValue(key, out value);
            var ok = op switch
            {
                "In" => has && Array.IndexOf(values, value) >= 0,
                "NotIn" => !has || Array.IndexOf(values, value) < 0,
                "Exists" => has,
                _ => !has,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString() => Key;

    internal static void AppendLabels(StringBuilder sb, IDictionary<string, string>? labels)
    {
        if (labels is null)
        {
            return;
        }

        foreach (var kv in labels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.Append(kv.Key).Append('=').Append(kv.Value).Append(',');
        }
    }
}
