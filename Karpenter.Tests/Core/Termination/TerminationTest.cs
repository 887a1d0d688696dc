using k8s.Models;
using Karpenter.Core.Termination;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Termination;

/// <summary>
/// Node termination, one reconcile at a time: a registered, Ready node with pods bound to it, PodDisruptionBudgets
/// whose status the test writes (standing in for the disruption controller), and the test as the kubelet that
/// finishes terminating pods.
/// </summary>
public abstract class TerminationTest : LifecycleTest
{
    internal const string Namespace = "default";

    /// <summary>Launches a NodeClaim, registers its Node and makes it Ready; returns both as stored.</summary>
    internal async Task<(NodeClaim NodeClaim, V1Node Node)> ExpectRegisteredNodeAsync(string name, Action<NodeClaim>? configure = null)
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim(name, configure: configure));
        var node = await Env.CreateAsync(ControllerEnvironment.Node($"node-{name}", launched.Status.ProviderId!));
        await Env.LifecycleAsync(launched);
        node = await Env.MakeReadyAsync(node);
        return (await ExpectNodeClaimAsync(name), node);
    }

    /// <summary>A Running, Ready pod bound to <paramref name="node"/>.</summary>
    internal async Task<V1Pod> RunningPodAsync(V1Node node, string name, Action<V1Pod>? configure = null)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace, Labels = new Dictionary<string, string> { ["app"] = name } },
            Spec = new V1PodSpec
            {
                NodeName = node.Metadata.Name,
                Containers = [new V1Container { Name = "main", Image = "registry.k8s.io/pause:3.9" }],
            },
        };
        configure?.Invoke(pod);
        var created = await Env.CreateAsync(pod);
        return await Env.SetStatusAsync(created, p => p.Status = new V1PodStatus
        {
            Phase = "Running",
            Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }],
        });
    }

    /// <summary>A PodDisruptionBudget over pods labelled <c>app=<paramref name="app"/></c> whose status allows <paramref name="allowed"/> disruptions.</summary>
    internal async Task<V1PodDisruptionBudget> PdbAsync(string app, int allowed)
    {
        var pdb = await Env.CreateAsync(new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = $"pdb-{app}", NamespaceProperty = Namespace },
            Spec = new V1PodDisruptionBudgetSpec
            {
                MinAvailable = "1",
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = app } },
            },
        });
        return await AllowDisruptionsAsync(pdb, allowed);
    }

    /// <summary>Writes the PDB status the disruption controller would compute.</summary>
    internal Task<V1PodDisruptionBudget> AllowDisruptionsAsync(V1PodDisruptionBudget pdb, int allowed) =>
        Env.SetStatusAsync(pdb, p => p.Status = new V1PodDisruptionBudgetStatus
        {
            ObservedGeneration = p.Metadata.Generation,
            DisruptionsAllowed = allowed,
            CurrentHealthy = 1 + allowed,
            DesiredHealthy = 1,
            ExpectedPods = 1 + allowed,
        });

    /// <summary>Reconciles <c>node.termination</c> once on the node's cached state.</summary>
    internal Task<ReconcileResult> TerminateNodeAsync(V1Node node) =>
        Env.ReconcileObjectAsync<V1Node, NodeTerminationController>(node);

    /// <summary>Reconciles the eviction controller once on every pod now bound to the node; returns each pod's result.</summary>
    internal async Task<IReadOnlyDictionary<string, ReconcileResult>> EvictAsync(V1Node node)
    {
        var results = new Dictionary<string, ReconcileResult>(StringComparer.Ordinal);
        foreach (var pod in await PodsOnNodeAsync(node))
        {
            results[pod.Metadata.Name] = await Env.ReconcileObjectAsync<V1Pod, EvictionController>(pod);
        }

        return results;
    }

    /// <summary>The kubelet's part: pods being deleted on the node finish terminating.</summary>
    internal async Task KubeletFinishesTerminatingPodsAsync(V1Node node)
    {
        foreach (var pod in (await PodsOnNodeAsync(node)).Where(p => p.Metadata.DeletionTimestamp is not null))
        {
            await Env.Client.DeleteIfExistsAsync<V1Pod>(pod.Metadata.Name, pod.Metadata.NamespaceProperty, KubeClientExtensions.Preconditions(pod.Metadata.Uid, gracePeriodSeconds: 0));
            await Env.SettledAsync<V1Pod>(pod.Metadata.Name, pod.Metadata.NamespaceProperty);
        }
    }

    /// <summary>One round of a drain: node.termination, then the evictions it asked for, then the kubelet.</summary>
    internal async Task<ReconcileResult> DrainRoundAsync(V1Node node)
    {
        var result = await TerminateNodeAsync(node);
        await EvictAsync(node);
        await KubeletFinishesTerminatingPodsAsync(node);
        await Env.SettledAsync<V1Node>(node.Metadata.Name);
        return result;
    }

    internal async Task<IReadOnlyList<V1Pod>> PodsOnNodeAsync(V1Node node) =>
        [.. (await Env.Client.ListAsync<V1Pod>(new ListOptions { FieldSelector = $"spec.nodeName={node.Metadata.Name}" })).Items.OrderBy(p => p.Metadata.Name, StringComparer.Ordinal)];

    internal async Task<IReadOnlyList<string>> PodNamesOnNodeAsync(V1Node node) =>
        [.. (await PodsOnNodeAsync(node)).Select(p => p.Metadata.Name)];

    internal async Task ExpectNodeGoneAsync(V1Node node)
    {
        var found = await Env.SettledAsync<V1Node>(node.Metadata.Name);
        Assert.True(found is null, $"node {node.Metadata.Name} still exists (finalizers: {string.Join(", ", found?.Metadata.Finalizers ?? [])})");
    }

    internal async Task<V1Node> ExpectNodeHeldAsync(V1Node node)
    {
        var found = await Env.SettledAsync<V1Node>(node.Metadata.Name);
        Assert.True(found is not null, $"node {node.Metadata.Name} is gone");
        Assert.NotNull(found.Metadata.DeletionTimestamp);
        return found;
    }
}
