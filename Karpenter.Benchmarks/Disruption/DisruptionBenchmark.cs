using System.Diagnostics;
using System.Globalization;
using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Disruption;
using Karpenter.Core.Scheduling;
using Karpenter.Core.Scheduling.Bounds;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Benchmarks.Disruption;

/// <summary>
/// Multi-node consolidation, ours against upstream's search, on a generated under-used cluster. Both strategies run
/// the same loop on the same cluster: each pass asks multi-node consolidation for a command (single-node consolidation
/// when it finds none), applies it to an in-memory cluster (pods moved where the simulation put them, a replacement
/// becomes a node of its cheapest type), until no method finds anything. Both use our scheduler for the simulations,
/// the same candidate order and the same rules; they differ only in the search: upstream's binary search for the
/// largest consolidatable prefix of at most 100 candidates, against ours (the same search over every candidate, then a
/// greedy pass adding each further candidate the set can still absorb). Budgets are 100 % so that the search, not
/// the budget, limits a command. Printed: commands, nodes removed and created, pods moved, hourly cost before and
/// after against the LP lower bound of the pods, and the wall time spent deciding (median of --runs).
/// </summary>
internal static class DisruptionBenchmark
{
    public static Task<int> RunAsync(string[] args)
    {
        var sizes = Option(args, "--nodes", "50,200").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var runs = int.Parse(Option(args, "--runs", "1"), CultureInfo.InvariantCulture);
        var fill = double.Parse(Option(args, "--fill", "0.35"), CultureInfo.InvariantCulture);
        Console.WriteLine("disruption: consolidation of an under-used cluster (synthetic 32-type catalog, pods fill each node to ~{0:P0} on average, seed 7)", fill);
        Console.WriteLine($"{"nodes",6} {"search",-22} {"commands",8} {"removed",8} {"created",8} {"moved",7} {"$/h before",11} {"$/h after",10} {"LP bound",9} {"after/LB",8} {"decide ms",10}");
        foreach (var n in sizes)
        {
            foreach (var search in new[] { MultiNodeSearch.PrefixBinarySearch, MultiNodeSearch.PrefixThenGreedy })
            {
                var results = Enumerable.Range(0, runs).Select(_ => Run(n, fill, search)).OrderBy(r => r.DecideMs).ToList();
                var r = results[results.Count / 2];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{n,6} {(search == MultiNodeSearch.PrefixBinarySearch ? "upstream prefix<=100" : "ours prefix+greedy"),-22} {r.Commands,8} {r.Removed,8} {r.Created,8} {r.Moved,7} {r.Before,11:0.00} {r.After,10:0.00} {r.Bound,9:0.00} {r.After / (decimal)Math.Max(r.Bound, 1e-9),8:0.000} {r.DecideMs,10:0}"));
            }
        }

        return Task.FromResult(0);
    }

    private sealed record Result(int Commands, int Removed, int Created, int Moved, decimal Before, decimal After, double Bound, double DecideMs);

    private sealed class SimNode(string name, InstanceType type)
    {
        public string Name { get; } = name;

        public InstanceType Type { get; } = type;

        public List<V1Pod> Pods { get; } = [];

        public decimal Price => Type.Offerings.First(o => o.CapacityType == CapacityTypes.OnDemand && o.Zone == FakeInstanceTypes.Zones[0]).Price;
    }

