using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Disruption;
using Karpenter.Core.Scheduling;
using Karpenter.Core.Scheduling.Bounds;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Benchmarks.Disruption;

/// <summary>Which consolidation policy a run follows.</summary>
internal enum ConsolidationPolicyKind
{
    /// <summary>Upstream: emptiness, multi-node by binary search over a prefix of at most 100 candidates, single-node.</summary>
    Upstream,

    /// <summary>Ours: emptiness, multi-node with the packing search over every candidate, single-node.</summary>
    Ours,

    /// <summary>Naive one-at-a-time: emptiness, then single-node consolidation only.</summary>
    Naive,
}

/// <summary>
/// Consolidation of an under-used cluster, policy against policy. Every policy runs the same loop on the same cluster:
/// each pass asks the methods in order (emptiness, multi-node consolidation unless naive, single-node) for a command,
/// applies it to an in-memory cluster (pods moved where the simulation put them, a replacement becomes a node of its
/// cheapest type), until no method finds anything. All use our scheduler for the simulations, the same candidates and
/// rules. Budgets are 100 % so that the search, not the budget, limits a command. Printed per size and policy: passes
/// (convergence rounds), nodes removed and replacements created, pods moved, hourly cost before and after against the
/// LP lower bound of the pods, and the wall time spent deciding (per pass and in total).
/// <list type="bullet">
/// <item><c>disruption</c>: the synthetic 32-type catalog, pods filling each node to ~35 %, upstream against ours.</item>
/// <item><c>consolidation</c>: after a scale-down, on the real EC2 catalog (c/m/r families, large to 16xlarge, three
/// zones): nodes of a random mix of types filled by 40 deployments of varied shapes to 75–95 %, then every deployment
/// scaled down to 20–70 % of its replicas; upstream, ours and naive.</item>
/// </list>
/// </summary>
internal static class DisruptionBenchmark
{
    public static Task<int> RunAsync(string[] args) => Report(args, realistic: false, "50,200", [ConsolidationPolicyKind.Upstream, ConsolidationPolicyKind.Ours]);

    public static Task<int> ConsolidationAsync(string[] args) =>
        Report(args, realistic: true, "100,1000,5000", [ConsolidationPolicyKind.Ours, ConsolidationPolicyKind.Upstream, ConsolidationPolicyKind.Naive]);

