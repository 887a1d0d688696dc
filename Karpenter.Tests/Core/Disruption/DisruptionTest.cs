using k8s.Models;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Disruption;
using Karpenter.Core.Disruption.Consolidatable;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Disruption;

/// <summary>
/// The disruption loop, its orchestrator and the Consolidatable condition against the API emulator, one reconcile at a
/// time: a NodePool, managed nodes with pods, and the verbs the disruption tests are written in.
/// </summary>
public abstract class DisruptionTest : IAsyncLifetime
{
    private readonly List<IDisposable> _feeds = [];

    private protected ControllerEnvironment Env { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Env = await StartAsync();
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var feed in _feeds)
        {
            feed.Dispose();
        }

        await Env.DisposeAsync();
    }

    /// <summary>An operator on the API server (a new one on the same server, clock and cloud with <paramref name="sharing"/>: a restart).</summary>
    private protected async Task<ControllerEnvironment> StartAsync(ControllerEnvironment? sharing = null)
    {
        var env = await ControllerEnvironment.StartAsync(sharing: sharing);
        var state = env.Get<ClusterState>();
        _feeds.Add(ClusterStateInformers.Feed<V1Node>(state, env.Informers, state.UpdateNode, state.DeleteNode));
        _feeds.Add(ClusterStateInformers.Feed<V1Pod>(state, env.Informers, state.UpdatePod, state.DeletePod));
        env.Informers.Get<V1PodDisruptionBudget>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await env.Informers.WaitForSyncAsync(timeout.Token);
        return env;
    }

    private protected async Task PoolAsync(string consolidateAfter = "0s", string budget = "100%")
    {
        var pool = await Env.CreateAsync(ControllerEnvironment.NodePool("default", configure: p =>
            p.Spec.Disruption = new Karpenter.Entities.V1.Disruption { ConsolidateAfter = consolidateAfter, Budgets = [new Budget { Nodes = budget }] }));

        // Replacements launch only from a Ready NodePool, as provisioning does.
        await Env.SetStatusAsync(pool, p => p.Status.Conditions = [new V1Condition { Type = ConditionTypes.Ready, Status = "True", Reason = "Ready", Message = "ready", LastTransitionTime = Env.Clock.GetUtcNow().UtcDateTime }]);
    }

    private protected async Task<(NodeClaim Claim, V1Node Node)> ManagedNodeAsync(string type)
    {
        var nodeName = Env.NewName("node");
        var providerId = $"fake:///{FakeInstanceTypes.Zones[0]}/{nodeName}";
        var instanceType = Env.Cloud.Inner.InstanceTypes.Single(t => t.Name == type);
        var labels = new Dictionary<string, string>
        {
            [Labels.NodePool] = "default",
            [Labels.InstanceType] = type,
            [Labels.CapacityType] = CapacityTypes.OnDemand,
            [Labels.TopologyZone] = FakeInstanceTypes.Zones[0],
            [Labels.Hostname] = nodeName,
            [Labels.NodeInitialized] = "true",
            [Labels.Os] = "linux",
            [Labels.Arch] = "amd64",
        };
        var claim = await Env.CreateAsync(ControllerEnvironment.NodeClaim(Env.NewName("claim"), configure: c => c.Metadata.Labels = new Dictionary<string, string>(labels)));
        claim = await Env.SetStatusAsync(claim, c =>
        {
            c.Status.NodeName = nodeName;
            c.Status.ProviderId = providerId;
            c.Status.Conditions = [new V1Condition { Type = ConditionTypes.Initialized, Status = "True", Reason = "Initialized", LastTransitionTime = Env.Clock.GetUtcNow().UtcDateTime }];
        });
        var node = await Env.CreateAsync(new V1Node { Metadata = new V1ObjectMeta { Name = nodeName, Labels = labels }, Spec = new V1NodeSpec { ProviderID = providerId } });
        node = await Env.SetStatusAsync(node, n => n.Status = new V1NodeStatus
        {
            Allocatable = instanceType.Allocatable.ToList(),
            Capacity = instanceType.Capacity.ToList(),
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }],
        });
        return (claim, node);
    }

    private protected async Task<V1Pod> BoundPodAsync(V1Node node, string cpu, bool pdbBlocked = false, bool doNotDisrupt = false)
    {
        var name = Env.NewName("pod");
        if (pdbBlocked)
        {
            await Env.CreateAsync(new V1PodDisruptionBudget
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
                Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 0, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } } },
            });
        }

        var pod = DisruptionFixture.Pod(cpu: cpu, labels: new Dictionary<string, string> { ["app"] = name },
            annotations: doNotDisrupt ? new Dictionary<string, string> { [Annotations.DoNotDisrupt] = "true" } : null);
        pod.Metadata.Name = name;
        pod.Metadata.Uid = null;
        pod.Spec.NodeName = node.Metadata.Name;
        pod.Spec.Containers[0].Image = "app:1";
        return await Env.CreateAsync(pod);
    }

    private protected async Task ExpectConsolidatableAsync(NodeClaim claim, bool expected)
    {
        await Env.ReconcileAsync<ConsolidatableController>(claim);
        var current = await Env.SettledAsync<NodeClaim>(claim.Metadata.Name);
        Assert.Equal(expected, current!.IsConditionTrue(ConditionTypes.Consolidatable));
    }

    /// <summary>One pass of the disruption loop; returns the command it decided (or is validating), if any.</summary>
    private protected async Task<Command?> DisruptAsync(ControllerEnvironment? operatorProcess = null)
    {
        var controller = (operatorProcess ?? Env).Get<DisruptionController>();
        var before = controller.PendingCommand;
        await controller.ReconcileAsync(CancellationToken.None);
        return controller.PendingCommand ?? before;
    }

    private protected async Task<NodeClaim> ExpectReplacementAsync(NodeClaim candidate)
    {
        var replacement = (await Env.Client.ListAsync<NodeClaim>()).Items.SingleOrDefault(c => c.Metadata.Name != candidate.Metadata.Name)
            ?? throw new Xunit.Sdk.XunitException("no replacement NodeClaim was created");
        return await Env.CachedAsync(replacement);
    }

    /// <summary>A node with one pod that a cheaper replacement can take; the command is started and its replacement created.</summary>
    private protected async Task<(NodeClaim Claim, V1Node Node, NodeClaim Replacement)> StartReplaceCommandAsync()
    {
        await PoolAsync();
        var (claim, node) = await ManagedNodeAsync("fake-it-7");
        await BoundPodAsync(node, "1");
        await ExpectConsolidatableAsync(claim, true);
        Assert.Equal(DisruptionDecision.Replace, (await DisruptAsync())?.Decision);
        Env.Clock.Advance(TimeSpan.FromSeconds(15));
        await DisruptAsync();
        var replacement = await ExpectReplacementAsync(claim);
        await Env.SettledAsync<NodeClaim>(claim.Metadata.Name);
        return (claim, node, replacement);
    }

    private protected static void ExpectDisruptedTaint(V1Node? node, bool expected)
    {
        Assert.NotNull(node);
        Assert.Equal(expected, node.Spec?.Taints?.Any(DisruptionOrchestrator.IsDisrupted) == true);
    }
}
