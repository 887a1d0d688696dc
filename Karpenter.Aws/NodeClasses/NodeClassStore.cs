using Karpenter.Entities.Aws.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Informers;

namespace Karpenter.Aws.NodeClasses;

/// <summary>Where the cloud provider reads EC2NodeClasses from.</summary>
public interface IEc2NodeClassStore
{
    /// <summary>The EC2NodeClass named <paramref name="name"/>, or null when it does not exist.</summary>
    Task<EC2NodeClass?> GetAsync(string name, CancellationToken cancellationToken);
}

/// <summary>EC2NodeClasses from the informer cache once it has synced, from the API server before that.</summary>
public sealed class InformerNodeClassStore(InformerFactory informers, IKubeClient client) : IEc2NodeClassStore
{
    private readonly Informer<EC2NodeClass> _informer = informers.Get<EC2NodeClass>();

    public async Task<EC2NodeClass?> GetAsync(string name, CancellationToken cancellationToken)
    {
        if (_informer.HasSynced)
        {
            return _informer.Get(ObjectKey.Cluster(name));
        }
        return await client.TryGetAsync<EC2NodeClass>(name, null, cancellationToken);
    }
}
