using k8s.Models;
using Karpenter.Core.Lifecycle.Expiration;
using Karpenter.Core.Metrics;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Tests.Core.Lifecycle.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Karpenter.Tests.Core.Termination;

/// <summary>
/// Expiration is forceful and goes through the one termination path: an expired NodeClaim is deleted although its pods
/// are protected by a PDB and <c>karpenter.sh/do-not-disrupt</c> (which would keep it from any graceful disruption), and
/// the drain honours both until the NodeClaim's terminationGracePeriod runs out, and only then.
/// </summary>
public sealed class ExpirationTerminationTests : TerminationTest
{
    [Fact]
    public async Task An_expired_node_is_deleted_despite_protected_pods_and_drained_past_them_only_after_its_grace_period()
    {
        using var disrupted = new MetricCollector<long>(Env.Get<LifecycleMetrics>().NodeClaimsDisrupted);
        var (nodeClaim, node) = await ExpectRegisteredNodeAsync("expiring", nc =>
        {
            nc.Spec.ExpireAfter = "1h";
            nc.Spec.TerminationGracePeriod = "5m";
        });
        await RunningPodAsync(node, "guarded", p => p.Spec.TerminationGracePeriodSeconds = 30);
        await PdbAsync("guarded", allowed: 0);
        await RunningPodAsync(node, "precious", p =>
        {
            p.Metadata.Annotations = new Dictionary<string, string> { [Annotations.DoNotDisrupt] = "true" };
            p.Spec.TerminationGracePeriodSeconds = 30;
        });

        Env.Clock.Advance(TimeSpan.FromHours(1));
        await Env.ReconcileAsync<ExpirationController>(nodeClaim);

        Assert.NotNull((await ExpectNodeClaimAsync(nodeClaim.Metadata.Name)).Metadata.DeletionTimestamp);
        Env.Events.ExpectEvent(EventReasons.Expired, nodeClaim.Metadata.Name);
        var measurement = Assert.Single(disrupted.GetMeasurementSnapshot());
        Assert.Equal("expired", measurement.Tags["reason"]);

        // The termination path: the deadline recorded, the node tainted and drained, the protected pods held.
        await Env.LifecycleAsync(nodeClaim);
        Assert.NotNull((await ExpectNodeClaimAsync(nodeClaim.Metadata.Name)).Metadata.Annotations?[Annotations.NodeClaimTerminationTimestamp]);
        await DrainRoundAsync(node);
        var held = await ExpectNodeHeldAsync(node);
        Assert.Contains(held.Spec.Taints ?? [], t => t.Key == Taints.DisruptedKey && t.Effect == Taints.EffectNoSchedule);
        Env.Clock.Advance(TimeSpan.FromMinutes(4));
        await DrainRoundAsync(node);
        Assert.Equal(["guarded", "precious"], await PodNamesOnNodeAsync(node));
        Assert.All(await PodsOnNodeAsync(node), p => Assert.Null(p.Metadata.DeletionTimestamp));
        Assert.Single(await Env.Cloud.MachinesAsync());

        // Past deadline − the pods' own grace period: they go, then the instance and the node.
        Env.Clock.Advance(TimeSpan.FromSeconds(31));
        await DrainRoundAsync(node);
        Assert.Empty(await PodNamesOnNodeAsync(node));
        Env.Events.ExpectEvent(EventReasons.Disrupted, "guarded");
        Env.Events.ExpectEvent(EventReasons.Disrupted, "precious");
        Env.Clock.Advance(TimeSpan.FromSeconds(30));
        await TerminateNodeAsync(node);
        await TerminateNodeAsync(node);
        await ExpectNodeGoneAsync(node);
        await ExpectFinalizedAsync(nodeClaim);
        Assert.Empty(await Env.Cloud.MachinesAsync());
    }
}
