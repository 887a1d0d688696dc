namespace Karpenter.Sim.Aws.Protocol;

/// <summary>A resource that EC2 filters can match: it lists its values for a filter name, or null if the name is unknown.</summary>
internal interface IFilterable
{
    IReadOnlyDictionary<string, string> Tags { get; }

    IEnumerable<string>? FilterValues(string name);
}

/// <summary>EC2 filter semantics: filters ANDed, values ORed, <c>*</c> and <c>?</c> wildcards (<c>\</c> escapes), tag filters.</summary>
internal static class Filtering
{
    public static IEnumerable<T> Apply<T>(IEnumerable<T> items, IReadOnlyList<Filter> filters)
        where T : IFilterable
    {
        if (filters.Count == 0)
        {
            return items;
        }

        return items.Where(item => filters.All(f => Matches(item, f)));
    }

    /// <summary>Fails with the real error when a filter name is not one this resource supports.</summary>
    public static void Validate<T>(IReadOnlyList<Filter> filters, T probe)
        where T : IFilterable
    {
        foreach (var filter in filters)
        {
            if (ValuesOf(probe, filter.Name) is null)
            {
                throw new AwsServiceException("InvalidParameterValue", $"The filter '{filter.Name}' is invalid");
            }
        }
    }

    private static bool Matches(IFilterable item, Filter filter)
    {
        var values = ValuesOf(item, filter.Name)
            ?? throw new AwsServiceException("InvalidParameterValue", $"The filter '{filter.Name}' is invalid");
        foreach (var value in values)
        {
            foreach (var pattern in filter.Values)
            {
                if (Wildcard.IsMatch(value, pattern))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static IEnumerable<string>? ValuesOf(IFilterable item, string name)
    {
        if (name.StartsWith("tag:", StringComparison.Ordinal))
        {
            return item.Tags.TryGetValue(name[4..], out var v) ? [v] : [];
        }

        return name switch
        {
            "tag-key" => item.Tags.Keys,
            "tag-value" => item.Tags.Values,
            _ => item.FilterValues(name),
        };
    }
}

/// <summary>EC2's filter wildcards: <c>*</c> any run, <c>?</c> one character, <c>\</c> escapes the next character.</summary>
internal static class Wildcard
{
    public static bool IsMatch(string value, string pattern) => Match(value.AsSpan(), pattern.AsSpan());

    private static bool Match(ReadOnlySpan<char> value, ReadOnlySpan<char> pattern)
    {
        while (true)
        {
            if (pattern.IsEmpty)
            {
                return value.IsEmpty;
            }

            switch (pattern[0])
            {
                case '*':
                    var rest = pattern[1..];
                    for (var i = 0; i <= value.Length; i++)
                    {
                        if (Match(value[i..], rest))
                        {
                            return true;
                        }
                    }

                    return false;
                case '?':
                    if (value.IsEmpty)
                    {
                        return false;
                    }

                    value = value[1..];
                    pattern = pattern[1..];
                    break;
                case '\\' when pattern.Length > 1:
                    if (value.IsEmpty || value[0] != pattern[1])
                    {
                        return false;
                    }

                    value = value[1..];
                    pattern = pattern[2..];
                    break;
                default:
                    if (value.IsEmpty || value[0] != pattern[0])
                    {
                        return false;
                    }

                    value = value[1..];
                    pattern = pattern[1..];
                    break;
            }
        }
    }
}
