using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace Karpenter.Sim.KubeApi.Storage;

internal enum CommitStatus
{
    Ok,
    AlreadyExists,
    NotFound,
    Conflict,
}

internal readonly record struct CommitResult(CommitStatus Status, StoredObject? Object)
{
    public bool Ok => Status == CommitStatus.Ok;
}

/// <summary>The objects of one resource (all its served versions share it) and its open watches.</summary>
internal sealed class StorageResource(string id, Func<JsonObject, IReadOnlyDictionary<string, string>> fields)
{
    public string Id { get; } = id;

    public Func<JsonObject, IReadOnlyDictionary<string, string>> Fields { get; } = fields;

    public ImmutableSortedDictionary<string, StoredObject> Items { get; set; } =
        ImmutableSortedDictionary.Create<string, StoredObject>(StringComparer.Ordinal);

    public Watcher[] Watchers { get; set; } = [];

    public StoredObject? Get(string key) => Items.TryGetValue(key, out var obj) ? obj : null;
}

internal readonly record struct WatchStart(
    ImmutableSortedDictionary<string, StoredObject>? Snapshot, long ResourceVersion, bool Expired, bool TooLarge, long OldestAvailable);

/// <summary>
/// etcd's role: one global, strictly increasing revision counter; every committed write gets the next
/// revision, lands in a bounded history (time window and count), and is dispatched to matching watchers in
/// revision order under the same lock, so that a watch started at revision N sees exactly the changes after N.
/// </summary>
internal sealed class ObjectStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StorageResource> _resources = new(StringComparer.Ordinal);
    private readonly List<WatchEvent> _history = [];
    private readonly Dictionary<(string, long), ImmutableSortedDictionary<string, StoredObject>> _snapshots = [];
    private readonly Queue<(string, long)> _snapshotOrder = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _historyWindow;
    private readonly int _maxHistory;
    private long _revision;
    private long _compactedRevision;

    public ObjectStore(TimeProvider time, TimeSpan historyWindow, int maxHistory)
    {
        _time = time;
        _historyWindow = historyWindow;
        _maxHistory = maxHistory;
    }

    public long CurrentRevision => Interlocked.Read(ref _revision);

    public long CompactedRevision
    {
        get
        {
            lock (_gate)
            {
                return _compactedRevision;
            }
        }
    }

    /// <summary>Raised (outside the lock) after each committed revision; used to wake "too large RV" waiters.</summary>
    public event Action<long>? Committed;

    public StorageResource Resource(string id, Func<JsonObject, IReadOnlyDictionary<string, string>> fields)
    {
        lock (_gate)
        {
            if (!_resources.TryGetValue(id, out var resource))
            {
                resource = new StorageResource(id, fields);
                _resources[id] = resource;
            }

            return resource;
        }
    }

    /// <summary>The objects and the global revision at one instant.</summary>
    public (ImmutableSortedDictionary<string, StoredObject> Items, long Revision) Snapshot(StorageResource resource)
    {
        lock (_gate)
        {
            return (resource.Items, _revision);
        }
    }

    /// <summary>Raised after a write to a resource is committed, outside the lock (the CRD registry listens).</summary>
    public event Action<string>? Changed;

    public CommitResult Create(StorageResource resource, JsonObject obj, string key) => Notify(resource, CreateCore(resource, obj, key));

    /// <summary>Replaces the object if its revision is still <paramref name="expectedRevision"/>.</summary>
    public CommitResult Update(StorageResource resource, string key, long expectedRevision, JsonObject obj) =>
        Notify(resource, UpdateCore(resource, key, expectedRevision, obj));

    /// <summary>Removes the object if its revision is still <paramref name="expectedRevision"/>; returns it stamped with the deletion revision.</summary>
    public CommitResult Delete(StorageResource resource, string key, long expectedRevision) =>
        Notify(resource, DeleteCore(resource, key, expectedRevision));

    private CommitResult Notify(StorageResource resource, CommitResult result)
    {
        if (result.Ok)
        {
            Changed?.Invoke(resource.Id);
        }

        return result;
    }

    private CommitResult CreateCore(StorageResource resource, JsonObject obj, string key)
    {
        lock (_gate)
        {
            if (resource.Items.TryGetValue(key, out var existing))
            {
                return new CommitResult(CommitStatus.AlreadyExists, existing);
            }

            var revision = ++_revision;
            var stored = StoredObject.Create(obj, revision, resource.Fields);
            resource.Items = resource.Items.Add(key, stored);
            Append(resource, new WatchEvent(revision, resource.Id, WatchEventType.Added, stored, null, _time.GetUtcNow()));
            Publish(revision);
            return new CommitResult(CommitStatus.Ok, stored);
        }
    }

    /// <summary>Replaces the object if its revision is still <paramref name="expectedRevision"/>.</summary>
    private CommitResult UpdateCore(StorageResource resource, string key, long expectedRevision, JsonObject obj)
    {
        lock (_gate)
        {
            if (!resource.Items.TryGetValue(key, out var current))
            {
                return new CommitResult(CommitStatus.NotFound, null);
            }

            if (current.ResourceVersion != expectedRevision)
            {
                return new CommitResult(CommitStatus.Conflict, current);
            }

            var revision = ++_revision;
            var stored = StoredObject.Create(obj, revision, resource.Fields);
            resource.Items = resource.Items.SetItem(key, stored);
            Append(resource, new WatchEvent(revision, resource.Id, WatchEventType.Modified, stored, current, _time.GetUtcNow()));
            Publish(revision);
            return new CommitResult(CommitStatus.Ok, stored);
        }
    }

    /// <summary>Removes the object if its revision is still <paramref name="expectedRevision"/>; returns it stamped with the deletion revision.</summary>
    private CommitResult DeleteCore(StorageResource resource, string key, long expectedRevision)
    {
        lock (_gate)
        {
            if (!resource.Items.TryGetValue(key, out var current))
            {
                return new CommitResult(CommitStatus.NotFound, null);
            }

            if (current.ResourceVersion != expectedRevision)
            {
                return new CommitResult(CommitStatus.Conflict, current);
            }

            var revision = ++_revision;
            var deleted = current.WithResourceVersion(revision);
            resource.Items = resource.Items.Remove(key);
            Append(resource, new WatchEvent(revision, resource.Id, WatchEventType.Deleted, deleted, current, _time.GetUtcNow()));
            Publish(revision);
            return new CommitResult(CommitStatus.Ok, deleted);
        }
    }

    private void Publish(long revision)
    {
        // Invoked under the lock but handlers only signal (TaskCompletionSource), never block.
        Committed?.Invoke(revision);
    }

    private void Append(StorageResource resource, WatchEvent e)
    {
        _history.Add(e);
        foreach (var watcher in resource.Watchers)
        {
            watcher.Offer(e);
        }

        TrimHistory();
    }

    private void TrimHistory()
    {
        var cutoff = _time.GetUtcNow() - _historyWindow;
        var drop = 0;
        var excess = _history.Count - _maxHistory;
        while (drop < _history.Count && (drop < excess || _history[drop].Time < cutoff))
        {
            drop++;
        }

        // Trim in batches so that the list shift is amortised.
        if (drop > 0 && (drop >= 1024 || drop == _history.Count || excess > 0))
        {
            _compactedRevision = Math.Max(_compactedRevision, _history[drop - 1].ResourceVersion);
            _history.RemoveRange(0, drop);
            _snapshots.Clear();
            _snapshotOrder.Clear();
        }
    }

    /// <summary>Test hook: forget all history, as an etcd compaction at the current revision does.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _compactedRevision = _revision;
            _history.Clear();
            _snapshots.Clear();
            _snapshotOrder.Clear();
        }
    }

    /// <summary>Registers a watcher and hands it either the current state (<paramref name="fromRevision"/> null) or the history after a revision.</summary>
    public WatchStart StartWatch(StorageResource resource, Watcher watcher, long? fromRevision)
    {
        lock (_gate)
        {
            if (fromRevision is { } from)
            {
                if (from < _compactedRevision)
                {
                    return new WatchStart(null, _revision, Expired: true, TooLarge: false, OldestAvailable: _compactedRevision + 1);
                }

                if (from > _revision)
                {
                    return new WatchStart(null, _revision, Expired: false, TooLarge: true, OldestAvailable: 0);
                }

                resource.Watchers = [.. resource.Watchers, watcher];
                for (var i = FirstAfter(from); i < _history.Count; i++)
                {
                    if (_history[i].StorageId == resource.Id)
                    {
                        watcher.Offer(_history[i]);
                    }
                }

                return new WatchStart(null, _revision, false, false, 0);
            }

            resource.Watchers = [.. resource.Watchers, watcher];
            return new WatchStart(resource.Items, _revision, false, false, 0);
        }
    }

    public void StopWatch(StorageResource resource, Watcher watcher)
    {
        lock (_gate)
        {
            resource.Watchers = resource.Watchers.Where(w => !ReferenceEquals(w, watcher)).ToArray();
        }
    }

    /// <summary>Every open watcher, for the bookmark timer and the fault hooks.</summary>
    public void ForEachWatcher(Action<Watcher, long> action, string? storageId = null)
    {
        lock (_gate)
        {
            foreach (var resource in _resources.Values)
            {
                if (storageId is not null && resource.Id != storageId)
                {
                    continue;
                }

                foreach (var watcher in resource.Watchers)
                {
                    action(watcher, _revision);
                }
            }
        }
    }

    private int FirstAfter(long revision)
    {
        int lo = 0, hi = _history.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (_history[mid].ResourceVersion <= revision)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// The resource's objects as they were at <paramref name="revision"/> (a paginated list's consistent
    /// snapshot), rebuilt from the history; null when the history no longer reaches back that far.
    /// </summary>
    public ImmutableSortedDictionary<string, StoredObject>? SnapshotAt(StorageResource resource, long revision)
    {
        lock (_gate)
        {
            if (revision == _revision)
            {
                return resource.Items;
            }

            if (revision < _compactedRevision || revision > _revision)
            {
                return null;
            }

            if (_snapshots.TryGetValue((resource.Id, revision), out var cached))
            {
                return cached;
            }

            var builder = resource.Items.ToBuilder();
            for (var i = _history.Count - 1; i >= 0 && _history[i].ResourceVersion > revision; i--)
            {
                var e = _history[i];
                if (e.StorageId != resource.Id)
                {
                    continue;
                }

                var key = e.Object.Key;
                if (e.Type == WatchEventType.Added)
                {
                    builder.Remove(key);
                }
                else
                {
                    builder[key] = e.Previous!;
                }
            }

            var snapshot = builder.ToImmutable();
            Remember(resource.Id, revision, snapshot);
            return snapshot;
        }
    }

    /// <summary>Keeps the first page's snapshot so that continue pages need no rebuild.</summary>
    public void Remember(string id, long revision, ImmutableSortedDictionary<string, StoredObject> snapshot)
    {
        lock (_gate)
        {
            if (_snapshots.TryAdd((id, revision), snapshot))
            {
                _snapshotOrder.Enqueue((id, revision));
                while (_snapshotOrder.Count > 32)
                {
                    _snapshots.Remove(_snapshotOrder.Dequeue());
                }
            }
        }
    }
}
