using System.Text;
using k8s;
using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Sim.Cluster.Workloads;

/// <summary>Pods from templates, and template hashes, as the workload controllers make them.</summary>
public static class PodTemplates
{
    /// <summary>The label a Deployment puts on its ReplicaSets and their pods.</summary>
    public const string PodTemplateHashLabel = "pod-template-hash";

    /// <summary>The label a DaemonSet puts on its pods (the template revision).</summary>
    public const string ControllerRevisionHashLabel = "controller-revision-hash";

    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>A new pod from <paramref name="template"/>, named <c>{owner}-xxxxx</c> by the server, controlled by the owner.</summary>
    public static V1Pod NewPod<TOwner>(TOwner owner, V1PodTemplateSpec template, IDictionary<string, string>? extraLabels = null)
        where TOwner : IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(template);
        var copy = KubeObjects.DeepClone(template);
        var labels = new Dictionary<string, string>(copy.Metadata?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in extraLabels ?? new Dictionary<string, string>())
        {
            labels[key] = value;
        }

        var resource = KubeResource.Of(owner.GetType());
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                GenerateName = owner.Metadata.Name + "-",
                NamespaceProperty = owner.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = copy.Metadata?.Annotations,
                Finalizers = copy.Metadata?.Finalizers,
                OwnerReferences = [OwnerReference(owner, resource)],
            },
            Spec = copy.Spec,
        };
    }

    /// <summary>A controller owner reference to <paramref name="owner"/> (<c>controller: true</c>, <c>blockOwnerDeletion: true</c>).</summary>
    public static V1OwnerReference OwnerReference<TOwner>(TOwner owner, KubeResource? resource = null)
        where TOwner : IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(owner);
        resource ??= KubeResource.Of(owner.GetType());
        return new V1OwnerReference
        {
            ApiVersion = resource.ApiVersion,
            Kind = resource.Kind,
            Name = owner.Metadata.Name,
            Uid = owner.Metadata.Uid,
            Controller = true,
            BlockOwnerDeletion = true,
        };
    }

    /// <summary>
    /// A short hash of the template (and collision count), spelled with the safe alphabet Kubernetes uses so it never
    /// forms words: the same template gives the same hash, a changed template another.
    /// </summary>
    public static string Hash(V1PodTemplateSpec template, int? collisionCount = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        var text = KubernetesJson.Serialize(template) + (collisionCount is { } c ? "#" + c.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty);
        uint hash = 2166136261;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619;
        }

        var digits = hash.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sb = new StringBuilder(digits.Length);
        foreach (var ch in digits)
        {
            sb.Append(SafeAlphabet[(ch - '0' + digits.Length) % SafeAlphabet.Length]);
        }

        return sb.ToString();
    }

    /// <summary>Whether two templates are the same, ignoring the pod-template-hash label.</summary>
    public static bool SameTemplate(V1PodTemplateSpec? a, V1PodTemplateSpec? b)
    {
        return KubernetesJson.Serialize(Strip(a)) == KubernetesJson.Serialize(Strip(b));

        static V1PodTemplateSpec? Strip(V1PodTemplateSpec? t)
        {
            if (t is null)
            {
                return null;
            }

            var copy = KubeObjects.DeepClone(t);
            copy.Metadata?.Labels?.Remove(PodTemplateHashLabel);
            if (copy.Metadata?.Labels is { Count: 0 })
            {
                copy.Metadata.Labels = null;
            }

            return copy;
        }
    }
}

/// <summary>
/// What a controller has asked for but its informer has not shown yet (controller-runtime's "expectations"): pods
/// created but not yet seen, pods deleted but still there. Counting them keeps a level-based controller from creating
/// or deleting twice while the cache catches up; entries expire after five minutes, as upstream's do.
/// </summary>
public sealed class Expectations
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, DateTimeOffset>> _creations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, DateTimeOffset>> _deletions = new(StringComparer.Ordinal);

    public void Created(string owner, string podName, DateTimeOffset now) => Add(_creations, owner, podName, now);

    public void Deleted(string owner, string podUid, DateTimeOffset now) => Add(_deletions, owner, podUid, now);

    /// <summary>Created pods not yet observed (<paramref name="observed"/> says whether the cache shows a name).</summary>
    public int PendingCreations(string owner, Func<string, bool> observed, DateTimeOffset now) => Pending(_creations, owner, observed, now);

    /// <summary>Deleted pods still active in the cache (<paramref name="gone"/> says whether a UID is gone or terminating).</summary>
    public int PendingDeletions(string owner, Func<string, bool> gone, DateTimeOffset now) => Pending(_deletions, owner, gone, now);

    /// <summary>The UIDs whose deletion is still expected.</summary>
    public IReadOnlySet<string> DeletingUids(string owner)
    {
        lock (_lock)
        {
            return _deletions.TryGetValue(owner, out var set) ? new HashSet<string>(set.Keys, StringComparer.Ordinal) : new HashSet<string>();
        }
    }

    private void Add(Dictionary<string, Dictionary<string, DateTimeOffset>> map, string owner, string item, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!map.TryGetValue(owner, out var set))
            {
                set = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
                map[owner] = set;
            }

            set[item] = now + Timeout;
        }
    }

    private int Pending(Dictionary<string, Dictionary<string, DateTimeOffset>> map, string owner, Func<string, bool> satisfied, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!map.TryGetValue(owner, out var set))
            {
                return 0;
            }

            foreach (var (item, until) in set.ToList())
            {
                if (until <= now || satisfied(item))
                {
                    set.Remove(item);
                }
            }

            if (set.Count == 0)
            {
                map.Remove(owner);
            }

            return set.Count;
        }
    }
}
