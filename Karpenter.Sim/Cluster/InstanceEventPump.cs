using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Sim.Aws.World;
using Karpenter.Sim.Cluster.CloudController;
using Karpenter.Sim.Cluster.Kubelet;
using Microsoft.Extensions.Hosting;

namespace Karpenter.Sim.Cluster;

/// <summary>
/// Turns the AWS emulator's instance events into triggers of the controllers that react to machines: the kubelets'
/// bootstrap (an instance is running), the kubelet and the cloud controller manager of its node (it shuts down or
/// is gone). The controllers read the instances themselves; the events only say when to look.
/// </summary>
public sealed class InstanceEventPump(AwsWorld aws, ControllerManager controllers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var evt in aws.WatchInstancesAsync(stoppingToken))
            {
                controllers.Trigger(KubeletBootstrapController.Name);
                var node = ObjectKey.Cluster(evt.Instance.PrivateDnsName);
                controllers.Enqueue(KubeletNodeController.Name, node);
                controllers.Enqueue(CloudNodeLifecycleController.Name, node);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
