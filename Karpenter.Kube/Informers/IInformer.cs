namespace Karpenter.Kube.Informers;

/// <summary>The type-independent face of an informer: what the host runs and what readiness checks.</summary>
public interface IInformer
{
    /// <summary>The cached type and scope, for logs and readiness messages.</summary>
    string Description { get; }

    /// <summary>Whether the first list has been stored (and stays true afterwards).</summary>
    bool HasSynced { get; }

    /// <summary>Completes once <see cref="HasSynced"/>.</summary>
    Task WaitForSyncAsync(CancellationToken cancellationToken);

    /// <summary>Lists, watches and re-lists until cancelled.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