    private static Task<int> Report(string[] args, bool realistic, string defaultSizes, ConsolidationPolicyKind[] policies)
    {
        var sizes = Option(args, "--nodes", defaultSizes).Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var runs = int.Parse(Option(args, "--runs", "1"), CultureInfo.InvariantCulture);
        var fill = double.Parse(Option(args, "--fill", "0.35"), CultureInfo.InvariantCulture);
        var cap = TimeSpan.FromSeconds(double.Parse(Option(args, "--cap-seconds", "60"), CultureInfo.InvariantCulture));
        var json = args.Contains("--json");
        Trace = args.Contains("--trace");
        var chosen = Option(args, "--policies", string.Join(',', policies)).Split(',').Select(p => Enum.Parse<ConsolidationPolicyKind>(p, ignoreCase: true)).ToList();
        var catalog = realistic ? RealisticCatalog() : null;
        var label = catalog is null
            ? $"synthetic 32-type catalog, pods fill each node to ~{fill:P0} on average"
            : $"after a scale-down, {catalog.Count} EC2 types (c/m/r, large to 16xlarge, 3 zones), 40 deployments filled to 75-95 % then scaled to 20-70 %";
        if (!json)
        {
            Console.WriteLine($"consolidation: {label}, seed 7, budgets 100 %, each policy's loop capped at {cap.TotalSeconds:0} s wall-clock (median of {runs} run(s))");
            Console.WriteLine($"{"nodes",6} {"policy",-9} {"passes",6} {"removed",8} {"replaced",8} {"moved",7} {"$/h before",11} {"$/h after",10} {"LP bound",9} {"after/LB",8} {"ms/pass",9} {"total ms",9} {"sims",6} {"to<=1.1LB",10}  note");
        }

        // Warm-up (JIT, caches) on a small cluster, so that the policy measured first does not pay for it.
        foreach (var policy in chosen)
        {
            Run(20, fill, catalog, policy, cap);
        }

        var rows = new List<Result>();
        foreach (var n in sizes)
        {
            foreach (var policy in chosen)
            {
                var results = Enumerable.Range(0, runs).Select(_ => Run(n, fill, catalog, policy, cap)).OrderBy(r => r.DecideMs).ToList();
                var r = results[results.Count / 2];
                rows.Add(r);
                if (!json)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{r.Nodes,6} {r.Policy,-9} {r.Passes,6} {r.Removed,8} {r.Replaced,8} {r.Moved,7} {r.Before,11:0.00} {r.After,10:0.00} {r.Bound,9:0.00} {r.AfterOverBound,8:0.000} {r.MsPerPass,9:0.0} {r.DecideMs,9:0} {r.Simulations,6} {(r.PassesTo110 is { } p ? $"{p}p/{r.MsTo110 / 1000:0.0}s" : "never"),10}  {(r.Capped ? "capped: not converged" : "converged")}"));
                }
            }
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(rows, JsonOptions));
        }

        return Task.FromResult(0);
    }

    /// <summary>Prints every command decided to stderr (--trace).</summary>
    private static bool Trace { get; set; }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    internal sealed record Result(int Nodes, string Policy, int Passes, int Removed, int Replaced, int Moved, decimal Before, decimal After, double Bound, double DecideMs, int Simulations, bool Capped)
    {
        public double AfterOverBound => (double)After / Math.Max(Bound, 1e-9);

        public double MsPerPass => DecideMs / Math.Max(1, Passes);

        /// <summary>Passes until the cost was first within 10 % of the LP bound (null: never).</summary>
        public int? PassesTo110 { get; init; }

        /// <summary>Deciding time spent until then.</summary>
        public double? MsTo110 { get; init; }
    }

    private sealed class SimNode(string name, InstanceType type, string zone)
    {
        public string Name { get; } = name;

        public InstanceType Type { get; } = type;

        public string Zone { get; } = zone;

        public List<V1Pod> Pods { get; } = [];

        public decimal Price => Type.Offerings.First(o => o.CapacityType == CapacityTypes.OnDemand && o.Zone == Zone).Price;
    }

    /// <summary>The real EC2 catalog restricted to a typical general-purpose NodePool, or null (synthetic) when the data is absent.</summary>
    private static List<InstanceType>? RealisticCatalog()
    {
        var path = AwsCatalog.FindDataFile();
        if (path is null)
        {
            Console.Error.WriteLine("consolidation: ../shared/data/aws/instance-types.json was not found next to the repository; using the synthetic catalog");
            return null;
        }

        string[] families = ["c5", "m5", "r5", "c6i", "m6i", "r6i", "c6a", "m6a", "r6a", "c7i", "m7i", "r7i"];
        string[] sizes = ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"];
        return [.. AwsCatalog.Load(path).Where(t => t.Name.Split('.') is [var family, var size] && families.Contains(family) && sizes.Contains(size)).OrderBy(t => t.Name, StringComparer.Ordinal)];
    }

    private static Result Run(int count, double fill, List<InstanceType>? catalog, ConsolidationPolicyKind policy, TimeSpan cap)
    {
        var random = new Random(7);
        List<InstanceType> types;
        List<SimNode> nodes;
        if (catalog is null)
        {
            types = [.. FakeInstanceTypes.Synthetic(32).Select(t => FakeInstanceTypes.Create(t.Name, t.Capacity, offerings:
                [new Offering(FakeInstanceTypes.Zones[0], CapacityTypes.OnDemand, FakeInstanceTypes.PriceFromResources(t.Capacity))]))];
            nodes = Synthetic(count, fill, types, random);
        }
        else
        {
            types = catalog;
            nodes = AfterScaleDown(count, types, random);
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
        var options = new DisruptionOptions { MultiNodeSearch = policy == ConsolidationPolicyKind.Upstream ? MultiNodeSearch.PrefixBinarySearch : MultiNodeSearch.Packing };
        var consolidator = new Consolidator(new Scheduler(), TimeProvider.System, options);
        int passes = 0, removed = 0, created = 0, moved = 0, simulations = 0;
        (int Passes, double Ms)? within10 = (double)before <= bound * 1.10 ? (0, 0) : null;
        var capped = false;
        var decide = TimeSpan.Zero;
        var wall = Stopwatch.StartNew();
        var byName = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        while (true)
        {
            var left = cap - wall.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                capped = true;
                break;
            }

            // The cap bounds each method's own safety net too, so a pass cannot overrun it by much.
            options.MultiNodeTimeout = left < options.MultiNodeTimeout ? left : options.MultiNodeTimeout;
            options.SingleNodeTimeout = left < options.SingleNodeTimeout ? left : options.SingleNodeTimeout;
            var snapshot = Snapshot(nodes, pool, schedulingPool, types);
            var candidates = Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates;
            var watch = Stopwatch.StartNew();
            var command = Consolidator.Emptiness(snapshot, candidates);
            if (command is null && policy != ConsolidationPolicyKind.Naive)
            {
                command = consolidator.MultiNode(snapshot, candidates, CancellationToken.None);
                simulations += consolidator.Simulations;
            }

            if (command is null)
            {
                command = consolidator.SingleNode(snapshot, candidates, CancellationToken.None).Command;
                simulations += consolidator.Simulations;
                capped |= command is null && consolidator.TimedOut;
            }

            decide += watch.Elapsed;
            passes++;
            if (command is null)
            {
                break;
            }

            // Where the pods go: the same simulation the decision made.
            var result = command.Simulation ?? consolidator.Simulate(snapshot, command.Candidates, command.Replacements.Count, CancellationToken.None);
            var gone = command.Candidates.Select(c => c.NodeName).ToHashSet(StringComparer.Ordinal);
            nodes.RemoveAll(n => gone.Contains(n.Name));
            foreach (var placement in result.ExistingNodes)
            {
                byName[placement.Node.Name].Pods.AddRange(placement.Pods);
            }

            foreach (var (planned, replacement) in result.NewNodeClaims.Zip(command.Replacements))
            {
                var type = replacement.InstanceTypes[0];
                var zones = replacement.Requirements.Get(Labels.TopologyZone);
                var zone = type.Offerings.Where(o => o.CapacityType == CapacityTypes.OnDemand && zones.Has(o.Zone)).OrderBy(o => o.Price).ThenBy(o => o.Zone, StringComparer.Ordinal).First().Zone;
                var node = new SimNode($"node-r{created++}", type, zone);
                node.Pods.AddRange(planned.Pods);
                nodes.Add(node);
                byName[node.Name] = node;
            }

            removed += command.Candidates.Count;
            moved += command.PodsMoved;
            if (within10 is null && (double)nodes.Sum(n => n.Price) <= bound * 1.10)
            {
                within10 = (passes, decide.TotalMilliseconds);
            }

            if (Trace)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {policy} pass {passes}: {command.Method} {command.Decision} {command.Candidates.Count} node(s), {command.PriceBefore:0.###}/h -> {command.PriceAfter:0.###}/h, {command.PodsMoved} pods, {watch.Elapsed.TotalMilliseconds:0} ms, {consolidator.Simulations} sims, last plan {consolidator.LastPlan?.Order}:{consolidator.LastPlan?.Removed.Count}"));
            }
        }

        return new Result(count, policy.ToString().ToLowerInvariant(), passes, removed, created, moved, before, nodes.Sum(n => n.Price), bound, decide.TotalMilliseconds, simulations, capped)
        {
            PassesTo110 = within10?.Passes,
            MsTo110 = within10?.Ms,
        };
    }

    /// <summary>The original scenario: random mid-sized synthetic types, pods of 250m–2 cpu filling each node to about <paramref name="fill"/>.</summary>
    private static List<SimNode> Synthetic(int count, double fill, List<InstanceType> types, Random random)
    {
        var nodes = new List<SimNode>();
        var serial = 0;
        for (var i = 0; i < count; i++)
        {
            var type = types[random.Next(3, 16)];
            var node = new SimNode($"node-{i}", type, FakeInstanceTypes.Zones[0]);
            var budget = type.Allocatable.CpuMilli * fill * (0.3 + (1.4 * random.NextDouble()));
            while (budget > 250)
            {
                var cpu = (long)Math.Min(budget, 250 + (random.Next(8) * 250));
                budget -= cpu;
                node.Pods.Add(Pod($"p-{serial++}", cpu, cpu * 2 << 20, "synthetic"));
            }

            nodes.Add(node);
        }

        return nodes;
    }

    /// <summary>
    /// A cluster after a scale-down: nodes of a random mix of types (mostly xlarge to 4xlarge) in three zones, each filled
    /// to 75–95 % by pods of 40 deployments (cpu-heavy, balanced and memory-heavy shapes, 100m to 4 cpu), then each
    /// deployment scaled down to 20–70 % of its replicas (each replica kept with that probability).
    /// </summary>
    private static List<SimNode> AfterScaleDown(int count, List<InstanceType> types, Random random)
    {
        long[] cpus = [100, 250, 250, 500, 500, 1000, 1000, 2000, 4000];
        long[] gibPerCpu = [1, 2, 2, 4, 4, 8];
        var deployments = Enumerable.Range(0, 40).Select(d =>
        {
            var cpu = cpus[random.Next(cpus.Length)];
            return (Name: $"deploy-{d}", Cpu: cpu, Memory: Math.Max(128L << 20, cpu * gibPerCpu[random.Next(gibPerCpu.Length)] * (1L << 30) / 1000), Keep: 0.2 + (0.5 * random.NextDouble()));
        }).ToList();
        var weighted = types.Where(t => t.Name.EndsWith(".xlarge", StringComparison.Ordinal) || t.Name.EndsWith(".2xlarge", StringComparison.Ordinal) || t.Name.EndsWith(".4xlarge", StringComparison.Ordinal)).ToList();
        var nodes = new List<SimNode>();
        var serial = 0;
        for (var i = 0; i < count; i++)
        {
            var type = random.NextDouble() < 0.8 ? weighted[random.Next(weighted.Count)] : types[random.Next(types.Count)];
            var node = new SimNode($"node-{i}", type, AwsCatalog.Zones[random.Next(AwsCatalog.Zones.Count)]);
            var target = 0.75 + (0.2 * random.NextDouble());
            long cpu = 0, memory = 0;
            for (var attempt = 0; attempt < 40 && node.Pods.Count < type.Allocatable.Pods; attempt++)
            {
                var d = deployments[random.Next(deployments.Count)];
                if (cpu + d.Cpu > type.Allocatable.CpuMilli * target || memory + d.Memory > type.Allocatable.Memory * target)
                {
                    continue;
                }

                cpu += d.Cpu;
                memory += d.Memory;
                node.Pods.Add(Pod($"p-{serial++}", d.Cpu, d.Memory, d.Name));
            }

            nodes.Add(node);
        }

        foreach (var node in nodes)
        {
            node.Pods.RemoveAll(p => random.NextDouble() >= deployments.First(d => d.Name == p.Metadata.Labels["app"]).Keep);
        }

        return nodes;
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
                [Labels.TopologyZone] = n.Zone,
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

    private static V1Pod Pod(string name, long cpuMilli, long memory, string app) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = name, Labels = new Dictionary<string, string> { ["app"] = app } },
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
