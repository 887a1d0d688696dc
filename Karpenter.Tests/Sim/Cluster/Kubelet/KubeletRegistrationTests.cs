using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Tests.Sim.World;

namespace Karpenter.Tests.Sim.Cluster.Kubelet;

/// <summary>
/// The simulated kubelet turns a running EC2 instance into a Node the way an EKS node's bootstrap does, reading the
/// user data Karpenter's own renderers write.
/// </summary>
public sealed class KubeletRegistrationTests
{
    [Fact]
    public async Task An_AL2023_instance_becomes_a_Ready_node_with_the_labels_taints_and_max_pods_of_its_user_data()
    {
        await using var h = await WorldHarness.StartAsync();
        var bootstrap = h.Bootstrap(
            labels: new Dictionary<string, string> { ["karpenter.sh/nodepool"] = "default", ["team"] = "platform" },
            taints: [new NodeTaint("dedicated", "gpu", "NoSchedule")],
            kubelet: new KubeletSettings { ClusterDns = [h.World.ClusterDnsIp], MaxPods = 29 });
        var id = await h.LaunchAl2023Async("m5.large", bootstrap);

        var node = await h.ExpectNodeReadyAsync(id);

        var instance = h.World.Aws.World.FindInstance(id)!;
        Assert.Equal(instance.PrivateDnsName, node.Metadata.Name);
        Assert.Equal($"aws:///{instance.AvailabilityZone}/{id}", node.Spec.ProviderID);
        Assert.Equal("platform", node.Metadata.Labels["team"]);
        Assert.Equal("m5.large", node.Metadata.Labels["node.kubernetes.io/instance-type"]);
        Assert.Equal(instance.AvailabilityZone, node.Metadata.Labels["topology.kubernetes.io/zone"]);
        Assert.Equal("us-east-1", node.Metadata.Labels["topology.kubernetes.io/region"]);
        Assert.Equal(instance.AvailabilityZoneId, node.Metadata.Labels["topology.k8s.aws/zone-id"]);
        Assert.Equal("amd64", node.Metadata.Labels["kubernetes.io/arch"]);
        Assert.Equal("linux", node.Metadata.Labels["kubernetes.io/os"]);
        Assert.Equal(node.Metadata.Name, node.Metadata.Labels["kubernetes.io/hostname"]);
        Assert.Contains(node.Spec.Taints, t => t.Key == "dedicated" && t.Value == "gpu" && t.Effect == "NoSchedule");
        Assert.Contains(node.Spec.Taints, t => t.Key == "karpenter.sh/unregistered" && t.Effect == "NoExecute");
        Assert.Equal("29", node.Status.Capacity["pods"].ToString());
        Assert.Equal("2", node.Status.Capacity["cpu"].ToString());
        Assert.Equal("1930m", node.Status.Allocatable["cpu"].ToString());
    }
}
