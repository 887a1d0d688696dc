using System.Collections.Concurrent;

namespace Karpenter.Aws;

/// <summary>
/// A small expiring cache on a <see cref="TimeProvider"/> (so tests step the clock instead of sleeping), like the go-cache
/// instances upstream keeps per provider. <see cref="Set"/> and, when asked, <see cref="TryGet"/> restart an entry's TTL.
/// </summary>
public sealed class TtlCache<TKey, TValue>(TimeProvider time, TimeSpan ttl) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, DateTimeOffset Expires)> _entries = new();

    public TimeSpan Ttl => ttl;

    public int Count => _entries.Count;

    public bool TryGet(TKey key, out TValue value, bool refresh = false)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry) && entry.Expires > now)
        {
            if (refresh)
            {
                _entries[key] = (entry.Value, now + ttl);
            }
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value, TimeSpan? customTtl = null) => _entries[key] = (value, time.GetUtcNow() + (customTtl ?? ttl));

    public bool Remove(TKey key) => _entries.TryRemove(key, out _);

    public void Clear() => _entries.Clear();

    /// <summary>Removes and returns the entries whose TTL has passed.</summary>
    public IReadOnlyList<KeyValuePair<TKey, TValue>> RemoveExpired()
    {
        var now = time.GetUtcNow();
        var expired = new List<KeyValuePair<TKey, TValue>>();
        foreach (var (key, entry) in _entries)
        {
            if (entry.Expires <= now && _entries.TryRemove(new KeyValuePair<TKey, (TValue, DateTimeOffset)>(key, entry)))
            {
                expired.Add(new(key, entry.Value));
            }
        }
        return expired;
    }

    /// <summary>The live entries.</summary>
    public IReadOnlyList<KeyValuePair<TKey, TValue>> Snapshot()
    {
        var now = time.GetUtcNow();
        return _entries.Where(e => e.Value.Expires > now).Select(e => new KeyValuePair<TKey, TValue>(e.Key, e.Value.Value)).ToList();
    }
}
