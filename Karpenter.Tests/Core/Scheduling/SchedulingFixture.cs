using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;

namespace Karpenter.Tests.Core.Scheduling;

/// <summary>Builders and expectations shared by the scheduler's specifications.</summary>
internal static class SchedulingFixture
{
    public const string Zone = "topology.kubernetes.io/zone";
    public const string Hostname = "kubernetes.io/hostname";

    private static int _serial;

    public static V1Pod Pod(string cpu = "1", string memory = "1Gi", Dictionary<string, string>? labels = null, Action<V1PodSpec>? spec = null, string? name = null)
    {
        var n = Interlocked.Increment(ref _serial);
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name ?? $"pod-{n}", NamespaceProperty = "default", Uid = $"uid-{n:D8}", Labels = labels ?? [] },
            Spec = new V1PodSpec
            {
                Containers = [new V1Container { Name = "app", Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new(memory) } } }],
            },
        };
        spec?.Invoke(pod.Spec);
        return pod;
    }

    public static IReadOnlyList<InstanceType> Catalog(int count = 16) => FakeInstanceTypes.Synthetic(count);

    public static SchedulingNodePool Pool(string name = "default", IReadOnlyList<InstanceType>? types = null, int weight = 0, Requirements? requirements = null,
        IReadOnlyList<V1Taint>? taints = null, Resources? limits = null) => new()
        {
            Name = name,
            Weight = weight,
            InstanceTypes = types ?? Catalog(),
            Requirements = requirements ?? new Requirements(),
            Taints = taints ?? [],
            Limits = limits,
        };

    public static SchedulingResult Solve(IEnumerable<V1Pod> pods, params SchedulingNodePool[] pools) =>
        new Scheduler().Solve(new SchedulingInput { Pods = [.. pods], NodePools = pools.Length == 0 ? [Pool()] : pools });

    public static SchedulingResult Solve(SchedulingInput input) => new Scheduler().Solve(input);

    public static void ExpectAllScheduled(SchedulingResult result) =>
        Assert.True(result.PodErrors.Count == 0, string.Join("\n", result.PodErrors.Select(e => $"{e.Pod.Metadata.Name}: {e.Message}")));

    public static PodSchedulingError ExpectUnschedulable(SchedulingResult result, V1Pod pod) =>
        result.PodErrors.SingleOrDefault(e => ReferenceEquals(e.Pod, pod)) ?? throw new Xunit.Sdk.XunitException($"{pod.Metadata.Name} was scheduled");

    public static PlannedNodeClaim ExpectClaimFor(SchedulingResult result, V1Pod pod) =>
        result.NewNodeClaims.SingleOrDefault(c => c.Pods.Contains(pod)) ?? throw new Xunit.Sdk.XunitException($"{pod.Metadata.Name} is on no new NodeClaim");

    public static string? Single(PlannedNodeClaim claim, string key) =>
        claim.Requirements.Get(key) is { Complement: false, Values.Count: 1 } r ? r.Values[0] : null;

    public static V1PodAffinityTerm Term(string key, Dictionary<string, string> selector) =>
        new() { TopologyKey = key, LabelSelector = new V1LabelSelector { MatchLabels = selector } };

    public static V1NodeSelectorRequirement Expr(string key, string op, params string[] values) =>
        new() { Key = key, OperatorProperty = op, Values = values.Length == 0 ? null : values };
}
