using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Tomlyn.Model;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>
/// Writes a TOML document in the layout of <c>pelletier/go-toml/v2</c>, which upstream's Bottlerocket user data uses: in each
/// table the key/values first and the sub-tables after, literal (single-quoted) strings where possible, bare keys where allowed,
/// inline arrays, and a blank line before a table header that follows key/values.
/// Tables are <see cref="TomlTable"/> (whose key order is kept: callers sort or order them as upstream does).
/// </summary>
internal static partial class TomlWriter
{
    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex BareKey();

    public static string Write(TomlTable root)
    {
        var sb = new StringBuilder();
        var lastWasValue = false;
        WriteTable(sb, root, [], ref lastWasValue, header: false);
        return sb.ToString();
    }

    private static void WriteTable(StringBuilder sb, TomlTable table, List<string> path, ref bool lastWasValue, bool header)
    {
        if (header)
        {
            if (lastWasValue)
            {
                sb.Append('\n');
            }
            sb.Append('[').Append(string.Join('.', path.Select(Key))).Append("]\n");
            lastWasValue = false;
        }
        foreach (var (key, value) in table)
        {
            if (value is TomlTable or TomlTableArray)
            {
                continue;
            }
            sb.Append(Key(key)).Append(" = ").Append(Value(value)).Append('\n');
            lastWasValue = true;
        }
        foreach (var (key, value) in table)
        {
            switch (value)
            {
                case TomlTable child:
                    WriteTable(sb, child, [.. path, key], ref lastWasValue, header: true);
                    break;
                case TomlTableArray array:
                    foreach (var item in array)
                    {
                        if (lastWasValue)
                        {
                            sb.Append('\n');
                        }
                        sb.Append("[[").Append(string.Join('.', path.Append(key).Select(Key))).Append("]]\n");
                        lastWasValue = false;
                        WriteTable(sb, item, [.. path, key], ref lastWasValue, header: false);
                    }
                    break;
            }
        }
    }

    internal static string Key(string key) => BareKey().IsMatch(key) ? key : String(key);

    internal static string Value(object? value) => value switch
    {
        string s => String(s),
        bool b => b ? "true" : "false",
        long or int => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        double d => double.IsPositiveInfinity(d) ? "inf" : double.IsNegativeInfinity(d) ? "-inf" : double.IsNaN(d) ? "nan"
            : d.ToString("R", CultureInfo.InvariantCulture) is var r && (r.Contains('.', StringComparison.Ordinal) || r.Contains('E', StringComparison.Ordinal)) ? r : r + ".0",
        TomlArray array => "[" + string.Join(", ", array.Select(Value)) + "]",
        TomlTable inline => "{" + string.Join(", ", inline.Select(p => $"{Key(p.Key)} = {Value(p.Value)}")) + "}",
        IEnumerable<object?> list => "[" + string.Join(", ", list.Select(Value)) + "]",
        null => "''",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string String(string s)
    {
        if (!s.Contains('\'', StringComparison.Ordinal) && !s.Any(c => c < 0x20 || c == 0x7f))
        {
            return "'" + s + "'";
        }
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
                '\b' => "\\b",
                '\f' => "\\f",
                _ when c < 0x20 || c == 0x7f => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }
}
