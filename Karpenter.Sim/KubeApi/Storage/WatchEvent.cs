namespace Karpenter.Sim.KubeApi.Storage;

internal enum WatchEventType
{
    Added,
    Modified,
    Deleted,
}

/// <summary>One committed change, kept in the bounded history that watches replay from.</summary>
internal sealed class WatchEvent(long resourceVersion, string storageId, WatchEventType type, StoredObject obj, StoredObject? previous, DateTimeOffset time)
{
    private StoredObject? _previousAtEvent;

    public long ResourceVersion { get; } = resourceVersion;

    public string StorageId { get; } = storageId;

    public WatchEventType Type { get; } = type;

    /// <summary>The new state; for DELETED the last state stamped with the deletion revision.</summary>
    public StoredObject Object { get; } = obj;

    /// <summary>The state before the change (null for ADDED).</summary>
    public StoredObject? Previous { get; } = previous;

    public DateTimeOffset Time { get; } = time;

    /// <summary>The previous state stamped with this event's revision: what a watcher whose selector stopped matching receives as DELETED.</summary>
    public StoredObject PreviousAtEvent
    {
        get
        {
            var cached = Volatile.Read(ref _previousAtEvent);
            if (cached is null)
            {
                cached = Previous!.WithResourceVersion(ResourceVersion);
                Volatile.Write(ref _previousAtEvent, cached);
            }

            return cached;
        }
    }
}
