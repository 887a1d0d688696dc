using Amazon.EC2.Model;

namespace Karpenter.Aws.Sdk;

/// <summary>EC2 <c>Filter</c> construction shared by the selector-term providers.</summary>
internal static class Ec2Filters
{
    public static Filter Of(string name, params IEnumerable<string> values) => new() { Name = name, Values = [.. values] };

    /// <summary>One filter per tag: <c>tag:key=value</c>, or <c>tag-key=key</c> when the value is <c>*</c> (any value).</summary>
    public static IEnumerable<Filter> ForTags(IReadOnlyDictionary<string, string>? tags) =>
        (tags ?? new Dictionary<string, string>())
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => t.Value == "*" ? Of("tag-key", t.Key) : Of($"tag:{t.Key}", t.Value));

    /// <summary>A stable text of filter sets, for cache keys.</summary>
    public static string Key(IEnumerable<IEnumerable<Filter>> sets) =>
        string.Join("|", sets.Select(set => string.Join("&", set.Select(f => $"{f.Name}={string.Join(",", f.Values ?? [])}"))));
}
