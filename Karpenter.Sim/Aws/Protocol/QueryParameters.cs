using System.Globalization;

namespace Karpenter.Sim.Aws.Protocol;

/// <summary>
/// The flattened parameters of an AWS Query request (<c>Filter.1.Value.2=x</c>), with helpers that read the
/// 1-based lists and nested structures the SDK serializes. Keys are case-sensitive as on the wire.
/// </summary>
internal sealed class QueryParameters
{
    private readonly Dictionary<string, string> _values;

    public QueryParameters(IEnumerable<KeyValuePair<string, string>> values)
    {
        _values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            _values[key] = value;
        }
    }

    public IReadOnlyDictionary<string, string> Values => _values;

    public string? this[string name] => _values.TryGetValue(name, out var v) ? v : null;

    public bool Has(string name) => _values.ContainsKey(name);

    public bool HasPrefix(string prefix) => _values.Keys.Any(k => k.StartsWith(prefix + ".", StringComparison.Ordinal));

    public string Required(string name) =>
        this[name] is { Length: > 0 } v ? v : throw AwsServiceException.MissingParameter(name);

    public bool Bool(string name, bool fallback = false) => this[name] switch
    {
        null or "" => fallback,
        var v when bool.TryParse(v, out var b) => b,
        var v => throw AwsServiceException.InvalidParameterValue($"Value ({v}) for parameter {name} is invalid. Expected: 'true' or 'false'."),
    };

    public int? Int(string name)
    {
        var v = this[name];
        if (string.IsNullOrEmpty(v))
        {
            return null;
        }

        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)
            ? i
            : throw AwsServiceException.InvalidParameterValue($"Value ({v}) for parameter {name} is invalid. Expected an integer.");
    }

    public double? Double(string name)
    {
        var v = this[name];
        if (string.IsNullOrEmpty(v))
        {
            return null;
        }

        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            ? d
            : throw AwsServiceException.InvalidParameterValue($"Value ({v}) for parameter {name} is invalid. Expected a number.");
    }

    public DateTimeOffset? Time(string name)
    {
        var v = this[name];
        if (string.IsNullOrEmpty(v))
        {
            return null;
        }

        return DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw AwsServiceException.InvalidParameterValue($"Value ({v}) for parameter {name} is invalid. Expected an ISO-8601 timestamp.");
    }

    /// <summary>A scalar list: <c>prefix.1</c>, <c>prefix.2</c>, … in index order. Empty values (v4's empty list) are skipped.</summary>
    public List<string> List(string prefix)
    {
        var found = new SortedDictionary<int, string>();
        foreach (var (key, value) in _values)
        {
            if (key.Length > prefix.Length + 1 && key.StartsWith(prefix, StringComparison.Ordinal) && key[prefix.Length] == '.' &&
                int.TryParse(key.AsSpan(prefix.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                found[index] = value;
            }
        }

        return found.Values.Where(v => v.Length > 0).ToList();
    }

    /// <summary>A list of structures: <c>prefix.N.field…</c> → one <see cref="QueryParameters"/> per N, in index order.</summary>
    public List<QueryParameters> Structs(string prefix)
    {
        var groups = new SortedDictionary<int, List<KeyValuePair<string, string>>>();
        foreach (var (key, value) in _values)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal) || key.Length <= prefix.Length + 1 || key[prefix.Length] != '.')
            {
                continue;
            }

            var rest = key.AsSpan(prefix.Length + 1);
            var dot = rest.IndexOf('.');
            if (dot <= 0 || !int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                continue;
            }

            if (!groups.TryGetValue(index, out var list))
            {
                groups[index] = list = [];
            }

            list.Add(new(rest[(dot + 1)..].ToString(), value));
        }

        return groups.Values.Select(g => new QueryParameters(g)).ToList();
    }

    /// <summary>A nested structure: <c>prefix.field…</c>.</summary>
    public QueryParameters Struct(string prefix)
    {
        var start = prefix + ".";
        return new QueryParameters(_values
            .Where(kv => kv.Key.StartsWith(start, StringComparison.Ordinal))
            .Select(kv => new KeyValuePair<string, string>(kv.Key[start.Length..], kv.Value)));
    }

    /// <summary>EC2 filters: <c>Filter.N.Name</c> with <c>Filter.N.Value.M</c>. The same name may repeat (ANDed).</summary>
    public List<Filter> Filters(string prefix = "Filter") =>
        Structs(prefix)
            .Where(s => !string.IsNullOrEmpty(s["Name"]))
            .Select(s => new Filter(s["Name"]!, s.List("Value")))
            .ToList();

    /// <summary>Tags: <c>prefix.N.Key</c> and <c>prefix.N.Value</c>.</summary>
    public List<KeyValuePair<string, string>> Tags(string prefix) =>
        Structs(prefix)
            .Where(s => s["Key"] is not null)
            .Select(s => new KeyValuePair<string, string>(s["Key"]!, s["Value"] ?? ""))
            .ToList();
}

/// <summary>One EC2 filter: values are ORed; separate filters (even with the same name) are ANDed.</summary>
internal sealed record Filter(string Name, IReadOnlyList<string> Values);
