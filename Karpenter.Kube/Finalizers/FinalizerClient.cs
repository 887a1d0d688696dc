using k8s;
using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Kube.Finalizers;

/// <summary>
/// Adds and removes one finalizer by patch, as controller-runtime's <c>controllerutil</c> recommends:
/// add it before any external side effect; on deletion clean up, then remove only our own finalizer.
/// </summary>
public sealed class FinalizerClient(IKubeClient client)
{
    /// <summary>
    /// Ensures <paramref name="finalizer"/> is on the object: a merge patch of the whole list carrying the object's
    /// resourceVersion, so a concurrent change of the list fails with 409 instead of being overwritten. Returns the
    /// updated object (or the same one when the finalizer was already there).
    /// </summary>
    public async Task<T> AddAsync<T>(T obj, string finalizer, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentException.ThrowIfNullOrEmpty(finalizer);
        var current = obj.Metadata.Finalizers ?? [];
        if (current.Contains(finalizer))
        {
            return obj;
        }

        var patch = new
        {
            metadata = new
            {
                finalizers = current.Append(finalizer).ToArray(),
                resourceVersion = obj.Metadata.ResourceVersion
                    ?? throw new InvalidOperationException("Adding a finalizer needs the object's resourceVersion (read it from the server or the cache)."),
            },
        };
        var key = ObjectKey.Of(obj);
        return await client.PatchAsync<T>(key.Name, key.Namespace, KubePatch.Merge(patch), cancellationToken);
    }

    /// <summary>
    /// Removes only <paramref name="finalizer"/>: a JSON patch that tests the entry at its index and removes it, so
    /// other controllers' finalizers are never touched. If the list moved meanwhile, it re-reads and tries again.
    /// Not cancellable: once cleanup is done, this write must happen. Returns false when the object is gone or no
    /// longer carries the finalizer.
    /// </summary>
    public async Task<bool> RemoveAsync<T>(T obj, string finalizer)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentException.ThrowIfNullOrEmpty(finalizer);
        var key = ObjectKey.Of(obj);
        var current = obj;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var list = current.Metadata.Finalizers ?? [];
            var index = list.IndexOf(finalizer);
            if (index < 0)
            {
                return false;
            }

            var path = $"/metadata/finalizers/{index}";
            var patch = new JsonPatchBuilder().Test(path, finalizer).Remove(path);
            try
            {
                await client.PatchAsync<T>(key.Name, key.Namespace, KubePatch.Json(patch), CancellationToken.None);
                return true;
            }
            catch (KubeNotFoundException)
            {
                return false;
            }
            catch (KubeApiException e) when (e.StatusCode == 422 || e is KubeConflictException)
            {
                // The test op failed (the list changed): read again.
                var fresh = await client.TryGetAsync<T>(key.Name, key.Namespace, CancellationToken.None);
                if (fresh is null)
                {
                    return false;
                }

                current = fresh;
            }
        }

        throw new KubeConflictException($"could not remove finalizer {finalizer} from {key}: the finalizer list kept changing");
    }
}
