using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Controllers;
using Karpenter.Tests.Core.Lifecycle.Support;
using Karpenter.Tests.Core.Termination;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Karpenter.Tests.Core.Lifecycle;

/// <summary>
/// The NodeClaim's whole life with the controllers running in their host (work queues, watches, requeues) against the
/// in-memory API server and the fake cloud; the test stands in for the kubelet (registers the Node, reports it Ready,
/// finishes terminating pods) and for the disruption controller (PDB status). Time passes on the fake clock only.
/// </summary>
public sealed class EndToEndTests : TerminationTest
{
    private ControllerHost? _host;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _host = Env.Services.GetServices<IHostedService>().OfType<ControllerHost>().Single();
        await _host.StartAsync(CancellationToken.None);
    }

    public override async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync(CancellationToken.None);
        }

        await base.DisposeAsync();
    }

    [Fact]
    public async Task A_NodeClaim_launches_registers_initializes_and_on_deletion_drains_past_a_PDB_without_losing_a_pod()
    {
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("e2e"));
        var launched = await EventuallyAsync(async () => await Env.GetAsync<NodeClaim>(created.Metadata.Name) is { } nc && nc.IsTrue(ConditionTypes.Launched) ? nc : null, "launched");
        var providerId = launched.Status.ProviderId!;
        Assert.Single(await Env.Cloud.MachinesAsync());

        // The kubelet registers the node and, later, reports it Ready.
        var node = await Env.CreateAsync(ControllerEnvironment.Node("node-e2e", providerId));
        await EventuallyAsync(async () => await Env.GetAsync<NodeClaim>(created.Metadata.Name) is { } nc && nc.IsTrue(ConditionTypes.Registered) ? nc : null, "registered");
        node = await Env.MakeReadyAsync(node);
        await EventuallyAsync(async () => await Env.GetAsync<NodeClaim>(created.Metadata.Name) is { } nc && nc.IsTrue(ConditionTypes.Initialized) ? nc : null, "initialized");

        await RunningPodAsync(node, "guarded");
        await RunningPodAsync(node, "free");
        var pdb = await PdbAsync("guarded", allowed: 0);

        await Env.Client.DeleteAsync<NodeClaim>(created.Metadata.Name);

        // The free pod is evicted; the guarded one is held back by its PDB and the node and instance with it.
        await EventuallyAsync(async () => await PodNamesOnNodeAsync(node) is ["guarded"] ? "held" : null, "only the guarded pod left");
        await EventuallyAsync(() => Task.FromResult(Env.Events.All.Any(e => e.Reason == EventReasons.FailedDraining) ? "blocked" : null), "a FailedDraining event");
        for (var i = 0; i < 20; i++)
        {
            await StepAsync(node);
        }

        Assert.Equal(["guarded"], await PodNamesOnNodeAsync(node));
        Assert.Null((await PodsOnNodeAsync(node))[0].Metadata.DeletionTimestamp);
        Assert.NotNull(await Env.GetAsync<V1Node>(node.Metadata.Name));
        Assert.Single(await Env.Cloud.MachinesAsync());

        // The budget relaxes: the last pod is evicted, the instance terminated, the finalizers removed.
        await AllowDisruptionsAsync(pdb, 1);
        await EventuallyAsync(async () => await Env.GetAsync<NodeClaim>(created.Metadata.Name) is null && await Env.GetAsync<V1Node>(node.Metadata.Name) is null ? "gone" : null, "node and NodeClaim gone");

        Assert.Empty(await Env.Cloud.MachinesAsync());
        Env.Events.ExpectEvent(EventReasons.Evicted, "free");
        Env.Events.ExpectEvent(EventReasons.Evicted, "guarded");
        Env.Events.ExpectNoEvent(EventReasons.Disrupted, "guarded");
        Assert.Equal(1, Env.Cloud.CreateCount);
    }

    /// <summary>One step of the world: the kubelet finishes terminating pods, a second passes, the controllers run.</summary>
    private async Task StepAsync(V1Node node)
    {
        await KubeletFinishesTerminatingPodsAsync(node);
        Env.Clock.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
    }

    private async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what)
        where T : class
    {
        var node = new V1Node { Metadata = new V1ObjectMeta { Name = "node-e2e" } };
        for (var i = 0; i < 1500; i++)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await StepAsync(node);
        }

        throw new Xunit.Sdk.XunitException($"never {what}; events: {string.Join("; ", Env.Events.All.Select(e => $"{e.Reason}/{e.Regarding.Metadata.Name}: {e.Message}"))}");
    }
}
