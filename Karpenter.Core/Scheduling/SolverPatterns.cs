using Karpenter.Core.Scheduling.Bounds;

namespace Karpenter.Core.Scheduling;

/// <summary>
/// Pattern-guided packing: the batch's configuration LP (see <see cref="ConfigurationLp"/>; pods grouped by allowed
/// instance types, requests and hostname anti-affinity, node-fill patterns generated per NodePool) is solved within a
/// fixed work budget, and each pattern's node count is rounded down. That many NodeClaims are opened per pattern before
/// the greedy pass, each sized for the pattern's instance type and given the pattern's pods first; the pods a pattern
/// leaves over (the fractional parts) and any pod the normal checks refuse go through the greedy pass, which also fills
/// the pattern NodeClaims' slack. Whole pods per node is what the covering LP behind the LP-guided hints cannot see; the
/// patterns are combinations that fill small instance types exactly. Every placement goes through the same checks as
/// the greedy pass (<see cref="CanAdd"/>, limits, topology), so a pattern only orders the choices.
/// </summary>
internal sealed partial class Solver
{
    private const int MinPatternPods = 4;

    /// <summary>The configuration LP's work budget while scheduling (the bound's default is larger).</summary>
    private static readonly ConfigurationBudget PatternBudget = new() { MaxIterations = 60, TypesPerIteration = 12, KnapsackNodes = 400, MaxWork = 15_000_000 };

    /// <summary>Opens the pattern NodeClaims and places their pods; returns the pods left for the greedy pass, in order.</summary>
    private List<PodState> PlacePatterns(List<PodState> pods)
    {
        if (!_patterned || pods.Count < MinPatternPods)
        {
            return pods;
        }

        using var timeout = new CancellationTokenSource(_options.ImprovementBudget, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_cancellation, timeout.Token);
        foreach (var (template, list) in PodsByTemplate(pods))
        {
            if (list.Count >= MinPatternPods && !linked.IsCancellationRequested)
            {
                PlacePatterns(template, list, linked.Token);
            }
        }

        return [.. pods.Where(p => p.Bin is null)];
    }

