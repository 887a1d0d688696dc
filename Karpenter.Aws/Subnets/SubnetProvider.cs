using System.Collections.Concurrent;
using Amazon.EC2;
using Amazon.EC2.Model;
using Karpenter.Aws.Sdk;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.Subnets;

/// <summary>An EC2NodeClass <c>subnetSelectorTerms</c> entry: an id, or tags (a value of <c>*</c> matches any value).</summary>
public sealed record SubnetSelector(string? Id = null, IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>A subnet as the launch path needs it.</summary>
public sealed record SubnetInfo(string Id, string Zone, string? ZoneId, int AvailableIpAddressCount, string? VpcId,
    IReadOnlyDictionary<string, string> Tags);

/// <summary>
/// Resolves subnet selector terms with DescribeSubnets (one paginated call per filter set: every id term in one
/// <c>subnet-id</c> filter, each tag term on its own), deduplicated and cached for <c>SUBNET_REFRESH_INTERVAL</c>; and picks,
/// per zone, the subnet with the most free addresses once in-flight launches are counted.
/// </summary>
public sealed class SubnetProvider(IAmazonEC2 ec2, TimeProvider time, IOptions<AwsOptions> options)
{
    private readonly TtlCache<string, IReadOnlyList<SubnetInfo>> _cache = new(time, options.Value.SubnetRefreshInterval);
    private readonly ConcurrentDictionary<string, int> _inflight = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<SubnetInfo>> ListAsync(IReadOnlyList<SubnetSelector> terms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(terms);
        var sets = FilterSets(terms);
        var key = Ec2Filters.Key(sets);
        if (_cache.TryGet(key, out var cached))
        {
            return cached;
        }
        var subnets = new Dictionary<string, SubnetInfo>(StringComparer.Ordinal);
        foreach (var filters in sets)
        {
            var paginator = ec2.Paginators.DescribeSubnets(new DescribeSubnetsRequest { Filters = filters, MaxResults = 500 });
            await foreach (var subnet in paginator.Subnets.WithCancellation(cancellationToken))
            {
                subnets[subnet.SubnetId] = new SubnetInfo(subnet.SubnetId, subnet.AvailabilityZone, subnet.AvailabilityZoneId,
                    subnet.AvailableIpAddressCount ?? 0, subnet.VpcId,
                    (subnet.Tags ?? []).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal));
            }
        }
        var result = subnets.Values.OrderBy(s => s.Zone, StringComparer.Ordinal).ThenBy(s => s.Id, StringComparer.Ordinal).ToList();
        _cache.Set(key, result);
        // Fresh counts from EC2 already include the launches that were in flight.
        foreach (var s in result)
        {
            _inflight.TryRemove(s.Id, out _);
        }
        return result;
    }

    /// <summary>Per zone, the subnet with the most available addresses minus those promised to launches in flight.</summary>
    public IReadOnlyDictionary<string, SubnetInfo> ZonalSubnetsForLaunch(IEnumerable<SubnetInfo> subnets)
    {
        ArgumentNullException.ThrowIfNull(subnets);
        return subnets
            .GroupBy(s => s.Zone, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => g.OrderByDescending(Free).ThenBy(s => s.Id, StringComparer.Ordinal).First(),
                StringComparer.Ordinal);
    }

    /// <summary>Counts a launch into <paramref name="subnetId"/> until the next refresh reports it.</summary>
    public void MarkLaunched(string subnetId, int addresses = 1) => _inflight.AddOrUpdate(subnetId, addresses, (_, n) => n + addresses);

    private int Free(SubnetInfo subnet) => subnet.AvailableIpAddressCount - _inflight.GetValueOrDefault(subnet.Id);

    internal static List<List<Filter>> FilterSets(IReadOnlyList<SubnetSelector> terms)
    {
        var sets = new List<List<Filter>>();
        var ids = terms.Where(t => !string.IsNullOrEmpty(t.Id)).Select(t => t.Id!).Distinct(StringComparer.Ordinal).ToList();
        foreach (var term in terms.Where(t => string.IsNullOrEmpty(t.Id)))
        {
            var filters = Ec2Filters.ForTags(term.Tags).ToList();
            if (filters.Count > 0)
            {
                sets.Add(filters);
            }
        }
        if (ids.Count > 0)
        {
            sets.Add([Ec2Filters.Of("subnet-id", ids)]);
        }
        return sets;
    }
}
