using Amazon.EC2;
using Amazon.EC2.Model;
using Karpenter.Aws.Sdk;

namespace Karpenter.Aws.SecurityGroups;

/// <summary>An EC2NodeClass <c>securityGroupSelectorTerms</c> entry: an id, a name, or tags.</summary>
public sealed record SecurityGroupSelector(string? Id = null, string? Name = null, IReadOnlyDictionary<string, string>? Tags = null);

public sealed record SecurityGroupInfo(string Id, string Name, string? VpcId);

/// <summary>
/// Resolves security-group selector terms with DescribeSecurityGroups: id terms in one <c>group-id</c> filter, name terms in
/// one <c>group-name</c> filter, each tag term on its own; deduplicated and cached for 5 minutes as upstream.
/// </summary>
public sealed class SecurityGroupProvider(IAmazonEC2 ec2, TimeProvider time)
{
    private readonly TtlCache<string, IReadOnlyList<SecurityGroupInfo>> _cache = new(time, TimeSpan.FromMinutes(5));

    public async Task<IReadOnlyList<SecurityGroupInfo>> ListAsync(IReadOnlyList<SecurityGroupSelector> terms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(terms);
        var sets = FilterSets(terms);
        var key = Ec2Filters.Key(sets);
        if (_cache.TryGet(key, out var cached))
        {
            return cached;
        }
        var groups = new Dictionary<string, SecurityGroupInfo>(StringComparer.Ordinal);
        foreach (var filters in sets)
        {
            var paginator = ec2.Paginators.DescribeSecurityGroups(new DescribeSecurityGroupsRequest { Filters = filters, MaxResults = 500 });
            await foreach (var group in paginator.SecurityGroups.WithCancellation(cancellationToken))
            {
                groups[group.GroupId] = new SecurityGroupInfo(group.GroupId, group.GroupName, group.VpcId);
            }
        }
        var result = groups.Values.OrderBy(g => g.Id, StringComparer.Ordinal).ToList();
        _cache.Set(key, result);
        return result;
    }

    internal static List<List<Filter>> FilterSets(IReadOnlyList<SecurityGroupSelector> terms)
    {
        var sets = new List<List<Filter>>();
        var ids = new List<string>();
        var names = new List<string>();
        foreach (var term in terms)
        {
            if (!string.IsNullOrEmpty(term.Id))
            {
                ids.Add(term.Id);
            }
            else if (!string.IsNullOrEmpty(term.Name))
            {
                names.Add(term.Name);
            }
            else if (Ec2Filters.ForTags(term.Tags).ToList() is { Count: > 0 } filters)
            {
                sets.Add(filters);
            }
        }
        if (ids.Count > 0)
        {
            sets.Add([Ec2Filters.Of("group-id", ids.Distinct(StringComparer.Ordinal))]);
        }
        if (names.Count > 0)
        {
            sets.Add([Ec2Filters.Of("group-name", names.Distinct(StringComparer.Ordinal))]);
        }
        return sets;
    }
}
