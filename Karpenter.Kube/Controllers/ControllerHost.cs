using Karpenter.Kube.Informers;
using Karpenter.Kube.LeaderElection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Karpenter.Kube.Controllers;

/// <summary>
/// Runs the controllers: subscribes them to their informers, waits for leadership, then starts each controller once
/// its own caches have synced. Stopping the host cancels the reconciles in flight and waits for them.
/// </summary>
public sealed class ControllerHost(ControllerManager manager, ILeadership leadership, ILogger<ControllerHost> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wired = manager.Wire();
        if (!leadership.IsLeader)
        {
            logger.WaitingForLeadership();
        }

        try
        {
            await leadership.WaitForLeadershipAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        await Task.WhenAll(wired.Select(w => RunAsync(w.Controller, w.Informers, stoppingToken)));
    }

    private async Task RunAsync(Controller controller, IReadOnlyList<IInformer> informers, CancellationToken stoppingToken)
    {
        try
        {
            if (informers.Any(i => !i.HasSynced))
            {
                logger.WaitingForCaches(controller.Name, string.Join(", ", informers.Where(i => !i.HasSynced).Select(i => i.Description)));
            }

            await Task.WhenAll(informers.Select(i => i.WaitForSyncAsync(stoppingToken)));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        await controller.RunAsync(stoppingToken);
    }
}
