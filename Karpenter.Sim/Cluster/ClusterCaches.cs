using k8s.Models;
using Karpenter.Kube.Informers;

namespace Karpenter.Sim.Cluster;

/// <summary>
/// The simulated cluster's shared informer caches with the indexes its components look things up by (the
/// components of one world share one <see cref="InformerFactory"/>, as kube-controller-manager's controllers do).
/// </summary>
public sealed class ClusterCaches
{
    /// <summary>Pods by <c>spec.nodeName</c>.</summary>
    public const string ByNode = "spec.nodeName";

    /// <summary>Objects by the UID of each owner.</summary>
    public const string ByOwner = "metadata.ownerReferences.uid";

    /// <summary>Events by <c>involvedObject.uid</c>.</summary>
    public const string ByInvolvedObject = "involvedObject.uid";

    /// <summary>The only events the scheduler reads: Karpenter's nominations.</summary>
    public static readonly InformerScope NominationEvents = new(FieldSelector: "reason=Nominated");

    public ClusterCaches(InformerFactory informers)
    {
        ArgumentNullException.ThrowIfNull(informers);
        Informers = informers;
        Pods = informers.Get<V1Pod>();
        Nodes = informers.Get<V1Node>();
        Namespaces = informers.Get<V1Namespace>();
        ReplicaSets = informers.Get<V1ReplicaSet>();
        Deployments = informers.Get<V1Deployment>();
        DaemonSets = informers.Get<V1DaemonSet>();
        Budgets = informers.Get<V1PodDisruptionBudget>();
        Nominations = informers.Get<Corev1Event>(NominationEvents);
        NodeLeases = informers.Get<V1Lease>(NodeLeaseScope);
        Pods.AddIndex(ByNode, p => string.IsNullOrEmpty(p.Spec?.NodeName) ? [] : [p.Spec.NodeName]);
        Pods.AddIndex(ByOwner, OwnerUids);
        ReplicaSets.AddIndex(ByOwner, OwnerUids);
        Nominations.AddIndex(ByInvolvedObject, e => string.IsNullOrEmpty(e.InvolvedObject?.Uid) ? [] : [e.InvolvedObject.Uid]);
    }

    /// <summary>The kubelets' heartbeat Leases.</summary>
    public static readonly InformerScope NodeLeaseScope = new(Namespace: "kube-node-lease");

    public InformerFactory Informers { get; }

    public Informer<V1Lease> NodeLeases { get; }

    public Informer<V1Pod> Pods { get; }

    public Informer<V1Node> Nodes { get; }

    public Informer<V1Namespace> Namespaces { get; }

    public Informer<V1ReplicaSet> ReplicaSets { get; }

    public Informer<V1Deployment> Deployments { get; }

    public Informer<V1DaemonSet> DaemonSets { get; }

    public Informer<V1PodDisruptionBudget> Budgets { get; }

    public Informer<Corev1Event> Nominations { get; }

    /// <summary>The pods bound to <paramref name="nodeName"/>.</summary>
    public IReadOnlyList<V1Pod> PodsOn(string nodeName) => Pods.ByIndex(ByNode, nodeName);

    private static IEnumerable<string> OwnerUids(IMetadata<V1ObjectMeta> obj) =>
        obj.Metadata?.OwnerReferences?.Select(o => o.Uid).Where(u => !string.IsNullOrEmpty(u)) ?? [];
}
