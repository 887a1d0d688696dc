using System.Text.Json.Nodes;
using System.Threading.Channels;
using Karpenter.Sim.KubeApi.Selectors;

namespace Karpenter.Sim.KubeApi.Storage;

internal enum WatchMessageKind
{
    Added,
    Modified,
    Deleted,
    Bookmark,

    /// <summary>An ERROR event carrying a Status; the stream ends after it.</summary>
    Error,

    /// <summary>End the stream without an event (timeout, dropped watch).</summary>
    Close,
}

internal readonly record struct WatchMessage(WatchMessageKind Kind, StoredObject? Object, long ResourceVersion, JsonObject? Status = null, bool InitialEventsEnd = false);

/// <summary>
/// One open watch: its filter and its queue. Events are offered under the store's write lock, in revision
/// order; the HTTP side drains the queue. A watcher that falls too far behind is closed, as the real cacher
/// closes blocked watchers, and its client re-watches.
/// </summary>
internal sealed class Watcher
{
    private readonly Channel<WatchMessage> _channel =
        Channel.CreateUnbounded<WatchMessage>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    private readonly int _maxBacklog;
    private int _closed;

    public Watcher(string storageId, string? ns, LabelSelector labels, FieldSelector fields, bool bookmarks, int maxBacklog)
    {
        StorageId = storageId;
        Namespace = string.IsNullOrEmpty(ns) ? null : ns;
        Labels = labels;
        Fields = fields;
        Bookmarks = bookmarks;
        _maxBacklog = maxBacklog;
    }

    public string StorageId { get; }

    public string? Namespace { get; }

    public LabelSelector Labels { get; }

    public FieldSelector Fields { get; }

    public bool Bookmarks { get; }

    public ChannelReader<WatchMessage> Reader => _channel.Reader;

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>The newest revision this watcher has been offered (events or bookmarks).</summary>
    public long LastOffered { get; private set; }

    public bool Matches(StoredObject obj) =>
        (Namespace is null || obj.Namespace == Namespace) && Labels.Matches(obj.Labels) && Fields.Matches(obj.FieldValue);

    /// <summary>Translates a committed change into what this watcher sees, with selector transitions.</summary>
    public void Offer(WatchEvent e)
    {
        if (IsClosed)
        {
            return;
        }

        LastOffered = e.ResourceVersion;
        switch (e.Type)
        {
            case WatchEventType.Added:
                if (Matches(e.Object))
                {
                    Enqueue(new WatchMessage(WatchMessageKind.Added, e.Object, e.ResourceVersion));
                }

                break;
            case WatchEventType.Deleted:
                if (Matches(e.Object))
                {
                    Enqueue(new WatchMessage(WatchMessageKind.Deleted, e.Object, e.ResourceVersion));
                }

                break;
            case WatchEventType.Modified:
                var now = Matches(e.Object);
                var before = e.Previous is not null && Matches(e.Previous);
                if (now && before)
                {
                    Enqueue(new WatchMessage(WatchMessageKind.Modified, e.Object, e.ResourceVersion));
                }
                else if (now)
                {
                    Enqueue(new WatchMessage(WatchMessageKind.Added, e.Object, e.ResourceVersion));
                }
                else if (before)
                {
                    Enqueue(new WatchMessage(WatchMessageKind.Deleted, e.PreviousAtEvent, e.ResourceVersion));
                }

                break;
        }
    }

    public void OfferBookmark(long resourceVersion)
    {
        if (!Bookmarks || IsClosed)
        {
            return;
        }

        LastOffered = Math.Max(LastOffered, resourceVersion);
        Enqueue(new WatchMessage(WatchMessageKind.Bookmark, null, resourceVersion));
    }

    public void Enqueue(WatchMessage message)
    {
        if (IsClosed)
        {
            return;
        }

        if (_channel.Reader.Count >= _maxBacklog)
        {
            // Too slow a consumer: end the stream; the client re-watches from its last revision.
            Close();
            return;
        }

        _channel.Writer.TryWrite(message);
    }

    /// <summary>Ends the stream with an ERROR event (e.g. 410 Expired).</summary>
    public void Fail(JsonObject status)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _channel.Writer.TryWrite(new WatchMessage(WatchMessageKind.Error, null, 0, status));
        _channel.Writer.TryComplete();
    }

    /// <summary>Ends the stream without an event, as a timeout or a dropped connection does.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _channel.Writer.TryComplete();
    }
}
