using k8s;
using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>
/// The narrow typed client every controller uses, for any type with a <see cref="KubernetesEntityAttribute"/>
/// (built-in models and custom entities). Failures surface as <see cref="KubeApiException"/> subclasses
/// (<see cref="KubeNotFoundException"/>, <see cref="KubeConflictException"/>, …). A null namespace addresses a
/// cluster-scoped object (or all namespaces for list and watch).
/// </summary>
/// <remarks>
/// <see cref="KubeClient"/> is the HTTP implementation over the process's single <see cref="IKubernetes"/>; tests may
/// substitute an in-memory implementation of this interface.
/// </remarks>
public interface IKubeClient
{
    /// <summary>Reads one object; throws <see cref="KubeNotFoundException"/> when it does not exist.</summary>
    Task<T> GetAsync<T>(string name, string? ns = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Lists one page (all of them when <see cref="ListOptions.Limit"/> is null).</summary>
    Task<KubeList<T>> ListAsync<T>(ListOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Creates the object (namespace from its metadata); returns what the server stored.</summary>
    Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>
    /// Replaces the object (PUT). Its <c>metadata.resourceVersion</c> is the optimistic lock: a stale one fails with
    /// <see cref="KubeConflictException"/>. Status is ignored by resources with a status subresource.
    /// </summary>
    Task<T> UpdateAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Replaces the status through the <c>/status</c> subresource (same optimistic lock).</summary>
    Task<T> UpdateStatusAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Patches the object (merge, JSON or strategic merge patch).</summary>
    Task<T> PatchAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Patches the <c>/status</c> subresource.</summary>
    Task<T> PatchStatusAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>
    /// Deletes the object, with optional preconditions (uid, resourceVersion), grace period and propagation policy.
    /// Returns the object when the server kept it (finalizers pending, graceful pod deletion) or returned it, and
    /// null when it answered with a Status. Throws <see cref="KubeNotFoundException"/> when it is already gone.
    /// </summary>
    Task<T?> DeleteAsync<T>(string name, string? ns = null, V1DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>
    /// Evicts a pod through <c>pods/eviction</c> (policy/v1), which honours PodDisruptionBudgets: a blocked eviction
    /// throws <see cref="KubeTooManyRequestsException"/>.
    /// </summary>
    Task EvictAsync(string podName, string ns, V1DeleteOptions? deleteOptions = null, CancellationToken cancellationToken = default);

    /// <summary>Binds a pod to a node through <c>pods/binding</c>; an already bound pod throws <see cref="KubeConflictException"/>.</summary>
    Task BindAsync(string podName, string ns, string nodeName, string? podUid = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Watches a collection. The stream ends when the server closes the watch; an ERROR event (e.g. 410 Expired) is
    /// yielded with its <see cref="WatchEvent{T}.Status"/>, not thrown.
    /// </summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(WatchOptions options, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>;
}
