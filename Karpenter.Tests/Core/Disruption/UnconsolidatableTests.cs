using k8s.Models;
using Karpenter.Core.Disruption;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Tests.Core.Disruption;

/// <summary>Bad input to consolidation: a candidate whose pods cannot be placed anywhere is skipped with an event, never half-disrupted.</summary>
public sealed class UnconsolidatableTests : DisruptionTest
{
    [Fact]
    public async Task A_node_whose_pods_fit_nowhere_else_gets_an_Unconsolidatable_event_and_is_never_touched()
    {
        // Alone, a 1-cpu pod on an 8-cpu node would be moved to a cheaper node; pinned to its node, it fits nowhere else.
        await PoolAsync();
        var (claim, node) = await ManagedNodeAsync("fake-it-7");
        var pod = DisruptionFixture.Pod(cpu: "1");
        pod.Metadata.Name = Env.NewName("pinned");
        pod.Metadata.Uid = null;
        pod.Spec.NodeName = node.Metadata.Name;
        pod.Spec.Containers[0].Image = "app:1";
        pod.Spec.NodeSelector = new Dictionary<string, string> { [Labels.Hostname] = node.Metadata.Name };
        await Env.CreateAsync(pod);
        await ExpectConsolidatableAsync(claim, true);

        Assert.Null(await DisruptAsync());
        var unconsolidatable = Env.Events.ExpectEvent(EventReasons.Unconsolidatable, claim.Metadata.Name);
        Assert.Contains("not all pods would schedule", unconsolidatable.Message, StringComparison.Ordinal);

        // Repeated every pass, but published as upstream does: one per object every 15 minutes, whatever the reason.
        Assert.Equal(TimeSpan.FromMinutes(15), unconsolidatable.DedupeTimeout);
        Assert.Equal([claim.Metadata.Uid], unconsolidatable.DedupeValues);
        Env.Events.ExpectEvent(EventReasons.Unconsolidatable, node.Metadata.Name);
        ExpectDisruptedTaint(await Env.SettledAsync<V1Node>(node.Metadata.Name), false);
        Assert.NotNull(await Env.GetAsync<NodeClaim>(claim.Metadata.Name));
        Assert.Single((await Env.Client.ListAsync<NodeClaim>()).Items);
    }
}
