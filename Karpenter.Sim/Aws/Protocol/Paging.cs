using System.Globalization;
using System.Text;

namespace Karpenter.Sim.Aws.Protocol;

/// <summary>
/// EC2-style pagination: <c>MaxResults</c> within the call's documented range, an opaque <c>NextToken</c> that is
/// absent on the last page. Tokens encode the offset and the call, so a token from another call is refused.
/// </summary>
internal static class Paging
{
    public static (List<T> Page, string? NextToken) Page<T>(
        IReadOnlyList<T> items, QueryParameters query, string action, int min, int max, int? defaultSize = null)
    {
        var size = query.Int("MaxResults");
        if (size is { } s && (s < min || s > max))
        {
            throw AwsServiceException.InvalidParameterValue(
                $"Value ( {s} ) for parameter maxResults is invalid. Parameter must be between {min} and {max}.");
        }

        var offset = Decode(query["NextToken"], action);
        var take = size ?? defaultSize ?? int.MaxValue;
        var page = items.Skip(offset).Take(take).ToList();
        var next = offset + page.Count < items.Count ? Encode(offset + page.Count, action) : null;
        return (page, next);
    }

    public static string Encode(int offset, string action) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{action}:{offset}")));

    public static int Decode(string? token, string action)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var colon = text.LastIndexOf(':');
            if (colon > 0 && text[..colon] == action &&
                int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                return offset;
            }
        }
        catch (FormatException)
        {
        }

        throw new AwsServiceException("InvalidPaginationToken", $"The pagination token \"{token}\" is invalid.");
    }
}
