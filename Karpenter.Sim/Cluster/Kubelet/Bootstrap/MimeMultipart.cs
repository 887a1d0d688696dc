using System.Text;

namespace Karpenter.Sim.Cluster.Kubelet.Bootstrap;

/// <summary>One part of a MIME multi-part user data document: its content type and decoded body.</summary>
internal sealed record MimeBodyPart(string ContentType, string Body);

/// <summary>
/// Reads MIME multi-part user data as cloud-init and nodeadm do (RFC 2046 <c>multipart/mixed</c> with the boundary
/// from the top-level <c>Content-Type</c>; parts may be <c>base64</c> transfer-encoded).
/// </summary>
internal static class MimeMultipart
{
    /// <summary>Whether the document is a MIME message (it starts with a MIME header).</summary>
    public static bool IsMime(string document) =>
        document.TrimStart().StartsWith("MIME-Version:", StringComparison.OrdinalIgnoreCase) ||
        document.TrimStart().StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase);

    public static IReadOnlyList<MimeBodyPart> Parse(string document)
    {
        var text = document.Replace("\r\n", "\n", StringComparison.Ordinal);
        var (headers, body) = SplitHeaders(text);
        var contentType = headers.GetValueOrDefault("content-type") ?? "text/plain";
        if (!contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            return [new MimeBodyPart(MediaType(contentType), Decode(body, headers))];
        }

        var boundary = Parameter(contentType, "boundary")
            ?? throw new BootstrapException($"MIME user data declares {contentType} without a boundary");
        var delimiter = "--" + boundary;
        var parts = new List<MimeBodyPart>();
        StringBuilder? current = null;
        var closed = false;
        foreach (var line in body.Split('\n'))
        {
            var trimmed = line.TrimEnd();
            if (trimmed == delimiter + "--")
            {
                AddPart();
                closed = true;
                break;
            }

            if (trimmed == delimiter)
            {
                AddPart();
                current = new StringBuilder();
                continue;
            }

            current?.Append(line).Append('\n');
        }

        if (!closed)
        {
            throw new BootstrapException($"MIME user data has no closing boundary \"{delimiter}--\"");
        }

        return parts;

        void AddPart()
        {
            if (current is null)
            {
                return;
            }

            var (partHeaders, partBody) = SplitHeaders(current.ToString());
            var type = partHeaders.GetValueOrDefault("content-type") ?? "text/plain";
            // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
            if (partBody.EndsWith('\n'))
            {
                partBody = partBody[..^1];
            }

            parts.Add(new MimeBodyPart(MediaType(type), Decode(partBody, partHeaders)));
        }
    }

    private static (Dictionary<string, string> Headers, string Body) SplitHeaders(string text)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var position = 0;
        string? last = null;
        while (position < text.Length)
        {
            var end = text.IndexOf('\n', position);
            var line = end < 0 ? text[position..] : text[position..end];
            position = end < 0 ? text.Length : end + 1;
            if (line.Length == 0)
            {
                break;
            }

            if (char.IsWhiteSpace(line[0]) && last is not null)
            {
                headers[last] += " " + line.Trim();
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                // No header block: the whole text is the body.
                return (new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase), text);
            }

            last = line[..colon].Trim();
            headers[last] = line[(colon + 1)..].Trim();
        }

        return (headers, position >= text.Length ? string.Empty : text[position..]);
    }

    private static string Decode(string body, Dictionary<string, string> headers)
    {
        if (!string.Equals(headers.GetValueOrDefault("content-transfer-encoding"), "base64", StringComparison.OrdinalIgnoreCase))
        {
            return body;
        }

        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(string.Concat(body.Where(c => !char.IsWhiteSpace(c)))));
        }
        catch (FormatException e)
        {
            throw new BootstrapException("a MIME part declares base64 transfer encoding but is not valid base64", e);
        }
    }

    private static string MediaType(string contentType)
    {
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim().ToLowerInvariant();
    }

    private static string? Parameter(string contentType, string name)
    {
        foreach (var piece in contentType.Split(';').Skip(1))
        {
            var eq = piece.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && string.Equals(piece[..eq].Trim(), name, StringComparison.OrdinalIgnoreCase))
            {
                return piece[(eq + 1)..].Trim().Trim('"');
            }
        }

        return null;
    }
}
