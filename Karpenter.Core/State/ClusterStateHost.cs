using Karpenter.Kube.Informers;
using Microsoft.Extensions.Hosting;

namespace Karpenter.Core.State;

/// <summary>
/// Feeds the process's <see cref="ClusterState"/> from the shared informers when the host starts (informers created
/// after the informer host started run at once) and publishes its gauges.
/// </summary>
internal sealed class ClusterStateHost(ClusterState state, InformerFactory informers, ClusterStateMetrics metrics) : IHostedService
{
    private IReadOnlyList<IDisposable> _subscriptions = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = metrics;
        if (_subscriptions.Count == 0)
        {
            _subscriptions = ClusterStateInformers.Attach(state, informers);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        _subscriptions = [];
        return Task.CompletedTask;
    }
}
