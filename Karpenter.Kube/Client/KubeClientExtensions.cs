using k8s;
using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>Conveniences over <see cref="IKubeClient"/> that every controller would otherwise rewrite.</summary>
public static class KubeClientExtensions
{
    /// <summary>The default page size of <see cref="ListAllAsync{T}"/>, as client-go's pager uses.</summary>
    public const int DefaultPageSize = 500;

    /// <summary>Reads one object, or null when it does not exist.</summary>
    public static async Task<T?> TryGetAsync<T>(this IKubeClient client, string name, string? ns = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            return await client.GetAsync<T>(name, ns, cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Reads the object with <paramref name="key"/>.</summary>
    public static Task<T> GetAsync<T>(this IKubeClient client, ObjectKey key, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.GetAsync<T>(key.Name, key.Namespace, cancellationToken);
    }

    /// <summary>
    /// Lists every page (following <c>continue</c> until it is empty; a short page does not end the list). If the
    /// snapshot of a continue token expires (410), it starts over with one unpaginated list, as client-go's pager does.
    /// Returns the items and the list's resourceVersion.
    /// </summary>
    public static async Task<KubeList<T>> ListAllAsync<T>(this IKubeClient client, ListOptions? options = null, int pageSize = DefaultPageSize, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        options ??= new ListOptions();
        var items = new List<T>();
        var page = await client.ListAsync<T>(options with { Limit = pageSize, Continue = null }, cancellationToken);
        var resourceVersion = page.ResourceVersion;
        items.AddRange(page.Items);
        while (page.Continue is { Length: > 0 } token)
        {
            try
            {
                page = await client.ListAsync<T>(options with { Limit = pageSize, Continue = token }, cancellationToken);
            }
            catch (KubeGoneException)
            {
                var full = await client.ListAsync<T>(options with { Limit = null, Continue = null }, cancellationToken);
                return new KubeList<T>(full.Items, full.ResourceVersion, null);
            }

            items.AddRange(page.Items);
        }

        return new KubeList<T>(items, resourceVersion, null);
    }

    /// <summary>
    /// Patches the object with the merge patch from <paramref name="original"/> to <paramref name="modified"/>;
    /// skips the request and returns <paramref name="modified"/> when nothing changed.
    /// </summary>
    public static Task<T> PatchFromAsync<T>(this IKubeClient client, T original, T modified, bool optimisticLock = false, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        var patch = KubePatch.MergeFrom(original, modified, optimisticLock: false);
        if (patch.IsEmpty)
        {
            return Task.FromResult(modified);
        }

        patch = optimisticLock ? KubePatch.MergeFrom(original, modified, optimisticLock: true) : patch;
        var key = ObjectKey.Of(original);
        return client.PatchAsync<T>(key.Name, key.Namespace, patch, cancellationToken);
    }

    /// <summary>As <see cref="PatchFromAsync{T}"/>, through the <c>/status</c> subresource.</summary>
    public static Task<T> PatchStatusFromAsync<T>(this IKubeClient client, T original, T modified, bool optimisticLock = false, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        var patch = KubePatch.MergeFrom(original, modified, optimisticLock: false);
        if (patch.IsEmpty)
        {
            return Task.FromResult(modified);
        }

        patch = optimisticLock ? KubePatch.MergeFrom(original, modified, optimisticLock: true) : patch;
        var key = ObjectKey.Of(original);
        return client.PatchStatusAsync<T>(key.Name, key.Namespace, patch, cancellationToken);
    }

    /// <summary>Deletes the object if it exists; true when this call found it.</summary>
    public static async Task<bool> DeleteIfExistsAsync<T>(this IKubeClient client, string name, string? ns = null, V1DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            await client.DeleteAsync<T>(name, ns, options, cancellationToken);
            return true;
        }
        catch (KubeNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Delete options with a UID precondition (and optionally a resourceVersion one).</summary>
    public static V1DeleteOptions Preconditions(string? uid, string? resourceVersion = null, string? propagationPolicy = null, long? gracePeriodSeconds = null) =>
        new()
        {
            Preconditions = uid is null && resourceVersion is null ? null : new V1Preconditions { Uid = uid, ResourceVersion = resourceVersion },
            PropagationPolicy = propagationPolicy,
            GracePeriodSeconds = gracePeriodSeconds,
        };
}

/// <summary>Propagation policies of <see cref="V1DeleteOptions.PropagationPolicy"/>.</summary>
public static class PropagationPolicy
{
    public const string Background = "Background";
    public const string Foreground = "Foreground";
    public const string Orphan = "Orphan";
}
