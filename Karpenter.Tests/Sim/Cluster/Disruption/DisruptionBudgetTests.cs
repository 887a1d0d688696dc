using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Sim.Cluster;
using Karpenter.Tests.Sim.World;
using Microsoft.Extensions.DependencyInjection;
using static Karpenter.Tests.Sim.World.WorkloadBuilders;

namespace Karpenter.Tests.Sim.Cluster.Disruption;

/// <summary>The simulated disruption controller keeps PDB status current, so the eviction API honours budgets.</summary>
public sealed class DisruptionBudgetTests
{
    [Fact]
    public async Task A_budget_counts_healthy_pods_and_the_eviction_API_refuses_what_it_does_not_allow()
    {
        await using var h = await WorldHarness.StartAsync(o => o.SystemDaemonSets = false);
        await h.ExpectNodeRegisteredAsync(await h.LaunchAl2023Async("m5.xlarge"));
        await h.World.Client.CreateAsync(Deployment("api", replicas: 3));
        await h.World.Client.CreateAsync(Budget("api", app: "api", minAvailable: 2));

        await h.World.UntilAsync(_ => Status(h) is { CurrentHealthy: 3, DesiredHealthy: 2, DisruptionsAllowed: 1, ExpectedPods: 3 }, WorldHarness.Patience, "the budget to allow one disruption");

        var pods = h.World.Pods("default").Where(p => AppOf(p) == "api").ToList();
        await h.World.Client.EvictAsync(pods[0].Metadata.Name, "default");
        var refused = await Assert.ThrowsAnyAsync<KubeApiException>(() => h.World.Client.EvictAsync(pods[1].Metadata.Name, "default"));
        Assert.Equal(429, (int)refused.StatusCode);

        // The ReplicaSet replaces the evicted pod; once it runs, the budget allows one disruption again.
        await h.World.UntilAsync(_ => Status(h) is { CurrentHealthy: 3, DisruptionsAllowed: 1 } && !h.World.Pods("default").Any(p => p.Metadata.Name == pods[0].Metadata.Name), WorldHarness.Patience, "the budget to recover");
    }

    private static V1PodDisruptionBudgetStatus? Status(WorldHarness h) =>
        h.World.ClusterServices.GetRequiredService<ClusterCaches>().Budgets.List().FirstOrDefault(b => b.Metadata.Name == "api")?.Status;
}
