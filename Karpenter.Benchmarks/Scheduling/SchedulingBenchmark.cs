using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;
using Karpenter.Core.Scheduling.Bounds;

namespace Karpenter.Benchmarks.Scheduling;

/// <summary>
/// <c>scheduling</c>: upstream Karpenter's scheduling benchmark (400 synthetic instance types, the five-way diverse
/// pod mix, seed 42, one NodePool with 10,000,000 CPU / 10,000,000Gi limits) and the same sizes on the real EC2
/// catalog with a plain (generic pods only) and a mixed (five-way) workload. Times one <see cref="Scheduler.Solve"/>
/// per run, pod conversion included; reports the median of the runs.
/// </summary>
internal static class SchedulingBenchmark
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
    private static readonly int[] DefaultSizes = [1, 50, 100, 500, 1000, 2000, 5000, 10000, 20000];

    public static Task<int> RunAsync(string[] args)
    {
        var json = args.Contains("--json");
        var profile = args.Contains("--profile");
        var sizes = Option(args, "--pods") is { } p ? [.. p.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] : DefaultSizes;
        var catalog = Option(args, "--catalog") ?? "all";
        var runs = Option(args, "--runs") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : 3;
        if (catalog is not ("synthetic" or "aws" or "all") || runs < 1 || sizes.Any(s => s < 1))
        {
            Console.Error.WriteLine("usage: scheduling [--json] [--profile] [--pods 1,50,...] [--catalog synthetic|aws|all] [--runs N]");
            return Task.FromResult(2);
        }

        var rows = new List<Row>();
        if (catalog is "synthetic" or "all")
        {
            var types = FakeInstanceTypes.Synthetic(400);
            foreach (var size in sizes)
            {
                rows.Add(Measure("synthetic-400", "diverse", types, new Workloads().Diverse(size), runs, profile, json, size == sizes[0]));
            }
        }

        if (catalog is "aws" or "all")
        {
            var path = AwsCatalog.FindDataFile();
            if (path is null)
            {
                Console.Error.WriteLine("skipping the real catalog: ../shared/data/aws/instance-types.json was not found next to the repository");
            }
            else
            {
                var types = AwsCatalog.Load(path);
                foreach (var workload in new[] { "plain", "mixed" })
                {
                    foreach (var size in sizes)
                    {
                        var pods = workload == "plain" ? new Workloads().Generic(size) : new Workloads().Diverse(size);
                        rows.Add(Measure("aws-ec2", workload, types, pods, runs, profile, json, size == sizes[0]));
                    }
                }
            }
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(rows, JsonOptions));
        }
        else
        {
            var totalPods = rows.Where(x => x.Catalog == "synthetic-400").Sum(x => x.Pods);
            var totalMs = rows.Where(x => x.Catalog == "synthetic-400").Sum(x => x.Milliseconds);
            var totalCpu = rows.Where(x => x.Catalog == "synthetic-400").Sum(x => x.CpuMilliseconds);
            if (totalMs > 0)
            {
                Console.WriteLine($"\nsynthetic-400 total: {totalPods} pods in {totalMs:F0} ms wall = {totalPods / (totalMs / 1000):F0} pods/s ({totalCpu:F0} ms of CPU)");
            }
        }

        return Task.FromResult(0);
    }

    private static Row Measure(string catalog, string workload, IReadOnlyList<InstanceType> types, List<V1Pod> pods, int runs, bool profile, bool json, bool first)
    {
        var pool = new SchedulingNodePool
        {
            Name = "default",
            InstanceTypes = types,
            // Upstream's benchmark NodePool; the real catalog runs without limits, since reserving the largest type per
            // NodeClaim (32 TiB u7in) would exhaust even 10,000,000Gi after about 300 NodeClaims.
            Limits = catalog == "synthetic-400" ? new Resources(10_000_000L * 1000, 10_000_000L << 30) : null,
        };
        var input = new SchedulingInput { Pods = pods, NodePools = [pool] };
        var scheduler = new Scheduler();

        // Warm up the JIT on a small batch of the same kind.
        scheduler.Solve(new SchedulingInput { Pods = pods.Take(Math.Min(200, pods.Count)).ToList(), NodePools = [pool] });

        var times = new List<double>();
        var cpuTimes = new List<double>();
        using var process = Process.GetCurrentProcess();
        var phases = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        SchedulingResult? result = null;
        for (var i = 0; i < runs; i++)
        {
            GC.Collect();
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            result = scheduler.Solve(input);
            sw.Stop();
            process.Refresh();
            times.Add(sw.Elapsed.TotalMilliseconds);
            cpuTimes.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
            foreach (var (phase, ms) in result.Phases)
            {
                (phases.TryGetValue(phase, out var list) ? list : phases[phase] = []).Add(ms);
            }
        }

        var peak = process.PeakWorkingSet64 / (1024.0 * 1024.0);
        var boundTimer = Stopwatch.StartNew();
        var bound = CostLowerBound.Compute(pods, [pool]);
        var boundMs = boundTimer.Elapsed.TotalMilliseconds;
        var ms2 = Median(times);
        var price = (double)result!.Price;
        var row = new Row(catalog, workload, pods.Count, types.Count, result.NewNodeClaims.Count, result.PodErrors.Count, ms2, Median(cpuTimes), pods.Count / (ms2 / 1000),
            price, (double)result.GreedyPrice, bound.Lp, bound.Lp > 0 ? price / bound.Lp : double.NaN,
            bound.Configuration, bound.Configuration > 0 ? price / bound.Configuration : double.NaN, boundMs, peak,
            phases.ToDictionary(kv => kv.Key, kv => Median(kv.Value)));
        if (!json)
        {
            if (first)
            {
                Console.WriteLine($"\n== {catalog} / {workload} ({types.Count} instance types, median of {runs} runs)");
                Console.WriteLine($"{"pods",7} {"types",6} {"nodes",6} {"unsched",7} {"ms",9} {"cpu ms",9} {"pods/s",9} {"cost/h",11} {"greedy/h",11} {"LP bound",11} {"cost/LB",8} {"config LB",11} {"cost/CB",8} {"CB ms",7} {"peak WS MB",10}");
            }

            Console.WriteLine(
                $"{row.Pods,7} {row.InstanceTypes,6} {row.Nodes,6} {row.Unschedulable,7} {row.Milliseconds,9:F1} {row.CpuMilliseconds,9:F1} {row.PodsPerSecond,9:F0} {row.HourlyCost,11:F4} {row.GreedyHourlyCost,11:F4} {row.LowerBound,11:F4} {row.CostOverBound,8:F4} {row.ConfigurationBound,11:F4} {row.CostOverConfigurationBound,8:F4} {row.BoundMilliseconds,7:F0} {row.PeakWorkingSetMb,10:F0}");
            if (profile)
            {
                var claims = result.NewNodeClaims;
                double usedCpu = claims.Sum(c => (double)c.Requests.CpuMilli), allocCpu = claims.Sum(c => (double)c.InstanceTypes[0].Allocatable.CpuMilli);
                double usedMem = claims.Sum(c => (double)c.Requests.Memory), allocMem = claims.Sum(c => (double)c.InstanceTypes[0].Allocatable.Memory);
                Console.WriteLine($"        fill of the cheapest types: cpu {usedCpu / allocCpu:P1}, memory {usedMem / allocMem:P1}; vCPU per node {allocCpu / 1000 / Math.Max(1, claims.Count):F1}");
                Console.WriteLine("        phases (ms): " + string.Join("  ", row.Phases.Select(kv => $"{kv.Key} {kv.Value:F1}")));
                var spend = claims.GroupBy(c => c.InstanceTypes[0]).OrderByDescending(g => g.Sum(c => c.Price)).Take(6).Select(g =>
                    $"{g.Key.Name} x{g.Count()} ${g.Sum(c => c.Price):F2} (fill cpu {g.Sum(c => (double)c.Requests.CpuMilli) / (g.Count() * (double)g.Key.Allocatable.CpuMilli):P0}, " +
                    $"mem {g.Sum(c => (double)c.Requests.Memory) / (g.Count() * (double)g.Key.Allocatable.Memory):P0})");
                Console.WriteLine("        plan spend: " + string.Join("; ", spend));
                Console.WriteLine("        LP spend:   " + string.Join("; ", bound.Solution.Take(6).Select(s => $"{s.InstanceType} x{s.Nodes:F1} ${s.Nodes * s.Price:F2}")));
                Console.WriteLine($"        configuration LP: bound {bound.Configuration:F4}, master {bound.ConfigurationMaster:F4}, {bound.ConfigurationStatus}");
            }
        }

        return row;
    }


    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed record Row(
        string Catalog, string Workload, int Pods, int InstanceTypes, int Nodes, int Unschedulable, double Milliseconds, double CpuMilliseconds, double PodsPerSecond,
        double HourlyCost, double GreedyHourlyCost, double LowerBound, double CostOverBound, double ConfigurationBound, double CostOverConfigurationBound,
        double BoundMilliseconds, double PeakWorkingSetMb, IReadOnlyDictionary<string, double> Phases);
}
