using System.Text;

namespace Karpenter.Sim.Cluster.Kubelet.Bootstrap;

/// <summary>
/// Splits a command line into words the way a POSIX shell does (single quotes literal, double quotes with
/// <c>\"</c>, <c>\\</c>, <c>\$</c> and <c>\`</c> escapes, backslash escapes outside quotes, backslash-newline
/// continuations, <c>#</c> comments), or the way PowerShell does (single quotes literal with <c>''</c> for a quote,
/// double quotes, no backslash escapes). Variables are not expanded.
/// </summary>
internal static class ShellWords
{
    public static IReadOnlyList<string> Split(string line, bool powerShell = false)
    {
        ArgumentNullException.ThrowIfNull(line);
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (char.IsWhiteSpace(c))
            {
                Flush();
                continue;
            }

            if (c == '#' && !inWord)
            {
                break;
            }

            inWord = true;
            switch (c)
            {
                case '\'':
                    i = SingleQuoted(line, i, word, powerShell);
                    break;
                case '"':
                    i = DoubleQuoted(line, i, word, powerShell);
                    break;
                case '\\' when !powerShell:
                    if (i + 1 < line.Length)
                    {
                        i++;
                        if (line[i] != '\n')
                        {
                            word.Append(line[i]);
                        }
                    }

                    break;
                default:
                    word.Append(c);
                    break;
            }
        }

        Flush();
        return words;

        void Flush()
        {
            if (inWord)
            {
                words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
        }
    }

    private static int SingleQuoted(string line, int start, StringBuilder word, bool powerShell)
    {
        for (var i = start + 1; i < line.Length; i++)
        {
            if (line[i] != '\'')
            {
                word.Append(line[i]);
                continue;
            }

            if (powerShell && i + 1 < line.Length && line[i + 1] == '\'')
            {
                word.Append('\'');
                i++;
                continue;
            }

            return i;
        }

        throw new BootstrapException($"unterminated single quote in: {Truncate(line)}");
    }

    private static int DoubleQuoted(string line, int start, StringBuilder word, bool powerShell)
    {
        for (var i = start + 1; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '"')
            {
                return i;
            }

            if (!powerShell && c == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`' or '\n')
            {
                i++;
                if (line[i] != '\n')
                {
                    word.Append(line[i]);
                }

                continue;
            }

            if (powerShell && c == '`' && i + 1 < line.Length)
            {
                i++;
                word.Append(line[i]);
                continue;
            }

            word.Append(c);
        }

        throw new BootstrapException($"unterminated double quote in: {Truncate(line)}");
    }

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
