using k8s.Models;
using Karpenter.Core.Scheduling;

namespace Karpenter.Tests.Core.Scheduling;

public sealed class PodResourcesTests
{
    private static V1Container Container(string cpu, string memory, string? restartPolicy = null) => new()
    {
        Name = "c",
        RestartPolicy = restartPolicy,
        Resources = new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new(memory) },
        },
    };

    [Fact]
    public void Regular_containers_add_up_and_the_pod_takes_one_slot()
    {
        var pod = new V1Pod { Spec = new V1PodSpec { Containers = [Container("500m", "1Gi"), Container("250m", "512Mi")] } };

        var r = PodResources.Requests(pod);

        Assert.Equal(new Resources(750, 1536L << 20, 1), r);
    }

    [Fact]
    public void An_init_container_larger_than_the_app_raises_the_requests_to_its_size()
    {
        var pod = new V1Pod
        {
            Spec = new V1PodSpec { Containers = [Container("500m", "1Gi")], InitContainers = [Container("2", "256Mi")] },
        };

        var r = PodResources.Requests(pod);

        Assert.Equal(2000, r.CpuMilli);
        Assert.Equal(1L << 30, r.Memory);
    }

    [Fact]
    public void Sidecars_run_alongside_the_app_and_under_later_init_containers()
    {
        // sidecar 200m runs for the pod's life; the init container after it runs with it: 1000m + 200m = 1200m;
        // steady state is app 500m + sidecar 200m = 700m. kube-scheduler takes the max: 1200m.
        var pod = new V1Pod
        {
            Spec = new V1PodSpec
            {
                Containers = [Container("500m", "1Gi")],
                InitContainers = [Container("200m", "100Mi", "Always"), Container("1", "100Mi")],
            },
        };

        var r = PodResources.Requests(pod);

        Assert.Equal(1200, r.CpuMilli);
        Assert.Equal((1L << 30) + (100L << 20), r.Memory);
    }

    [Fact]
    public void Pod_overhead_is_added_on_top()
    {
        var pod = new V1Pod
        {
            Spec = new V1PodSpec
            {
                Containers = [Container("500m", "1Gi")],
                Overhead = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m"), ["memory"] = new("120Mi") },
            },
        };

        Assert.Equal(new Resources(750, (1L << 30) + (120L << 20), 1), PodResources.Requests(pod));
    }

    [Fact]
    public void A_limit_without_a_request_requests_the_limit()
    {
        var pod = new V1Pod
        {
            Spec = new V1PodSpec
            {
                Containers =
                [
                    new V1Container
                    {
                        Name = "c",
                        Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["nvidia.com/gpu"] = new("2") } },
                    },
                ],
            },
        };

        Assert.Equal(2, PodResources.Requests(pod).Get("nvidia.com/gpu"));
    }
}
