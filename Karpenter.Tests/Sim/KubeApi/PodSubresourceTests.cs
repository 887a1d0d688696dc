using k8s;
using k8s.Models;
using Karpenter.Tests.Support;
using static Karpenter.Tests.Sim.KubeApi.KubeApiExpectations;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>Pods: defaulting, graceful deletion, the binding and eviction subresources, PDB-aware evictions.</summary>
public sealed class PodSubresourceTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>
{
    private IKubernetes Client => api.Client;

    [Fact]
    public async Task Pods_get_defaults_and_the_default_tolerations()
    {
        var ns = await api.CreateNamespaceAsync();
        var pod = await Client.CoreV1.CreateNamespacedPodAsync(Pod("d"), ns);

        Assert.Equal(30, pod.Spec.TerminationGracePeriodSeconds);
        Assert.Equal("default-scheduler", pod.Spec.SchedulerName);
        Assert.Equal("IfNotPresent", pod.Spec.Containers[0].ImagePullPolicy);
        Assert.Equal(0, pod.Spec.Priority);
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == "node.kubernetes.io/not-ready" && t.TolerationSeconds == 300);
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == "node.kubernetes.io/unreachable" && t.TolerationSeconds == 300);
    }

    [Fact]
    public async Task Binding_sets_the_node_once()
    {
        var ns = await api.CreateNamespaceAsync();
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("b"), ns);
        var binding = new V1Binding { Metadata = new V1ObjectMeta { Name = "b", NamespaceProperty = ns }, Target = new V1ObjectReference { Kind = "Node", Name = "n1" } };

        await Client.CoreV1.CreateNamespacedPodBindingAsync(binding, "b", ns);
        var bound = await Client.CoreV1.ReadNamespacedPodAsync("b", ns);
        Assert.Equal("n1", bound.Spec.NodeName);
        Assert.Contains(bound.Status.Conditions, c => c.Type == "PodScheduled" && c.Status == "True");

        var again = await ExpectStatusAsync(409, "Conflict", () => Client.CoreV1.CreateNamespacedPodBindingAsync(binding, "b", ns));
        Assert.Equal("Operation cannot be fulfilled on pods/binding \"b\": pod b is already assigned to node \"n1\"", again.Message);
    }

    [Fact]
    public async Task Spec_node_name_cannot_be_changed_by_update()
    {
        var ns = await api.CreateNamespaceAsync();
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("u"), ns);
        var status = await ExpectStatusAsync(422, "Invalid", () => Client.CoreV1.PatchNamespacedPodAsync(
            new V1Patch("{\"spec\":{\"nodeName\":\"n1\"}}", V1Patch.PatchType.MergePatch), "u", ns));
        Assert.Contains("spec: Forbidden: pod updates may not change fields other than", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scheduled_pods_are_deleted_gracefully_and_unscheduled_ones_at_once()
    {
        var ns = await api.CreateNamespaceAsync();
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("loose"), ns);
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("bound", nodeName: "n1"), ns);

        await Client.CoreV1.DeleteNamespacedPodAsync("loose", ns);
        await ExpectStatusAsync(404, "NotFound", () => Client.CoreV1.ReadNamespacedPodAsync("loose", ns));

        var terminating = await Client.CoreV1.DeleteNamespacedPodAsync("bound", ns);
        Assert.Equal(30, terminating.Metadata.DeletionGracePeriodSeconds);
        Assert.Equal(api.Clock.GetUtcNow().UtcDateTime.AddSeconds(30).Ticks / TimeSpan.TicksPerSecond, terminating.Metadata.DeletionTimestamp!.Value.Ticks / TimeSpan.TicksPerSecond);

        // The kubelet finishes with a zero grace period.
        await Client.CoreV1.DeleteNamespacedPodAsync("bound", ns, gracePeriodSeconds: 0);
        await ExpectStatusAsync(404, "NotFound", () => Client.CoreV1.ReadNamespacedPodAsync("bound", ns));
    }

    private async Task<string> RunningPodsWithBudgetAsync(int disruptionsAllowed, long observedGeneration = 1)
    {
        var ns = await api.CreateNamespaceAsync();
        foreach (var name in new[] { "e1", "e2" })
        {
            await Client.CoreV1.CreateNamespacedPodAsync(Pod(name, labels: new Dictionary<string, string> { ["app"] = "web" }, nodeName: "n1"), ns);
            await Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(
                "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}", V1Patch.PatchType.MergePatch), name, ns);
        }

        await Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } } },
        }, ns);
        await Client.PolicyV1.PatchNamespacedPodDisruptionBudgetStatusAsync(new V1Patch(
            $"{{\"status\":{{\"observedGeneration\":{observedGeneration},\"disruptionsAllowed\":{disruptionsAllowed},\"currentHealthy\":2,\"desiredHealthy\":1,\"expectedPods\":2}}}}",
            V1Patch.PatchType.MergePatch), "web", ns);
        return ns;
    }

    private static V1Eviction Eviction(string name, string ns) => new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns } };

    [Fact]
    public async Task Eviction_consumes_the_budget_then_is_refused_with_429_and_the_real_message()
    {
        var ns = await RunningPodsWithBudgetAsync(disruptionsAllowed: 1);

        await Client.CoreV1.CreateNamespacedPodEvictionAsync(Eviction("e1", ns), "e1", ns);
        var evicted = await Client.CoreV1.ReadNamespacedPodAsync("e1", ns);
        Assert.NotNull(evicted.Metadata.DeletionTimestamp);
        var pdb = await Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("web", ns);
        Assert.Equal(0, pdb.Status.DisruptionsAllowed);
        Assert.True(pdb.Status.DisruptedPods.ContainsKey("e1"));

        var refused = await ExpectStatusAsync(429, "TooManyRequests", () => Client.CoreV1.CreateNamespacedPodEvictionAsync(Eviction("e2", ns), "e2", ns));
        Assert.Equal("Cannot evict pod as it would violate the pod's disruption budget.", refused.Message);
        Assert.Equal("DisruptionBudget", refused.Details.Causes[0].Reason);
        Assert.Equal("The disruption budget web needs 1 healthy pods and has 2 currently", refused.Details.Causes[0].Message);
    }

    [Fact]
    public async Task Eviction_waits_for_the_disruption_controller_to_observe_the_budget()
    {
        var ns = await RunningPodsWithBudgetAsync(disruptionsAllowed: 1, observedGeneration: 0);
        var refused = await ExpectStatusAsync(429, "TooManyRequests", () => Client.CoreV1.CreateNamespacedPodEvictionAsync(Eviction("e1", ns), "e1", ns));
        Assert.Equal("The disruption budget web is still being processed by the server.", refused.Details.Causes[0].Message);
    }

    [Fact]
    public async Task Pending_pods_are_evicted_without_consulting_the_budget()
    {
        var ns = await RunningPodsWithBudgetAsync(disruptionsAllowed: 0);
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("pending", labels: new Dictionary<string, string> { ["app"] = "web" }), ns);

        await Client.CoreV1.CreateNamespacedPodEvictionAsync(Eviction("pending", ns), "pending", ns);

        await ExpectStatusAsync(404, "NotFound", () => Client.CoreV1.ReadNamespacedPodAsync("pending", ns));
    }

    [Fact]
    public async Task A_pod_under_two_budgets_cannot_be_evicted()
    {
        var ns = await RunningPodsWithBudgetAsync(disruptionsAllowed: 1);
        await Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "web2" },
            Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } } },
        }, ns);

        var status = await ExpectStatusAsync(500, "InternalError", () => Client.CoreV1.CreateNamespacedPodEvictionAsync(Eviction("e1", ns), "e1", ns));
        Assert.Equal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.", status.Message);
    }
}