    private static Result Run(int count, double fill, MultiNodeSearch search)
    {
        var types = FakeInstanceTypes.Synthetic(32).Select(t => FakeInstanceTypes.Create(t.Name, t.Capacity, offerings:
            [new Offering(FakeInstanceTypes.Zones[0], CapacityTypes.OnDemand, FakeInstanceTypes.PriceFromResources(t.Capacity))])).ToList();
        var random = new Random(7);
        var nodes = new List<SimNode>();
        var serial = 0;
        for (var i = 0; i < count; i++)
        {
            var type = types[random.Next(3, 16)];
            var node = new SimNode($"node-{i}", type);
            var budget = type.Allocatable.CpuMilli * fill * (0.3 + (1.4 * random.NextDouble()));
            while (budget > 250)
            {
                var cpu = (long)Math.Min(budget, 250 + (random.Next(8) * 250));
                budget -= cpu;
                node.Pods.Add(Pod($"p-{serial++}", cpu, cpu * 2 << 20));
            }

            nodes.Add(node);
        }

        var pool = new NodePool
        {
            Metadata = new V1ObjectMeta { Name = "default", Uid = "default" },
            Spec = new NodePoolSpec { Disruption = new Karpenter.Entities.V1.Disruption { Budgets = [new Budget { Nodes = "100%" }], ConsolidationPolicy = ConsolidationPolicy.WhenEmptyOrUnderutilized } },
        };
        var schedulingPool = new SchedulingNodePool
        {
            Name = "default",
            InstanceTypes = types,
            Labels = new Dictionary<string, string> { [Labels.NodePool] = "default" },
            Requirements = new Requirements(Requirement.In(Labels.NodePool, "default"), Requirement.In(Labels.CapacityType, CapacityTypes.OnDemand)),
        };
        var before = nodes.Sum(n => n.Price);
        var bound = CostLowerBound.Compute([.. nodes.SelectMany(n => n.Pods)], [schedulingPool]).Lp;
        var consolidator = new Consolidator(new Scheduler(), TimeProvider.System, new DisruptionOptions { MultiNodeSearch = search });
        int commands = 0, removed = 0, created = 0, moved = 0;
        var decide = TimeSpan.Zero;
        while (true)
        {
            var snapshot = Snapshot(nodes, pool, schedulingPool, types);
            var candidates = Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates;
            var watch = Stopwatch.StartNew();
            var command = Consolidator.Emptiness(snapshot, candidates)
                ?? consolidator.MultiNode(snapshot, candidates, CancellationToken.None)
                ?? consolidator.SingleNode(snapshot, candidates, CancellationToken.None).Command;
            decide += watch.Elapsed;
            if (command is null)
            {
                break;
            }

            // Where the pods go: the same simulation the decision made.
            var result = consolidator.Simulate(snapshot, command.Candidates, command.Replacements.Count, CancellationToken.None);
            var gone = command.Candidates.Select(c => c.NodeName).ToHashSet(StringComparer.Ordinal);
            nodes.RemoveAll(n => gone.Contains(n.Name));
            foreach (var placement in result.ExistingNodes)
            {
                nodes.Single(n => n.Name == placement.Node.Name).Pods.AddRange(placement.Pods);
            }

            foreach (var (planned, replacement) in result.NewNodeClaims.Zip(command.Replacements))
            {
                var node = new SimNode($"node-r{created++}", replacement.InstanceTypes[0]);
                node.Pods.AddRange(planned.Pods);
                nodes.Add(node);
            }

            commands++;
            removed += command.Candidates.Count;
            moved += command.PodsMoved;
        }

        return new Result(commands, removed, created, moved, before, nodes.Sum(n => n.Price), bound, decide.TotalMilliseconds);
    }

    private static ClusterSnapshot Snapshot(List<SimNode> nodes, NodePool pool, SchedulingNodePool schedulingPool, IReadOnlyList<InstanceType> types)
    {
        var created = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var states = new List<StateNode>();
        var existing = new List<ExistingNode>();
        var bound = new List<BoundPod>();
        foreach (var n in nodes)
        {
            var labels = new Dictionary<string, string>
            {
                [Labels.NodePool] = "default",
                [Labels.InstanceType] = n.Type.Name,
                [Labels.CapacityType] = CapacityTypes.OnDemand,
                [Labels.TopologyZone] = FakeInstanceTypes.Zones[0],
                [Labels.Hostname] = n.Name,
                [Labels.NodeInitialized] = "true",
            };
            foreach (var pod in n.Pods)
            {
                pod.Spec.NodeName = n.Name;
                bound.Add(new BoundPod(pod, n.Name));
            }

            states.Add(new StateNode
            {
                NodeClaim = new NodeClaim
                {
                    Metadata = new V1ObjectMeta { Name = n.Name, Labels = labels, CreationTimestamp = created },
                    Spec = new NodeClaimSpec { ExpireAfter = "Never" },
                    Status = new NodeClaimStatus
                    {
                        NodeName = n.Name,
                        Conditions =
                        [
                            new V1Condition { Type = ConditionTypes.Initialized, Status = "True", Reason = "Initialized", LastTransitionTime = created },
                            new V1Condition { Type = ConditionTypes.Consolidatable, Status = "True", Reason = "Consolidatable", LastTransitionTime = created },
                        ],
                    },
                },
                Node = new V1Node { Metadata = new V1ObjectMeta { Name = n.Name, Labels = labels }, Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }] } },
                Pods = [.. n.Pods],
            });
            existing.Add(new ExistingNode
            {
                Name = n.Name,
                Requirements = Requirements.FromLabels(labels),
                Allocatable = n.Type.Allocatable,
                Requested = n.Pods.Aggregate(default(Resources), (sum, p) => sum + PodResources.Requests(p)),
                NodePoolName = "default",
            });
        }

        return new ClusterSnapshot
        {
            Now = new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero),
            Nodes = states,
            NodePools = new Dictionary<string, NodePool> { ["default"] = pool },
            InstanceTypes = new Dictionary<string, IReadOnlyList<InstanceType>> { ["default"] = types },
            SchedulingNodePools = [schedulingPool],
            ExistingNodes = existing,
            BoundPods = bound,
        };
    }

    private static V1Pod Pod(string name, long cpuMilli, long memory) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = name },
        Spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container
                {
                    Name = "app",
                    Resources = new V1ResourceRequirements
                    {
                        Requests = new Dictionary<string, ResourceQuantity>
                        {
                            ["cpu"] = new(string.Create(CultureInfo.InvariantCulture, $"{cpuMilli}m")),
                            ["memory"] = new(memory.ToString(CultureInfo.InvariantCulture)),
                        },
                    },
                },
            ],
        },
    };

    private static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
