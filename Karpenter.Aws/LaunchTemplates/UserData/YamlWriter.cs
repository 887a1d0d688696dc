using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>
/// Writes a tree of maps (keys sorted), lists and scalars as block YAML in the layout of <c>sigs.k8s.io/yaml</c> (go-yaml v2):
/// two-space indentation, list items at their parent key's indentation, <c>{}</c> for empty maps, and quotes only where a plain
/// scalar would be read back as something else.
/// </summary>
internal static partial class YamlWriter
{
    [GeneratedRegex("^(true|false|yes|no|on|off|y|n|null|~|[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)|0x[0-9a-fA-F]+|0o?[0-7]+)$",
        RegexOptions.IgnoreCase)]
    private static partial Regex Ambiguous();

    /// <summary>
    /// go-yaml v2's key order (<c>sorter.go</c>): rune by rune, letters by code point, a non-letter before a letter, and runs of
    /// digits compared as numbers.
    /// </summary>
    public static readonly IComparer<string> KeyOrder = Comparer<string>.Create(CompareKeys);

    /// <summary>A map for <see cref="Write"/>: keys in go-yaml's order.</summary>
    public static SortedDictionary<string, object?> Map(params (string Key, object? Value)[] entries)
    {
        var map = new SortedDictionary<string, object?>(KeyOrder);
        foreach (var (key, value) in entries)
        {
            map[key] = value;
        }
        return map;
    }

    private static int CompareKeys(string? a, string? b)
    {
        a ??= "";
        b ??= "";
        for (var i = 0; i < a.Length && i < b.Length; i++)
        {
            if (a[i] == b[i])
            {
                continue;
            }
            bool al = char.IsLetter(a[i]), bl = char.IsLetter(b[i]);
            if (al && bl)
            {
                return a[i].CompareTo(b[i]);
            }
            if (al || bl)
            {
                return bl ? -1 : 1;
            }
            int ai = i, bi = i;
            long an = 0, bn = 0;
            for (; ai < a.Length && char.IsAsciiDigit(a[ai]); ai++)
            {
                an = (an * 10) + (a[ai] - '0');
            }
            for (; bi < b.Length && char.IsAsciiDigit(b[bi]); bi++)
            {
                bn = (bn * 10) + (b[bi] - '0');
            }
            if (an != bn)
            {
                return an.CompareTo(bn);
            }
            if (ai != bi)
            {
                return ai.CompareTo(bi);
            }
            return a[i].CompareTo(b[i]);
        }
        return a.Length.CompareTo(b.Length);
    }

    public static string Write(SortedDictionary<string, object?> root)
    {
        var sb = new StringBuilder();
        WriteMap(sb, root, 0);
        return sb.ToString();
    }

    private static void WriteMap(StringBuilder sb, SortedDictionary<string, object?> map, int indent, bool firstInline = false)
    {
        var first = true;
        foreach (var (key, value) in map)
        {
            if (!(first && firstInline))
            {
                sb.Append(' ', indent);
            }
            first = false;
            sb.Append(Scalar(key)).Append(':');
            WriteValue(sb, value, indent);
        }
    }

    private static void WriteValue(StringBuilder sb, object? value, int indent)
    {
        switch (value)
        {
            case SortedDictionary<string, object?> { Count: 0 }:
                sb.Append(" {}\n");
                break;
            case SortedDictionary<string, object?> child:
                sb.Append('\n');
                WriteMap(sb, child, indent + 2);
                break;
            case List<object?> { Count: 0 }:
                sb.Append(" []\n");
                break;
            case List<object?> list:
                sb.Append('\n');
                foreach (var item in list)
                {
                    sb.Append(' ', indent).Append('-');
                    if (item is SortedDictionary<string, object?> { Count: > 0 } m)
                    {
                        sb.Append(' ');
                        WriteMap(sb, m, indent + 2, firstInline: true);
                    }
                    else
                    {
                        WriteValue(sb, item, indent + 2);
                    }
                }
                break;
            default:
                sb.Append(' ').Append(Scalar(value)).Append('\n');
                break;
        }
    }

    internal static string Scalar(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        string s => NeedsQuotes(s) ? DoubleQuoted(s) : s,
        _ => throw new ArgumentException($"unsupported YAML scalar {value.GetType()}"),
    };

    private static bool NeedsQuotes(string s)
    {
        if (s.Length == 0 || char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1]) || Ambiguous().IsMatch(s))
        {
            return true;
        }
        if ("!&*{}[]|>'\"%@`#,".Contains(s[0], StringComparison.Ordinal))
        {
            return true;
        }
        if (s[0] is '-' or '?' or ':' && (s.Length == 1 || s[1] == ' '))
        {
            return true;
        }
        return s.Contains(": ", StringComparison.Ordinal) || s.Contains(" #", StringComparison.Ordinal) || s.EndsWith(':')
            || s.Any(c => c < 0x20 || c == 0x7f);
    }

    private static string DoubleQuoted(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when c < 0x20 => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }
}
