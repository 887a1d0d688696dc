using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Storage;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    private const string OrphanFinalizer = "orphan";
    private const string ForegroundFinalizer = "foregroundDeletion";

    private sealed record GcNode(ResourceType Type, StoredObject Stored, JsonObject Object);

    private sealed record Reference(string Uid, bool BlocksOwnerDeletion);

    /// <summary>The finalizer a DELETE's propagationPolicy asks for (only when the garbage collector runs to remove it).</summary>
    private string? PropagationFinalizer(DeleteOptions options) => !_options.RunGarbageCollector ? null : options.PropagationPolicy switch
    {
        "Orphan" => OrphanFinalizer,
        "Foreground" => ForegroundFinalizer,
        _ => null,
    };

    /// <summary>Adds the propagation finalizer (dropping the opposite one, as the registry does); returns whether one was added.</summary>
    private static bool AddPropagationFinalizer(JsonObject metadata, string finalizer)
    {
        var opposite = finalizer == OrphanFinalizer ? ForegroundFinalizer : OrphanFinalizer;
        var finalizers = (metadata["finalizers"] as JsonArray ?? []).Select(f => f?.GetValue<string>() ?? "").Where(f => f != opposite).ToList();
        if (finalizers.Contains(finalizer))
        {
            return false;
        }

        finalizers.Add(finalizer);
        metadata["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode?)f).ToArray());
        return true;
    }

    /// <summary>
    /// One pass of kube-controller-manager's garbage collector over every stored object, keyed by uid:
    /// owners deleted with <c>Orphan</c> release their dependents (references removed, then the <c>orphan</c>
    /// finalizer); owners deleted with <c>Foreground</c> get their dependents deleted and keep the
    /// <c>foregroundDeletion</c> finalizer while a dependent with <c>blockOwnerDeletion</c> exists; a dependent
    /// none of whose owners exists is deleted (Background), one with some owners gone loses those references.
    /// Returns whether work remains (another pass is needed).
    /// </summary>
    public async Task<bool> CollectGarbageAsync(CancellationToken ct)
    {
        var nodes = new Dictionary<string, GcNode>(StringComparer.Ordinal);
        var namespaceOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var dependents = new Dictionary<string, List<(GcNode Dependent, Reference Reference)>>(StringComparer.Ordinal);
        foreach (var type in _registry.All.Where(t => t.Converter is null))
        {
            foreach (var (_, stored) in StorageOf(type).Items)
            {
                namespaceOf[stored.Uid] = stored.Namespace;
                var json = stored.Json.AsSpan();
                if (!stored.Deleting && json.IndexOf("\"ownerReferences\""u8) < 0)
                {
                    continue;
                }

                var node = new GcNode(type, stored, stored.ToJson());
                nodes[stored.Uid] = node;
                foreach (var reference in References(node.Object))
                {
                    if (!dependents.TryGetValue(reference.Uid, out var list))
                    {
                        dependents[reference.Uid] = list = [];
                    }

                    list.Add((node, reference));
                }
            }
        }

        var pending = false;
        foreach (var node in nodes.Values.Where(n => n.Stored.Deleting))
        {
            var finalizers = Finalizers(node.Object);
            var waiting = dependents.GetValueOrDefault(node.Stored.Uid) ?? [];
            if (finalizers.Contains(OrphanFinalizer))
            {
                foreach (var (dependent, _) in waiting)
                {
                    await RewriteAsync(dependent, o => RemoveReferences(o, [node.Stored.Uid]), ct);
                }

                await RewriteAsync(node, o => RemoveFinalizer(o, OrphanFinalizer), ct);
            }
            else if (finalizers.Contains(ForegroundFinalizer))
            {
                foreach (var (dependent, _) in waiting.Where(d => !d.Dependent.Stored.Deleting))
                {
                    await DeleteQuietlyAsync(dependent, ct);
                }

                if (waiting.Any(d => d.Reference.BlocksOwnerDeletion))
                {
                    pending = true;
                }
                else
                {
                    await RewriteAsync(node, o => RemoveFinalizer(o, ForegroundFinalizer), ct);
                }
            }
        }

        // Dependents of owners that are gone.
        foreach (var node in nodes.Values.Where(n => !n.Stored.Deleting))
        {
            var references = References(node.Object);
            if (references.Count == 0)
            {
                continue;
            }

            var absent = references.Where(r => !OwnerExists(r.Uid, node)).Select(r => r.Uid).ToList();
            if (absent.Count == references.Count)
            {
                await DeleteQuietlyAsync(node, ct);
            }
            else if (absent.Count > 0)
            {
                await RewriteAsync(node, o => RemoveReferences(o, absent), ct);
            }
        }

        return pending;

        // A namespaced owner only owns dependents in its own namespace; otherwise the reference is unresolvable.
        bool OwnerExists(string uid, GcNode dependent) =>
            namespaceOf.TryGetValue(uid, out var ns) && (ns.Length == 0 || ns == dependent.Stored.Namespace);
    }

    private static List<Reference> References(JsonObject obj) =>
        (obj.At("metadata", "ownerReferences") as JsonArray ?? []).OfType<JsonObject>()
            .Where(r => r.GetString("uid") is { Length: > 0 })
            .Select(r => new Reference(r.GetString("uid")!, r.GetBool("blockOwnerDeletion") == true)).ToList();

    private static List<string> Finalizers(JsonObject obj) =>
        (obj.At("metadata", "finalizers") as JsonArray ?? []).Select(f => f is JsonValue v && v.IsString() ? v.GetValue<string>() : "").ToList();

    private static bool RemoveReferences(JsonObject obj, IReadOnlyCollection<string> uids)
    {
        var metadata = obj.GetOrAddObject("metadata");
        var references = (metadata["ownerReferences"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var kept = references.Where(r => !uids.Contains(r.GetString("uid") ?? "")).Select(r => (JsonNode?)r.DeepClone()).ToArray();
        if (kept.Length == references.Count)
        {
            return false;
        }

        if (kept.Length == 0)
        {
            metadata.Remove("ownerReferences");
        }
        else
        {
            metadata["ownerReferences"] = new JsonArray(kept);
        }

        return true;
    }

    private static bool RemoveFinalizer(JsonObject obj, string finalizer)
    {
        var metadata = obj.GetOrAddObject("metadata");
        var finalizers = Finalizers(obj);
        if (!finalizers.Remove(finalizer))
        {
            return false;
        }

        if (finalizers.Count == 0)
        {
            metadata.Remove("finalizers");
        }
        else
        {
            metadata["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode?)f).ToArray());
        }

        return true;
    }

    /// <summary>Read-modify-write of one object as the garbage collector's PATCH does; an object being deleted whose last finalizer goes is removed.</summary>
    private async Task RewriteAsync(GcNode node, Func<JsonObject, bool> change, CancellationToken ct)
    {
        var resource = StorageOf(node.Type);
        var key = node.Stored.Key;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            var current = resource.Get(key);
            if (current is null || current.Uid != node.Stored.Uid)
            {
                return;
            }

            var obj = current.ToJson();
            if (!change(obj))
            {
                return;
            }

            var gone = current.Deleting && obj.At("metadata", "finalizers") is not JsonArray { Count: > 0 } && (obj.At("metadata", "deletionGracePeriodSeconds") as JsonValue)?.GetValue<long>() is null or 0;
            var result = gone ? _store.Delete(resource, key, current.ResourceVersion) : _store.Update(resource, key, current.ResourceVersion, obj);
            if (result.Status != CommitStatus.Conflict)
            {
                return;
            }

            await Task.Yield();
        }
    }

    private async Task DeleteQuietlyAsync(GcNode node, CancellationToken ct)
    {
        try
        {
            var ns = node.Stored.Namespace.Length == 0 ? null : node.Stored.Namespace;
            await DeleteObjectAsync(node.Type, ns, node.Stored.Name, new DeleteOptions(null, node.Stored.Uid, null, null, false), ct);
        }
        catch (ApiError e) when (e.Code is 404 or 409)
        {
            // Gone or replaced meanwhile.
        }
    }
}
