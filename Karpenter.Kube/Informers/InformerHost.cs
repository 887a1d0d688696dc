using Microsoft.Extensions.Hosting;

namespace Karpenter.Kube.Informers;

/// <summary>
/// Starts the shared informers with the host (before leadership, so a standby's caches are warm) and stops them
/// after the controllers (hosted services stop in reverse order).
/// </summary>
public sealed class InformerHost(InformerFactory informers) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        informers.Start(CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => informers.StopAsync().WaitAsync(cancellationToken);
}
