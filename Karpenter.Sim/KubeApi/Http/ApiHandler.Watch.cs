using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Storage;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    private static readonly byte[] AddedPrefix = "{\"type\":\"ADDED\",\"object\":"u8.ToArray();
    private static readonly byte[] ModifiedPrefix = "{\"type\":\"MODIFIED\",\"object\":"u8.ToArray();
    private static readonly byte[] DeletedPrefix = "{\"type\":\"DELETED\",\"object\":"u8.ToArray();
    private static readonly byte[] BookmarkPrefix = "{\"type\":\"BOOKMARK\",\"object\":"u8.ToArray();
    private static readonly byte[] ErrorPrefix = "{\"type\":\"ERROR\",\"object\":"u8.ToArray();
    private static readonly byte[] EventSuffix = "}\n"u8.ToArray();

    /// <summary>
    /// A watch: 200 with headers flushed at once, then one JSON event per line. Errors found after the
    /// stream started (410 Expired, too-large revision) travel as an ERROR event, as the real cacher does.
    /// </summary>
    private async Task WatchAsync(RequestScope scope)
    {
        var type = scope.Type;
        var (labels, fields) = ParseSelectors(scope);
        var rvText = scope.Query1("resourceVersion");
        var bookmarks = scope.Query1("allowWatchBookmarks") is "true" or "1";
        var sendInitialEvents = scope.Query1("sendInitialEvents") is "true" or "1";
        if (sendInitialEvents)
        {
            var errors = new List<FieldError>();
            if (scope.Query1("resourceVersionMatch") != "NotOlderThan")
            {
                errors.Add(FieldError.Forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
            }

            if (!bookmarks)
            {
                errors.Add(FieldError.Forbidden("allowWatchBookmarks", "sendInitialEvents requires setting allowWatchBookmarks to true"));
            }

            if (errors.Count > 0)
            {
                throw ApiError.Invalid("meta.k8s.io", "ListOptions", "", errors);
            }
        }

        var timeout = _options.DefaultWatchTimeout;
        if (scope.Query1("timeoutSeconds") is { Length: > 0 } t && long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            timeout = TimeSpan.FromSeconds(seconds);
        }

        long? from = null;
        if (!string.IsNullOrEmpty(rvText) && rvText != "0" && !sendInitialEvents)
        {
            from = ParseRevision(rvText, "resourceVersion");
        }

        var resource = StorageOf(type);
        var watcher = new Watcher(type.StorageId, scope.Info.Namespace, labels, fields, bookmarks, _options.MaxWatchBacklog);
        var start = _store.StartWatch(resource, watcher, from);
        if (start.TooLarge)
        {
            // Wait (bounded) for the revision to be reached, then start from it.
            try
            {
                await WaitForRevisionAsync(from!.Value, scope.Aborted);
                start = _store.StartWatch(resource, watcher, from);
            }
            catch (ApiError error)
            {
                await StartStreamAsync(scope);
                await WriteEventAsync(scope.Http, ErrorPrefix, KubeJson.ToBytes(error.ToStatus()), scope.Aborted);
                return;
            }
        }

        await StartStreamAsync(scope);
        if (start.Expired)
        {
            var expired = ApiError.Expired($"too old resource version: {from} ({start.OldestAvailable})");
            await WriteEventAsync(scope.Http, ErrorPrefix, KubeJson.ToBytes(expired.ToStatus()), scope.Aborted);
            return;
        }

        using var timer = _time.CreateTimer(_ => watcher.Close(), null, timeout, Timeout.InfiniteTimeSpan);
        var events = 0L;
        try
        {
            var body = scope.Http.Response.BodyWriter;
            if (start.Snapshot is { } snapshot)
            {
                // "Get state and start at most recent": synthetic ADDED for every current match.
                var initial = new List<StoredObject>();
                foreach (var (_, obj) in snapshot)
                {
                    if (watcher.Matches(obj))
                    {
                        initial.Add(obj);
                    }
                }

                foreach (var obj in initial)
                {
                    await WriteStoredEventAsync(scope, WatchMessageKind.Added, obj);
                    events++;
                }

                if (sendInitialEvents)
                {
                    await WriteBookmarkAsync(scope, start.ResourceVersion, initialEventsEnd: true);
                }

                await body.FlushAsync(scope.Aborted);
            }

            var reader = watcher.Reader;
            while (await reader.WaitToReadAsync(scope.Aborted))
            {
                while (reader.TryRead(out var message))
                {
                    switch (message.Kind)
                    {
                        case WatchMessageKind.Bookmark:
                            await WriteBookmarkAsync(scope, message.ResourceVersion, message.InitialEventsEnd);
                            break;
                        case WatchMessageKind.Error:
                            await WriteEventAsync(scope.Http, ErrorPrefix, KubeJson.ToBytes(message.Status!), scope.Aborted);
                            return;
                        case WatchMessageKind.Close:
                            return;
                        default:
                            await WriteStoredEventAsync(scope, message.Kind, message.Object!);
                            events++;
                            break;
                    }
                }

                await body.FlushAsync(scope.Aborted);
            }
        }
        catch (OperationCanceledException) when (scope.Aborted.IsCancellationRequested)
        {
            // Client went away.
        }
        finally
        {
            _store.StopWatch(resource, watcher);
            watcher.Close();
            Log.WatchClosed(_logger, type.GroupResource, events);
        }
    }

    private static async Task StartStreamAsync(RequestScope scope)
    {
        var response = scope.Http.Response;
        response.StatusCode = 200;
        response.ContentType = WantsTable(scope) ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
        response.Headers.CacheControl = "no-cache, private";
        var bufferingFeature = scope.Http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>();
        bufferingFeature?.DisableBuffering();
        await response.StartAsync(scope.Aborted);
        await response.BodyWriter.FlushAsync(scope.Aborted);
    }

    private static readonly Dictionary<WatchMessageKind, byte[]> Prefixes = new()
    {
        [WatchMessageKind.Added] = AddedPrefix,
        [WatchMessageKind.Modified] = ModifiedPrefix,
        [WatchMessageKind.Deleted] = DeletedPrefix,
    };

    private async Task WriteStoredEventAsync(RequestScope scope, WatchMessageKind kind, StoredObject obj)
    {
        var prefix = Prefixes[kind];
        if (WantsTable(scope))
        {
            var table = await BuildTableAsync(scope.Type, [obj], scope.Query1("includeObject"), scope.Aborted);
            table["metadata"] = new JsonObject { ["resourceVersion"] = obj.ResourceVersion.ToString(CultureInfo.InvariantCulture) };
            WriteEvent(scope.Http.Response.BodyWriter, prefix, KubeJson.ToBytes(table));
            return;
        }

        if (scope.Type.Converter is null)
        {
            WriteEvent(scope.Http.Response.BodyWriter, prefix, Served(scope.Type, obj));
            return;
        }

        var view = await ToViewAsync(scope.Type, obj.ToJson(), scope.Aborted);
        WriteEvent(scope.Http.Response.BodyWriter, prefix, KubeJson.ToBytes(view));
    }

    private static Task WriteBookmarkAsync(RequestScope scope, long revision, bool initialEventsEnd)
    {
        var type = scope.Type;
        var metadata = new StringBuilder("{\"resourceVersion\":\"").Append(revision.ToString(CultureInfo.InvariantCulture)).Append('"');
        if (initialEventsEnd)
        {
            metadata.Append(",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}");
        }

        metadata.Append('}');
        var kind = WantsTable(scope) ? "Table" : type.Kind;
        var apiVersion = WantsTable(scope) ? "meta.k8s.io/v1" : type.ApiVersion;
        var json = $"{{\"kind\":\"{kind}\",\"apiVersion\":\"{apiVersion}\",\"metadata\":{metadata}}}";
        WriteEvent(scope.Http.Response.BodyWriter, BookmarkPrefix, Encoding.UTF8.GetBytes(json));
        return Task.CompletedTask;
    }

    private static void WriteEvent(IBufferWriter<byte> writer, byte[] prefix, ReadOnlySpan<byte> obj)
    {
        writer.Write(prefix);
        writer.Write(obj);
        writer.Write(EventSuffix);
    }

    private static async Task WriteEventAsync(Microsoft.AspNetCore.Http.HttpContext http, byte[] prefix, byte[] obj, CancellationToken ct)
    {
        WriteEvent(http.Response.BodyWriter, prefix, obj);
        await http.Response.BodyWriter.FlushAsync(ct);
    }

    /// <summary>Every open watch gets a bookmark at the current revision (the real cacher: about once a minute).</summary>
    public void SendBookmarks() => _store.ForEachWatcher((watcher, revision) => watcher.OfferBookmark(revision));

    /// <summary>Ends open watches (of one resource or all) without an event.</summary>
    public int DropWatches(string? resource)
    {
        var count = 0;
        var storageIds = resource is null
            ? null
            : _registry.All.Where(t => t.Plural == resource || t.GroupResource == resource).Select(t => t.StorageId).ToHashSet();
        _store.ForEachWatcher((watcher, _) =>
        {
            if (storageIds is null || storageIds.Contains(watcher.StorageId))
            {
                watcher.Close();
                count++;
            }
        });
        return count;
    }

    /// <summary>Ends open watches with the 410 Expired ERROR event clients answer by re-listing.</summary>
    public int ExpireWatches()
    {
        var count = 0;
        var revision = _store.CurrentRevision;
        _store.ForEachWatcher((watcher, _) =>
        {
            watcher.Fail(ApiError.Expired($"too old resource version: {watcher.LastOffered} ({revision})").ToStatus());
            count++;
        });
        return count;
    }
}
