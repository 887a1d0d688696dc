using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Selectors;
using Karpenter.Sim.KubeApi.Storage;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    private static readonly TimeSpan TooLargeResourceVersionWait = TimeSpan.FromSeconds(3);

    private async Task GetAsync(RequestScope scope)
    {
        var rv = scope.Query1("resourceVersion");
        if (!string.IsNullOrEmpty(rv) && rv != "0")
        {
            await WaitForRevisionAsync(ParseRevision(rv, "resourceVersion"), scope.Aborted);
        }

        var obj = StorageOf(scope.Type).Get(StoredObject.KeyOf(scope.Info.Namespace, scope.Info.Name!))
                  ?? throw ApiError.NotFound(scope.Type.Group, scope.Type.Plural, scope.Info.Name!);
        await WriteObjectAsync(scope, 200, obj);
    }

    /// <summary>"Not older than N": waits up to 3 s for the store to reach N, then 504 ResourceVersionTooLarge.</summary>
    private async Task WaitForRevisionAsync(long revision, CancellationToken ct)
    {
        if (_store.CurrentRevision >= revision)
        {
            return;
        }

        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnCommit(long committed)
        {
            if (committed >= revision)
            {
                reached.TrySetResult();
            }
        }

        _store.Committed += OnCommit;
        try
        {
            if (_store.CurrentRevision >= revision)
            {
                return;
            }

            await reached.Task.WaitAsync(TooLargeResourceVersionWait, _time, ct);
        }
        catch (TimeoutException)
        {
            throw ApiError.TooLargeResourceVersion(revision, _store.CurrentRevision);
        }
        finally
        {
            _store.Committed -= OnCommit;
        }
    }

    /// <summary>Parses and checks <c>labelSelector</c> and <c>fieldSelector</c>; field labels are mapped to the storage form.</summary>
    private static (LabelSelector Labels, FieldSelector Fields) ParseSelectors(RequestScope scope)
    {
        var labels = LabelSelector.Parse(scope.Query1("labelSelector"));
        var fields = FieldSelector.Parse(scope.Query1("fieldSelector"));
        var type = scope.Type;
        var mapped = FieldSelector.Everything;
        foreach (var requirement in fields.Requirements)
        {
            var label = type.FieldLabelAliases.TryGetValue(requirement.Field, out var alias) ? alias : requirement.Field;
            var known = label == "metadata.name" || (label == "metadata.namespace" && type.Namespaced) || type.FieldLabels.ContainsKey(label);
            if (!known)
            {
                throw type.IsCustom
                    ? ApiError.BadRequest($"\"{requirement.Field}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
                    : ApiError.BadRequest($"field label not supported: {requirement.Field}");
            }

            var storageLabel = type.Converter is null ? label : type.Converter.StorageFieldLabel(label) ?? throw ApiError.BadRequest($"field label not supported: {requirement.Field}");
            mapped = mapped.With(requirement with { Field = storageLabel });
        }

        if (scope.Info.Name is not null)
        {
            // Watching one object is a collection watch narrowed by name.
            var named = mapped.RequiredValue("metadata.name");
            if (named is not null && named != scope.Info.Name)
            {
                throw ApiError.BadRequest("fieldSelector metadata.name doesn't match requested name");
            }

            mapped = mapped.With(new FieldRequirement("metadata.name", true, scope.Info.Name));
        }

        return (labels, mapped);
    }

    private sealed record ContinueToken(long Revision, string Start);

    private static string EncodeContinue(long revision, string lastKey)
    {
        var json = $"{{\"v\":\"meta.k8s.io/v1\",\"rv\":{revision.ToString(CultureInfo.InvariantCulture)},\"start\":{JsonSerializer.Serialize(lastKey + "\u0000", KubeJson.Options)}}}";
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static ContinueToken DecodeContinue(string token)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var json = JsonNode.Parse(Convert.FromBase64String(base64)) as JsonObject
                       ?? throw new FormatException("not an object");
            if (json.GetString("v") != "meta.k8s.io/v1")
            {
                throw new FormatException("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
            }

            var revision = json.GetLong("rv") ?? throw new FormatException("missing resourceVersion");
            var start = json.GetString("start") ?? "";
            if (revision <= 0)
            {
                throw new FormatException("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
            }

            return new ContinueToken(revision, start);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw ApiError.BadRequest($"continue key is not valid: {e.Message}");
        }
    }

    private async Task ListAsync(RequestScope scope)
    {
        var (labels, fields) = ParseSelectors(scope);
        var limitText = scope.Query1("limit");
        var limit = 0L;
        if (!string.IsNullOrEmpty(limitText) && (!long.TryParse(limitText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out limit) || limit < 0))
        {
            limit = 0;
        }

        var continueText = scope.Query1("continue");
        var rvText = scope.Query1("resourceVersion");
        var rvMatch = scope.Query1("resourceVersionMatch");
        ValidateListOptions(scope, continueText, rvText, rvMatch);

        var resource = StorageOf(scope.Type);
        ImmutableSortedDictionary<string, StoredObject> items;
        long listRevision;
        string? startAt = null;
        if (!string.IsNullOrEmpty(continueText))
        {
            var token = DecodeContinue(continueText);
            listRevision = token.Revision;
            startAt = token.Start;
            items = _store.SnapshotAt(resource, listRevision) ?? throw ApiError.ExpiredContinue(EncodeContinue(_store.CurrentRevision, token.Start.TrimEnd('\0')));
        }
        else if (limit > 0 && !string.IsNullOrEmpty(rvText) && rvText != "0" && rvMatch != "NotOlderThan")
        {
            listRevision = ParseRevision(rvText, "resourceVersion");
            await WaitForRevisionAsync(listRevision, scope.Aborted);
            items = _store.SnapshotAt(resource, listRevision)
                    ?? throw ApiError.Expired($"too old resource version: {listRevision} ({_store.CompactedRevision + 1})");
        }
        else
        {
            var wanted = string.IsNullOrEmpty(rvText) || rvText == "0" ? 0 : ParseRevision(rvText, "resourceVersion");
            if (wanted > 0)
            {
                await WaitForRevisionAsync(wanted, scope.Aborted);
            }

            if (wanted > 0 && rvMatch == "Exact")
            {
                items = _store.SnapshotAt(resource, wanted) ?? throw ApiError.Expired($"too old resource version: {wanted} ({_store.CompactedRevision + 1})");
                listRevision = wanted;
            }
            else
            {
                (items, listRevision) = _store.Snapshot(resource);
                if (limit > 0)
                {
                    _store.Remember(resource.Id, listRevision, items);
                }
            }
        }

        var ns = scope.Info.Namespace;
        var prefix = ns is null ? null : ns + "/";
        var selected = new List<StoredObject>(limit > 0 ? (int)Math.Min(limit, 10_000) : 64);
        string? lastKey = null;
        var more = false;
        var remaining = 0L;
        var unfiltered = labels.IsEmpty && fields.IsEmpty;

        // A page reads only its own range of the snapshot's sorted array (found by binary search), so paging
        // through n objects costs O(n) in all rather than O(n) per page; a full list walks the snapshot as it is.
        IEnumerable<KeyValuePair<string, StoredObject>> candidates = items;
        var rangeCount = 0;
        if (limit > 0 || startAt is not null)
        {
            var sorted = Sorted(items);
            var from = prefix is null ? 0 : LowerBound(sorted, prefix);
            var to = prefix is null ? sorted.Length : LowerBound(sorted, string.Concat(prefix.AsSpan(0, prefix.Length - 1), [(char)(prefix[^1] + 1)]));
            if (startAt is not null)
            {
                from = Math.Max(from, LowerBound(sorted, startAt));
            }

            rangeCount = Math.Max(0, to - from);
            candidates = new ArraySegment<KeyValuePair<string, StoredObject>>(sorted, Math.Min(from, to), rangeCount);
        }

        var scanned = 0;
        foreach (var (key, obj) in candidates)
        {
            if (prefix is not null && !key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (limit > 0 && selected.Count >= limit)
            {
                more = true;
                remaining = rangeCount - scanned;
                break;
            }

            scanned++;
            if (labels.Matches(obj.Labels) && fields.Matches(obj.FieldValue))
            {
                selected.Add(obj);
                lastKey = key;
            }
        }

        string? next = null;
        if (more && lastKey is not null)
        {
            next = EncodeContinue(listRevision, lastKey);
        }

        AddWarnings(scope);
        if (WantsTable(scope))
        {
            await WriteTableAsync(scope, 200, selected, listRevision, next);
            return;
        }

        await WriteListAsync(scope, selected, listRevision, next, more && unfiltered ? remaining : null);
    }

    /// <summary>A snapshot as a sorted array, built once per snapshot (continue pages of one list share it).</summary>
    private KeyValuePair<string, StoredObject>[] Sorted(ImmutableSortedDictionary<string, StoredObject> items) =>
        _sortedSnapshots.GetValue(items, static i => [.. i]);

    /// <summary>The index of the first key ordinally not less than <paramref name="key"/>.</summary>
    private static int LowerBound(KeyValuePair<string, StoredObject>[] sorted, string key)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (string.CompareOrdinal(sorted[middle].Key, key) < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private static void ValidateListOptions(RequestScope scope, string? continueText, string? rvText, string? rvMatch)
    {
        var errors = new List<FieldError>();
        if (!string.IsNullOrEmpty(rvMatch))
        {
            if (rvMatch is not ("NotOlderThan" or "Exact"))
            {
                errors.Add(FieldError.NotSupported("resourceVersionMatch", rvMatch, ["Exact", "NotOlderThan", ""]));
            }

            if (string.IsNullOrEmpty(rvText))
            {
                errors.Add(FieldError.Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"));
            }

            if (!string.IsNullOrEmpty(continueText))
            {
                errors.Add(FieldError.Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
            }

            if (rvMatch == "Exact" && rvText == "0")
            {
                errors.Add(FieldError.Forbidden("resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
            }
        }

        if (scope.Query1("sendInitialEvents") is { Length: > 0 })
        {
            errors.Add(FieldError.Forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
        }

        if (errors.Count > 0)
        {
            throw ApiError.Invalid("meta.k8s.io", "ListOptions", "", errors);
        }

        if (!string.IsNullOrEmpty(continueText) && !string.IsNullOrEmpty(rvText) && rvText != "0")
        {
            throw ApiError.BadRequest("specifying resource version is not allowed when using continue");
        }
    }

    private async Task WriteListAsync(RequestScope scope, List<StoredObject> items, long revision, string? next, long? remaining)
    {
        var type = scope.Type;
        var buffer = new ArrayBufferWriter<byte>(4096 + (items.Count * 1024));
        void Raw(string s) => buffer.Write(Encoding.UTF8.GetBytes(s));
        Raw("{\"kind\":\"");
        Raw(type.EffectiveListKind);
        Raw("\",\"apiVersion\":\"");
        Raw(type.ApiVersion);
        Raw("\",\"metadata\":{\"resourceVersion\":\"");
        Raw(revision.ToString(CultureInfo.InvariantCulture));
        Raw("\"");
        if (next is not null)
        {
            Raw(",\"continue\":\"");
            Raw(next);
            Raw("\"");
            if (remaining is { } count)
            {
                Raw(",\"remainingItemCount\":");
                Raw(count.ToString(CultureInfo.InvariantCulture));
            }
        }

        Raw("},\"items\":[");
        if (type.Converter is null)
        {
            for (var i = 0; i < items.Count; i++)
            {
                if (i > 0)
                {
                    buffer.Write(","u8);
                }

                buffer.Write(Served(type, items[i]));
            }
        }
        else
        {
            var converted = await type.Converter.FromStorageAsync(items.Select(i => i.ToJson()).ToList(), scope.Aborted);
            for (var i = 0; i < converted.Count; i++)
            {
                if (i > 0)
                {
                    buffer.Write(","u8);
                }

                buffer.Write(KubeJson.ToBytes(converted[i]));
            }
        }

        Raw("]}");
        await WriteJsonAsync(scope.Http, 200, buffer.WrittenMemory);
    }
}
