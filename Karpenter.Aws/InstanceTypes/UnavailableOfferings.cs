namespace Karpenter.Aws.InstanceTypes;

/// <summary>
/// The insufficient-capacity (ICE) cache (upstream <c>pkg/cache/unavailableofferings.go</c>): offerings EC2 recently refused,
/// keyed by capacity type, instance type and zone, unavailable for 3 minutes (re-marking extends it); whole capacity types
/// (spot without its service-linked role) and subnets without free addresses are kept the same way. <see cref="SeqNum"/> changes whenever an entry is added so
/// that cached instance-type lists know to rebuild their offerings.
/// </summary>
public sealed class UnavailableOfferings(TimeProvider time)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromMinutes(3);

    private readonly TtlCache<string, string> _offerings = new(time, Ttl);
    private readonly TtlCache<string, string> _capacityTypes = new(time, Ttl);
    private readonly TtlCache<string, string> _subnets = new(time, Ttl);
    private long _seqNum;

    public long SeqNum => Interlocked.Read(ref _seqNum);

    public static string Key(string capacityType, string instanceType, string zone) => $"{capacityType}:{instanceType}:{zone}";

    public void MarkUnavailable(string reason, string capacityType, string instanceType, string zone)
    {
        _offerings.Set(Key(capacityType, instanceType, zone), reason);
        Interlocked.Increment(ref _seqNum);
    }

    public void MarkCapacityTypeUnavailable(string reason, string capacityType)
    {
        _capacityTypes.Set(capacityType, reason);
        Interlocked.Increment(ref _seqNum);
    }

    /// <summary>A subnet ran out of free addresses (<c>InsufficientFreeAddressesInSubnet</c>): launches avoid it for 3 minutes.</summary>
    public void MarkSubnetUnavailable(string reason, string subnetId)
    {
        _subnets.Set(subnetId, reason);
        Interlocked.Increment(ref _seqNum);
    }

    public bool IsSubnetUnavailable(string subnetId) => _subnets.TryGet(subnetId, out _);

    public bool IsUnavailable(string capacityType, string instanceType, string zone) =>
        _capacityTypes.TryGet(capacityType, out _) || _offerings.TryGet(Key(capacityType, instanceType, zone), out _);

    /// <summary>Drops expired entries (upstream does this every 10 s); <see cref="IsUnavailable"/> ignores them anyway.</summary>
    public void Cleanup()
    {
        if (_offerings.RemoveExpired().Count + _capacityTypes.RemoveExpired().Count + _subnets.RemoveExpired().Count > 0)
        {
            Interlocked.Increment(ref _seqNum);
        }
    }
}
