using Karpenter.Benchmarks.Disruption;
using Karpenter.Benchmarks.KubeApi;
using Karpenter.Benchmarks.Scheduling;

// Benchmarks are programs that print figures. Each verb is one entry of this table; add yours here.
var verbs = new Dictionary<string, (string Help, Func<string[], Task<int>> Run)>(StringComparer.Ordinal)
{
    ["consolidation"] = ("consolidation after a scale-down on the EC2 catalog: ours, upstream-style, naive one-at-a-time (--nodes 100,1000,5000, --runs N, --json, --cap-seconds 60, --policies ours,upstream,naive)", DisruptionBenchmark.ConsolidationAsync),
    ["disruption"] = ("multi-node consolidation of an under-used synthetic cluster, ours vs upstream's prefix search (--nodes 50,200, --fill 0.35, --runs N, --json)", DisruptionBenchmark.RunAsync),
    ["kubeapi"] = ("in-memory API server: create, LIST and WATCH fan-out at 50,000 pods / 5,000 nodes (--pods, --nodes, --watchers, --changes, --concurrency)", KubeApiBenchmark.RunAsync),
    ["scheduling"] = ("upstream's scheduling benchmark plus real-catalog workloads (--json, --pods 1,50,..., --catalog synthetic|aws|all, --runs N, --profile)", SchedulingBenchmark.RunAsync),
};

// `all` (what `make bench` runs): every benchmark on its defaults, one after the other; the exit code is the worst.
if (args is ["all"])
{
    var worst = 0;
    foreach (var (name, (_, run)) in verbs)
    {
        Console.WriteLine($"== {name}");
        worst = Math.Max(worst, await run([]));
    }

    return worst;
}

if (args.Length == 0 || !verbs.TryGetValue(args[0], out var verb))
{
    Console.Error.WriteLine(args.Length == 0 ? "karpenter-bench: name a benchmark, or all." : $"karpenter-bench: unknown benchmark '{args[0]}'.");
    foreach (var (name, (help, _)) in verbs)
    {
        Console.Error.WriteLine($"  {name,-12} {help}");
    }

    return 2;
}

return await verb.Run(args[1..]);
