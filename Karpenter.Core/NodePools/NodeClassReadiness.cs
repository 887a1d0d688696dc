using k8s;
using k8s.Models;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Informers;

namespace Karpenter.Core.NodePools;

/// <summary>What the cluster says about the NodeClass a NodePool or NodeClaim references.</summary>
/// <param name="Exists">Whether the NodeClass exists (and is not being deleted).</param>
/// <param name="Ready">Its <c>Ready</c> condition, when it has one.</param>
/// <param name="Generation">Its <c>metadata.generation</c>.</param>
public sealed record NodeClassState(bool Exists, V1Condition? Ready, long? Generation);

/// <summary>
/// Reads the provider's NodeClass (e.g. EC2NodeClass) without Karpenter.Core knowing its type: registered by
/// <c>services.AddKarpenterNodeClass&lt;T&gt;()</c>. Launch refuses NodeClaims whose NodeClass is gone or not ready, and
/// the <c>nodepool.readiness</c> controller mirrors its readiness onto NodePools.
/// </summary>
public interface INodeClassReadiness
{
    /// <summary>The NodeClass kind this process serves.</summary>
    EntityMetadata Kind { get; }

    /// <summary>The state of the referenced NodeClass, or null when the reference names another kind or its cache has not synced.</summary>
    NodeClassState? Find(NodeClassReference reference);
}

/// <summary>The <see cref="INodeClassReadiness"/> of one NodeClass type, read from its shared informer.</summary>
public sealed class NodeClassReadiness<TNodeClass> : INodeClassReadiness
    where TNodeClass : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Informer<TNodeClass> _informer;
    private readonly Func<TNodeClass, V1Condition?> _ready;

    public NodeClassReadiness(InformerFactory informers, Func<TNodeClass, V1Condition?> readyCondition)
    {
        ArgumentNullException.ThrowIfNull(informers);
        ArgumentNullException.ThrowIfNull(readyCondition);
        _informer = informers.Get<TNodeClass>();
        _ready = readyCondition;
        Kind = EntityMetadata.Of<TNodeClass>();
    }

    public EntityMetadata Kind { get; }

    public NodeClassState? Find(NodeClassReference reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.Group != Kind.Group || reference.Kind != Kind.Kind)
        {
            return null;
        }

        if (!_informer.HasSynced)
        {
            // Not knowing yet is not "gone": callers treat null as "no verdict".
            return null;
        }

        var nodeClass = _informer.Get(ObjectKey.Cluster(reference.Name));
        return nodeClass is null || nodeClass.IsBeingDeleted()
            ? new NodeClassState(false, null, null)
            : new NodeClassState(true, _ready(nodeClass), nodeClass.Metadata.Generation);
    }
}
