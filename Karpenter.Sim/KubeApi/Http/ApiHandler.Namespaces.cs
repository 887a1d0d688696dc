using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Storage;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    private static readonly HashSet<string> ImmortalNamespaces = new(StringComparer.Ordinal) { "default", "kube-system", "kube-public" };

    /// <summary>Raised when a namespace starts terminating, so the namespace controller wakes.</summary>
    public event Action? NamespaceTerminating;

    /// <summary>
    /// Namespace deletion (namespace REST + NamespaceLifecycle): immortal namespaces are refused; otherwise
    /// the namespace becomes Terminating and stays until its <c>kubernetes</c> finalizer is removed.
    /// </summary>
    private async Task DeleteNamespaceAsync(RequestScope scope, DeleteOptions options)
    {
        var name = scope.Info.Name!;
        if (ImmortalNamespaces.Contains(name))
        {
            throw ApiError.Forbidden("", "namespaces", name, "this namespace may not be deleted");
        }

        var resource = StorageOf(scope.Type);
        while (true)
        {
            var current = resource.Get(name) ?? throw ApiError.NotFound("", "namespaces", name);
            if (options.PreconditionUid is { Length: > 0 } uid && uid != current.Uid)
            {
                throw ApiError.Conflict("", "Namespace", name,
                    $"the UID in the precondition ({uid}) does not match the UID in record ({current.Uid}). The object might have been deleted and then recreated");
            }

            var ns = current.ToJson();
            await DeleteAdmissionAsync(scope, scope.Type, ns.DeepClone().AsObject(), options);
            if (current.Deleting)
            {
                await WriteObjectAsync(scope, 200, current);
                return;
            }

            var hasFinalizers = ns.At("spec", "finalizers") is JsonArray { Count: > 0 } || ns.At("metadata", "finalizers") is JsonArray { Count: > 0 };
            if (!hasFinalizers)
            {
                if (!options.DryRun && _store.Delete(resource, name, current.ResourceVersion).Status == CommitStatus.Conflict)
                {
                    continue;
                }

                await WriteDeleteResultAsync(scope, scope.Type, 0, ns);
                return;
            }

            var metadata = ns.GetOrAddObject("metadata");
            metadata["deletionTimestamp"] = KubeTime.Format(Now);
            metadata["deletionGracePeriodSeconds"] = 0;
            ns.GetOrAddObject("status")["phase"] = "Terminating";
            if (options.DryRun)
            {
                await WriteObjectAsync(scope, 200, ns);
                return;
            }

            var result = _store.Update(resource, name, current.ResourceVersion, ns);
            if (result.Ok)
            {
                NamespaceTerminating?.Invoke();
                await WriteObjectAsync(scope, 200, result.Object!);
                return;
            }
        }
    }

    /// <summary><c>PUT namespaces/{name}/finalize</c>: replaces <c>spec.finalizers</c>; an emptied, terminating namespace goes away.</summary>
    private async Task FinalizeNamespaceAsync(RequestScope scope, JsonObject body)
    {
        var name = scope.Info.Name!;
        var finalizers = body.At("spec", "finalizers") as JsonArray ?? [];
        var (status, obj) = SetNamespaceFinalizers(name, finalizers.Select(f => f?.GetValue<string>() ?? "").ToList(), scope.DryRun);
        AddWarnings(scope);
        await WriteJsonAsync(scope.Http, status, KubeJson.ToBytes(obj));
    }

    private (int Status, JsonObject Object) SetNamespaceFinalizers(string name, List<string> finalizers, bool dryRun)
    {
        var resource = _store.Resource("namespaces", _registry.FieldExtractor("namespaces"));
        while (true)
        {
            var current = resource.Get(name) ?? throw ApiError.NotFound("", "namespaces", name);
            var ns = current.ToJson();
            ns.GetOrAddObject("spec")["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode?)f).ToArray());
            if (finalizers.Count == 0)
            {
                ns.GetOrAddObject("spec").Remove("finalizers");
            }

            if (dryRun)
            {
                return (200, ns);
            }

            var gone = current.Deleting && finalizers.Count == 0 && ns.At("metadata", "finalizers") is not JsonArray { Count: > 0 };
            var result = gone ? _store.Delete(resource, name, current.ResourceVersion) : _store.Update(resource, name, current.ResourceVersion, ns);
            if (result.Ok)
            {
                return (200, gone ? ns : result.Object!.ToJson());
            }

            if (result.Status == CommitStatus.NotFound)
            {
                throw ApiError.NotFound("", "namespaces", name);
            }
        }
    }

    /// <summary>
    /// One pass of the namespace controller: for each terminating namespace, delete its contents (finalizers
    /// and graceful pods are honoured, so this may take several passes), then drop its <c>kubernetes</c>
    /// finalizer once it is empty. Returns whether any namespace is still terminating.
    /// </summary>
    public async Task<bool> ReconcileNamespacesAsync(CancellationToken ct)
    {
        var namespaces = _store.Resource("namespaces", _registry.FieldExtractor("namespaces"));
        var pending = false;
        foreach (var (name, ns) in namespaces.Items)
        {
            if (!ns.Deleting)
            {
                continue;
            }

            var remaining = 0;
            foreach (var type in _registry.All.Where(t => t.Namespaced && t.Converter is null))
            {
                var resource = StorageOf(type);
                foreach (var (key, obj) in resource.Items)
                {
                    if (!key.StartsWith(name + "/", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    remaining++;
                    if (obj.Deleting)
                    {
                        continue;
                    }

                    try
                    {
                        await DeleteObjectAsync(type, name, obj.Name, new DeleteOptions(null, null, null, null, false), ct);
                    }
                    catch (ApiError e) when (e.Code is 404 or 409)
                    {
                        // Gone or changed meanwhile: the next pass sees it.
                    }
                }
            }

            if (remaining == 0)
            {
                var spec = ns.ToJson().At("spec", "finalizers") as JsonArray ?? [];
                var rest = spec.Select(f => f?.GetValue<string>() ?? "").Where(f => f != "kubernetes").ToList();
                try
                {
                    SetNamespaceFinalizers(name, rest, dryRun: false);
                }
                catch (ApiError e) when (e.Code == 404)
                {
                    // Already gone.
                }
            }
            else
            {
                pending = true;
            }
        }

        return pending;
    }
}