    private void PlacePatterns(Template template, List<PodState> pods, CancellationToken cancellation)
    {
        // Groups: pods with the same allowed instance types, requests and exclusive (hostname anti-affinity) group.
        var groups = new Dictionary<(string Mask, Resources Requests, int Exclusive), (ulong[] Mask, List<PodState> Pods)>();
        foreach (var pod in pods)
        {
            if (pod.Requests.HasExtended || pod.Requests.EphemeralStorage > 0)
            {
                return; // the patterns model CPU, memory and pod slots only
            }

            if (Exclusive(pod.Shape) is not { } exclusive)
            {
                continue; // in a topology group: placed by the greedy pass, in the queue's order, as the checks assume
            }

            var mask = template.ForShape(pod.Shape).Mask;
            var key = (string.Join(",", mask), pod.Requests, exclusive);
            if (!groups.TryGetValue(key, out var group))
            {
                groups[key] = group = (mask, []);
            }

            group.Pods.Add(pod);
        }

        var groupList = groups.OrderBy(g => g.Key.Mask, StringComparer.Ordinal).ThenBy(g => g.Key.Requests.CpuMilli).ThenBy(g => g.Key.Requests.Memory)
            .ThenBy(g => g.Key.Exclusive).Select(g => (g.Value.Mask, g.Key.Requests, g.Key.Exclusive, g.Value.Pods)).ToList();
        var types = TypeHints.Columns(template, [.. groupList.Select(g => (g.Mask, g.Requests))]);
        if (types.Count == 0)
        {
            return;
        }

        var items = groupList.Select(g => new PatternItem([g.Requests.CpuMilli, g.Requests.Memory, g.Requests.Pods], g.Pods.Count, g.Exclusive)).ToList();
        var bins = types.Select(t => new PatternBin((double)template.Prices[t], [template.Avail[t].CpuMilli, template.Avail[t].Memory, template.Avail[t].Pods],
            [.. Enumerable.Range(0, groupList.Count).Where(g => (groupList[g].Mask[t >> 6] & (1UL << (t & 63))) != 0 && groupList[g].Requests.FitsIn(template.Avail[t]))])).ToList();
        var solution = ConfigurationLp.Solve(items, bins, PatternBudget, cancellation);

        // Whole copies of each pattern, the dearest instance types first (as first fit decreasing opens its largest).
        var next = new int[groupList.Count];
        var plan = new Plan();
        foreach (var pattern in solution.Patterns.OrderByDescending(p => bins[p.Bin].Price).ThenBy(p => types[p.Bin]).ThenBy(p => string.Join(",", p.Items.Zip(p.Counts))))
        {
            var type = types[pattern.Bin];
            for (var copy = 0; copy < (int)Math.Floor(pattern.Nodes + 1e-6); copy++)
            {
                var members = new List<PodState>();
                for (var k = 0; k < pattern.Items.Length; k++)
                {
                    var list = groupList[pattern.Items[k]].Pods;
                    for (var n = 0; n < pattern.Counts[k] && next[pattern.Items[k]] < list.Count; n++)
                    {
                        members.Add(list[next[pattern.Items[k]]++]);
                    }
                }

                if (members.Count == 0)
                {
                    break;
                }

                members.Sort(PodState.Order);
                if (template.TryNew(members[0], plan) is not null)
                {
                    continue;
                }

                var bin = template.Create(plan);
                Commit(bin, members[0], plan);
                if (plan.Mask is { } mask && (mask[type >> 6] & (1UL << (type & 63))) != 0 && bin.Used.FitsIn(template.Avail[type]))
                {
                    bin.Target = type != bin.Cur && !template.Avail[type].FitsIn(template.Avail[bin.Cur]) ? type : -1;
                    UpdateTree(bin);
                }

                foreach (var pod in members.Skip(1))
                {
                    if (CanAdd(bin, pod, plan) is null)
                    {
                        Commit(bin, pod, plan);
                    }
                }
            }
        }
    }

    /// <summary>
    /// A pod's exclusive set in a pattern: -1 for a pod no topology group owns or counts; its group's id for a pod whose
    /// only topology is required hostname anti-affinity among its own kind (one per node, which the pattern keeps);
    /// null for every other pod. A pattern places its pods before the greedy pass, out of the queue's order; a pod a
    /// topology group counts could then be counted against a pod the queue puts before it, so such pods are left to
    /// the greedy pass, which places them in the queue's order.
    /// </summary>
    private static int? Exclusive(Shape shape)
    {
        if (shape.Owned.Count == 0 && shape.SelectedBy.Count == 0 && shape.InverseSelecting.Count == 0 && shape.InverseOwned.Count == 0)
        {
            return -1;
        }

        if (shape.OpensNode && shape.Owned.Count == 1 && shape.SelectedBy.All(g => ReferenceEquals(g, shape.Owned[0].Group)) &&
            shape.InverseOwned.Count == 1 && shape.InverseSelecting.All(g => ReferenceEquals(g, shape.InverseOwned[0])))
        {
            return shape.Owned[0].Group.Id;
        }

        return null;
    }

    /// <summary>The pods each NodePool (the first by weight that could take them) would plan for, in the queue's order.</summary>
    private Dictionary<Template, List<PodState>> PodsByTemplate(List<PodState> pods)
    {
        var byTemplate = new Dictionary<Template, List<PodState>>();
        foreach (var pod in pods)
        {
            if (pod.Shape.RequirementError is not null || (pod.Shape.OpensNode && !_patterned))
            {
                continue;
            }

            foreach (var template in _templates)
            {
                var ts = template.ForShape(pod.Shape);
                if (ts.TaintError is null && ts.Mask.Any(w => w != 0))
                {
                    (byTemplate.TryGetValue(template, out var list) ? list : byTemplate[template] = []).Add(pod);
                    break;
                }
            }
        }

        return byTemplate;
    }
}
