using System.Globalization;
using System.Text;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>One part of a MIME multi-part user data archive: its headers (canonical names, as Go's textproto keeps them) and body.</summary>
public sealed record MimePart(IReadOnlyList<KeyValuePair<string, string>> Headers, string Content)
{
    public const string ShellScript = "text/x-shellscript; charset=\"us-ascii\"";
    public const string NodeConfig = "application/node.eks.aws";

    public MimePart(string contentType, string content) : this([new("Content-Type", contentType)], content)
    {
    }

    public string ContentType => Headers.FirstOrDefault(h => h.Key == "Content-Type").Value ?? "";
}

/// <summary>
/// Reads and writes the <c>multipart/mixed</c> archives that cloud-init and nodeadm consume, the way upstream does with Go's
/// <c>mime/multipart</c>: boundary <c>//</c>, LF line ends (carriage returns are stripped), the part body excluding the line
/// break before the next boundary.
/// </summary>
public static class MimeArchive
{
    public const string Boundary = "//";

    /// <summary>True when the text is a MIME document (starts with a <c>MIME-Version:</c> or <c>Content-Type:</c> header).</summary>
    public static bool IsMime(string userData)
    {
        ArgumentNullException.ThrowIfNull(userData);
        var trimmed = userData.TrimStart();
        return trimmed.StartsWith("MIME-Version:", StringComparison.Ordinal) || trimmed.StartsWith("Content-Type:", StringComparison.Ordinal);
    }

    /// <summary>Splits a multi-part document into its parts; throws <see cref="UserDataException"/> with the reason when malformed.</summary>
    public static IReadOnlyList<MimePart> Parse(string document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var lines = document.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var index = 0;
        var headers = ReadHeaders(lines, ref index);
        var contentType = headers.FirstOrDefault(h => h.Key == "Content-Type").Value
            ?? throw new UserDataException("the MIME user data has no Content-Type header");
        var (mediaType, parameters) = ParseMediaType(contentType);
        if (!mediaType.StartsWith("multipart/", StringComparison.Ordinal))
        {
            throw new UserDataException($"the MIME user data is '{mediaType}', not multipart");
        }
        if (!parameters.TryGetValue("boundary", out var boundary) || boundary.Length == 0)
        {
            throw new UserDataException("the multipart MIME user data has no boundary parameter");
        }
        var delimiter = "--" + boundary;
        var closing = delimiter + "--";
        // Skip the preamble up to the first delimiter.
        while (index < lines.Length && lines[index].TrimEnd(' ', '\t') != delimiter)
        {
            if (lines[index].TrimEnd(' ', '\t') == closing)
            {
                return [];
            }
            index++;
        }
        if (index >= lines.Length)
        {
            throw new UserDataException($"the multipart MIME user data has no part delimited by '{delimiter}'");
        }
        index++;
        var parts = new List<MimePart>();
        while (true)
        {
            var partHeaders = ReadHeaders(lines, ref index);
            var body = new List<string>();
            var terminated = false;
            var last = false;
            while (index < lines.Length)
            {
                var line = lines[index++];
                var trimmed = line.TrimEnd(' ', '\t');
                if (trimmed == delimiter)
                {
                    terminated = true;
                    break;
                }
                if (trimmed == closing)
                {
                    terminated = last = true;
                    break;
                }
                body.Add(line);
            }
            if (!terminated)
            {
                throw new UserDataException($"the multipart MIME user data ends without the closing '{closing}'");
            }
            parts.Add(new MimePart(partHeaders, string.Join('\n', body)));
            if (last)
            {
                return parts;
            }
        }
    }

    /// <summary>Writes parts as one archive (plain text; the caller base64-encodes it for EC2).</summary>
    public static string Serialize(IEnumerable<MimePart> parts, bool allHeaders)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var sb = new StringBuilder();
        sb.Append("MIME-Version: 1.0\n");
        sb.Append("Content-Type: multipart/mixed; boundary=\"").Append(Boundary).Append("\"\n\n");
        var first = true;
        foreach (var part in parts)
        {
            sb.Append(first ? "" : "\n").Append("--").Append(Boundary).Append('\n');
            first = false;
            var headers = allHeaders
                ? part.Headers.OrderBy(h => h.Key, StringComparer.Ordinal)
                : part.Headers.Where(h => h.Key == "Content-Type");
            foreach (var (key, value) in headers)
            {
                sb.Append(key).Append(": ").Append(value).Append('\n');
            }
            sb.Append('\n').Append(part.Content);
        }
        sb.Append("\n--").Append(Boundary).Append("--\n");
        return sb.ToString();
    }

    private static List<KeyValuePair<string, string>> ReadHeaders(string[] lines, ref int index)
    {
        var headers = new List<KeyValuePair<string, string>>();
        while (index < lines.Length)
        {
            var line = lines[index];
            if (line.Length == 0)
            {
                index++;
                break;
            }
            if ((line[0] == ' ' || line[0] == '\t') && headers.Count > 0)
            {
                // A folded continuation of the previous header.
                var (k, v) = headers[^1];
                headers[^1] = new(k, v + " " + line.Trim());
                index++;
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new UserDataException($"malformed MIME header line '{line}'");
            }
            headers.Add(new(Canonical(line[..colon].Trim()), line[(colon + 1)..].Trim()));
            index++;
        }
        return headers;
    }

    /// <summary>Go's <c>textproto.CanonicalMIMEHeaderKey</c>: <c>content-type</c> → <c>Content-Type</c>.</summary>
    internal static string Canonical(string key)
    {
        var chars = key.ToCharArray();
        var upper = true;
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = upper ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            upper = chars[i] == '-';
        }
        return new string(chars);
    }

    private static (string MediaType, Dictionary<string, string> Parameters) ParseMediaType(string value)
    {
        var segments = value.Split(';');
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var segment in segments.Skip(1))
        {
            var eq = segment.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }
            var v = segment[(eq + 1)..].Trim();
            if (v.Length >= 2 && v[0] == '"' && v[^1] == '"')
            {
                v = v[1..^1];
            }
            parameters[segment[..eq].Trim()] = v;
        }
        return (segments[0].Trim().ToLower(CultureInfo.InvariantCulture), parameters);
    }
}
