using k8s.Models;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Informers;

namespace Karpenter.Core.Lifecycle;

/// <summary>
/// The lookups the NodeClaim lifecycle, termination, garbage collection and NodePool controllers share, over the
/// process's shared informers: NodeClaims and Nodes by provider ID, pods by node, NodeClaims by NodePool. Creating it
/// asks the factory for those informers (so they run and the controllers wait for them) and adds the indexes once.
/// </summary>
public sealed class ClusterIndexes
{
    /// <summary>NodeClaims by <c>status.providerID</c>, Nodes by <c>spec.providerID</c>.</summary>
    public const string ProviderIdIndex = "karpenter.core/providerID";

    /// <summary>Pods by <c>spec.nodeName</c>.</summary>
    public const string NodeNameIndex = "karpenter.core/nodeName";

    /// <summary>NodeClaims and Nodes by their <c>karpenter.sh/nodepool</c> label.</summary>
    public const string NodePoolIndex = "karpenter.core/nodepool";

    public ClusterIndexes(InformerFactory informers)
    {
        ArgumentNullException.ThrowIfNull(informers);
        NodeClaims = informers.Get<NodeClaim>();
        Nodes = informers.Get<V1Node>();
        Pods = informers.Get<V1Pod>();
        NodePools = informers.Get<NodePool>();
        EnsureIndex(NodeClaims, ProviderIdIndex, c => One(c.Status?.ProviderId));
        EnsureIndex(NodeClaims, NodePoolIndex, c => One(c.NodePoolName));
        EnsureIndex(Nodes, ProviderIdIndex, n => One(n.Spec?.ProviderID));
        EnsureIndex(Nodes, NodePoolIndex, n => One(n.Metadata.Labels?.TryGetValue(Entities.WellKnown.Labels.NodePool, out var pool) == true ? pool : null));
        EnsureIndex(Pods, NodeNameIndex, p => One(p.Spec?.NodeName));
    }

    public Informer<NodeClaim> NodeClaims { get; }

    public Informer<V1Node> Nodes { get; }

    public Informer<V1Pod> Pods { get; }

    public Informer<NodePool> NodePools { get; }

    /// <summary>Whether every cache these lookups read has completed its first list.</summary>
    public bool Synced => NodeClaims.HasSynced && Nodes.HasSynced && Pods.HasSynced && NodePools.HasSynced;

    public IReadOnlyList<NodeClaim> NodeClaimsForProviderId(string? providerId) =>
        string.IsNullOrEmpty(providerId) ? [] : NodeClaims.ByIndex(ProviderIdIndex, providerId);

    public IReadOnlyList<V1Node> NodesForProviderId(string? providerId) =>
        string.IsNullOrEmpty(providerId) ? [] : Nodes.ByIndex(ProviderIdIndex, providerId);

    public IReadOnlyList<V1Pod> PodsOnNode(string nodeName) => Pods.ByIndex(NodeNameIndex, nodeName);

    public IReadOnlyList<NodeClaim> NodeClaimsOfNodePool(string nodePool) => NodeClaims.ByIndex(NodePoolIndex, nodePool);

    public IReadOnlyList<V1Node> NodesOfNodePool(string nodePool) => Nodes.ByIndex(NodePoolIndex, nodePool);

    public NodePool? NodePool(string? name) => string.IsNullOrEmpty(name) ? null : NodePools.Get(ObjectKey.Cluster(name));

    /// <summary>The NodeClaim keys whose provider ID is the node's (the controllers' Node → NodeClaim watch mapping).</summary>
    public IEnumerable<ObjectKey> NodeClaimKeysForNode(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return NodeClaimsForProviderId(node.Spec?.ProviderID).Select(ObjectKey.Of);
    }

    private static IEnumerable<string> One(string? value) => string.IsNullOrEmpty(value) ? [] : [value];

    private static void EnsureIndex<T>(Informer<T> informer, string name, Func<T, IEnumerable<string>> index)
        where T : class, k8s.IKubernetesObject<V1ObjectMeta>
    {
        // One instance per process creates these indexes; the check keeps a second instance (tests) harmless.
        lock (informer)
        {
            if (!informer.HasIndex(name))
            {
                informer.AddIndex(name, index);
            }
        }
    }
}
