using k8s.Models;

namespace Karpenter.Benchmarks.Scheduling;

/// <summary>
/// The pod mixes of upstream's scheduling benchmark (<c>scheduling_benchmark_test.go</c>): generic pods, zone spread,
/// hostname spread, zonal self-affinity and hostname anti-affinity in five equal parts, requests drawn from
/// {100, 250, 500, 1000, 1500}m CPU and {100, 256, 512, 1024, 2048, 4096}Mi memory, seed 42. The draws follow
/// upstream's order (labels, selector, CPU, memory per pod) but come from .NET's seeded generator, not Go's, so the
/// individual values differ while the distributions are the same.
/// </summary>
internal sealed class Workloads(int seed = 42)
{
    private static readonly int[] Cpus = [100, 250, 500, 1000, 1500];
    private static readonly int[] Memories = [100, 256, 512, 1024, 2048, 4096];
    private static readonly string[] LabelValues = ["a", "b", "c", "d", "e", "f", "g"];
    private readonly Random _random = new(seed);
    private int _serial;

    public List<V1Pod> Diverse(int count)
    {
        var n = count / 5;
        var pods = new List<V1Pod>(count);
        pods.AddRange(Generic(n));
        pods.AddRange(Spread(n, "topology.kubernetes.io/zone"));
        pods.AddRange(Spread(n, "kubernetes.io/hostname"));
        pods.AddRange(SelfAffinity(n, "topology.kubernetes.io/zone"));
        pods.AddRange(AntiAffinity(n, "kubernetes.io/hostname"));
        pods.AddRange(Generic(count - pods.Count));
        return pods;
    }

    public List<V1Pod> Generic(int count)
    {
        var pods = new List<V1Pod>(count);
        for (var i = 0; i < count; i++)
        {
            pods.Add(Pod(new Dictionary<string, string> { ["my-label"] = Value() }, null));
        }

        return pods;
    }

    private IEnumerable<V1Pod> Spread(int count, string key)
    {
        for (var i = 0; i < count; i++)
        {
            var labels = new Dictionary<string, string> { ["my-label"] = Value() };
            var selector = new Dictionary<string, string> { ["my-label"] = Value() };
            var pod = Pod(labels, null);
            pod.Spec.TopologySpreadConstraints =
            [
                new V1TopologySpreadConstraint { MaxSkew = 1, TopologyKey = key, WhenUnsatisfiable = "DoNotSchedule", LabelSelector = new V1LabelSelector { MatchLabels = selector } },
            ];
            yield return pod;
        }
    }

    private IEnumerable<V1Pod> SelfAffinity(int count, string key)
    {
        for (var i = 0; i < count; i++)
        {
            var labels = new Dictionary<string, string> { ["my-affininity"] = Value() };
            yield return Pod(labels, new V1Affinity
            {
                PodAffinity = new V1PodAffinity
                {
                    RequiredDuringSchedulingIgnoredDuringExecution = [new V1PodAffinityTerm { TopologyKey = key, LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string>(labels) } }],
                },
            });
        }
    }

    private IEnumerable<V1Pod> AntiAffinity(int count, string key)
    {
        for (var i = 0; i < count; i++)
        {
            var labels = new Dictionary<string, string> { ["app"] = "nginx" };
            yield return Pod(labels, new V1Affinity
            {
                PodAntiAffinity = new V1PodAntiAffinity
                {
                    RequiredDuringSchedulingIgnoredDuringExecution = [new V1PodAffinityTerm { TopologyKey = key, LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string>(labels) } }],
                },
            });
        }
    }

    private string Value() => LabelValues[_random.Next(LabelValues.Length)];

    private V1Pod Pod(Dictionary<string, string> labels, V1Affinity? affinity)
    {
        var cpu = Cpus[_random.Next(Cpus.Length)];
        var memory = Memories[_random.Next(Memories.Length)];
        var serial = _serial++;
        return new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"pod-{serial:D6}",
                NamespaceProperty = "default",
                Uid = $"00000000-0000-0000-0000-{serial:D12}",
                Labels = labels,
            },
            Spec = new V1PodSpec
            {
                Affinity = affinity,
                Containers =
                [
                    new V1Container
                    {
                        Name = "app",
                        Image = "public.ecr.aws/eks-distro/kubernetes/pause:3.2",
                        Resources = new V1ResourceRequirements
                        {
                            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new($"{cpu}m"), ["memory"] = new($"{memory}Mi") },
                        },
                    },
                ],
            },
        };
    }
}
