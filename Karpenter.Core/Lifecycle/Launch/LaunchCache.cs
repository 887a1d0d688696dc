using System.Collections.Concurrent;
using Karpenter.Entities.V1;

namespace Karpenter.Core.Lifecycle.Launch;

/// <summary>
/// What the cloud provider returned for each NodeClaim this process launched, by NodeClaim UID, for an hour (upstream's
/// launch cache). When the status write after a launch fails, or the cache lags behind it, the next reconcile uses this
/// instead of launching a second machine; and a NodeClaim deleted before its status was written still has its machine
/// terminated.
/// </summary>
public sealed class LaunchCache(TimeProvider time)
{
    /// <summary>How long an entry is kept (upstream: one hour).</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, (NodeClaim Launched, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);
    private DateTimeOffset _nextPrune = DateTimeOffset.MinValue;

    public int Count => _entries.Count;

    public void Set(string uid, NodeClaim launched)
    {
        ArgumentException.ThrowIfNullOrEmpty(uid);
        ArgumentNullException.ThrowIfNull(launched);
        var now = time.GetUtcNow();
        _entries[uid] = (launched, now + Ttl);
        Prune(now);
    }

    public bool TryGet(string? uid, out NodeClaim launched)
    {
        launched = null!;
        if (string.IsNullOrEmpty(uid) || !_entries.TryGetValue(uid, out var entry))
        {
            return false;
        }

        if (entry.Expires <= time.GetUtcNow())
        {
            _entries.TryRemove(uid, out _);
            return false;
        }

        launched = entry.Launched;
        return true;
    }

    public void Remove(string? uid)
    {
        if (!string.IsNullOrEmpty(uid))
        {
            _entries.TryRemove(uid, out _);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        if (now < _nextPrune)
        {
            return;
        }

        _nextPrune = now + TimeSpan.FromMinutes(1);
        foreach (var (uid, entry) in _entries)
        {
            if (entry.Expires <= now)
            {
                _entries.TryRemove(uid, out _);
            }
        }
    }
}
