using LpSolver = Google.OrTools.LinearSolver.Solver;

namespace Karpenter.Core.Scheduling;

/// <summary>
/// LP-guided packing: before the greedy pass, the fractional covering LP of the batch (the same model as the cost
/// lower bound: pods grouped by allowed instance types and requests, each group's pods given to types whose room holds
/// them in every resource at once) is solved per NodePool, and its split of each group over instance types is rounded
/// to whole pods. Each pod then carries the instance type the LP gives it as a hint: a NodeClaim opened for it is sized
/// for that type and, while packing, takes only pods hinted to the same type. The LP buys the mix of types whose room
/// matches the mix of requests (memory-heavy pods on memory-optimised types, CPU-heavy pods on the cheapest CPU), which
/// a pod-by-pod greedy choice does not find; hints only order the choices, every constraint is still checked as before.
/// </summary>
internal sealed partial class Solver
{
    private const int MinHintedPods = 8;

    private void AssignTypeHints(List<PodState> pods)
    {
        if (!_hinted || pods.Count < MinHintedPods)
        {
            return;
        }

        var byTemplate = PodsByTemplate(pods);
        foreach (var (template, list) in byTemplate)
        {
            if (list.Count >= MinHintedPods)
            {
                TypeHints.Assign(template, list, _cancellation);
            }
        }
    }
}

/// <summary>The LP of <see cref="Solver"/>'s hints, for one NodePool's instance types.</summary>
internal static class TypeHints
{
    private const double MemoryScale = 1.0 / (1L << 30);

    public static void Assign(Template template, List<PodState> pods, CancellationToken cancellation)
    {
        // Groups: pods with the same allowed instance types and requests.
        var groups = new Dictionary<(string Mask, Resources Requests), List<PodState>>();
        var masks = new Dictionary<string, ulong[]>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            var mask = template.ForShape(pod.Shape).Mask;
            var key = string.Join(",", mask);
            masks.TryAdd(key, mask);
            (groups.TryGetValue((key, pod.Requests), out var list) ? list : groups[(key, pod.Requests)] = []).Add(pod);
        }

        var groupList = groups.OrderBy(g => g.Key.Mask, StringComparer.Ordinal).ThenBy(g => g.Key.Requests.CpuMilli).ThenBy(g => g.Key.Requests.Memory)
            .ThenBy(g => g.Key.Requests.Pods).Select(g => (Mask: masks[g.Key.Mask], g.Key.Requests, Pods: g.Value)).ToList();
        if (groupList.Any(g => g.Requests.HasExtended || g.Requests.EphemeralStorage > 0))
        {
            return; // the LP models CPU, memory and pod slots only
        }

        var columns = Columns(template, groupList.Select(g => (g.Mask, g.Requests)).ToList());
        if (columns.Count == 0 || cancellation.IsCancellationRequested)
        {
            return;
        }

        using var solver = LpSolver.CreateSolver("GLOP");
        if (solver is null)
        {
            return;
        }

        var x = columns.ToDictionary(t => t, t => solver.MakeNumVar(0, double.PositiveInfinity, $"x{t}"));
        var objective = solver.Objective();
        foreach (var (t, v) in x)
        {
            objective.SetCoefficient(v, (double)template.Prices[t]);
        }

        objective.SetMinimization();
        var cpuRows = new Dictionary<int, Google.OrTools.LinearSolver.Constraint>();
        var memRows = new Dictionary<int, Google.OrTools.LinearSolver.Constraint>();
        var podRows = new Dictionary<int, Google.OrTools.LinearSolver.Constraint>();
        var z = new List<List<(int Type, Google.OrTools.LinearSolver.Variable Var)>>();
        for (var g = 0; g < groupList.Count; g++)
        {
            var (mask, q, members) = groupList[g];
            var cover = solver.MakeConstraint(members.Count, double.PositiveInfinity, $"cover{g}");
            var vars = new List<(int, Google.OrTools.LinearSolver.Variable)>();
            foreach (var t in columns)
            {
                if ((mask[t >> 6] & (1UL << (t & 63))) == 0 || !q.FitsIn(template.Avail[t]))
                {
                    continue;
                }

                var v = solver.MakeNumVar(0, double.PositiveInfinity, $"z{g}_{t}");
                cover.SetCoefficient(v, 1);
                Row(solver, cpuRows, t, x[t], template.Avail[t].CpuMilli / 1000.0, "cpu").SetCoefficient(v, q.CpuMilli / 1000.0);
                Row(solver, memRows, t, x[t], template.Avail[t].Memory * MemoryScale, "mem").SetCoefficient(v, q.Memory * MemoryScale);
                Row(solver, podRows, t, x[t], template.Avail[t].Pods, "pods").SetCoefficient(v, q.Pods);
                vars.Add((t, v));
            }

            z.Add(vars);
        }

        if (solver.Solve() != LpSolver.ResultStatus.OPTIMAL)
        {
            return;
        }

        // Round each group's split to whole pods: the whole parts first, then the largest fractions.
        for (var g = 0; g < groupList.Count; g++)
        {
            var members = groupList[g].Pods;
            var shares = z[g].Select(v => (v.Type, Value: Math.Max(0, v.Var.SolutionValue()))).Where(s => s.Value > 1e-6).ToList();
            if (shares.Count == 0)
            {
                continue;
            }

            var counts = shares.Select(s => (int)Math.Floor(s.Value + 1e-9)).ToArray();
            var left = members.Count - counts.Sum();
            foreach (var i in Enumerable.Range(0, shares.Count).OrderByDescending(i => shares[i].Value - Math.Floor(shares[i].Value + 1e-9)).ThenBy(i => shares[i].Type))
            {
                if (left <= 0)
                {
                    break;
                }

                counts[i]++;
                left--;
            }

            var next = 0;
            for (var i = 0; i < shares.Count; i++)
            {
                for (var k = 0; k < counts[i] && next < members.Count; k++)
                {
                    members[next].Hint = shares[i].Type;
                    members[next].HintTemplate = template;
                    next++;
                }
            }
        }
    }

    private static Google.OrTools.LinearSolver.Constraint Row(
        LpSolver solver, Dictionary<int, Google.OrTools.LinearSolver.Constraint> rows, int t, Google.OrTools.LinearSolver.Variable xt, double capacity, string name)
    {
        if (!rows.TryGetValue(t, out var row))
        {
            row = solver.MakeConstraint(double.NegativeInfinity, 0, $"{name}{t}");
            row.SetCoefficient(xt, -capacity);
            rows[t] = row;
        }

        return row;
    }

    /// <summary>
    /// The instance types some group may use, less those a type allowed for the same groups beats (no dearer, at
    /// least as much CPU, memory and pod slots): leaving them out never changes the LP's optimum.
    /// </summary>
    internal static List<int> Columns(Template template, List<(ulong[] Mask, Resources Requests)> groups)
    {
        var bySignature = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var t = 0; t < template.Types.Length; t++)
        {
            var members = new List<int>();
            for (var g = 0; g < groups.Count; g++)
            {
                if ((groups[g].Mask[t >> 6] & (1UL << (t & 63))) != 0 && groups[g].Requests.FitsIn(template.Avail[t]))
                {
                    members.Add(g);
                }
            }

            if (members.Count == 0)
            {
                continue;
            }

            var key = string.Join(",", members);
            (bySignature.TryGetValue(key, out var list) ? list : bySignature[key] = []).Add(t);
        }

        var kept = new List<int>();
        foreach (var same in bySignature.Values)
        {
            // Types are cheapest first, so a type is dominated only by one already on the frontier.
            var frontier = new List<int>();
            foreach (var t in same)
            {
                var a = template.Avail[t];
                if (!frontier.Any(f => template.Avail[f].CpuMilli >= a.CpuMilli && template.Avail[f].Memory >= a.Memory && template.Avail[f].Pods >= a.Pods))
                {
                    frontier.Add(t);
                }
            }

            kept.AddRange(frontier);
        }

        // The optimum uses few types; keep those cheapest per unit of a few mixes of CPU and memory, which is where it
        // finds them, so the LP stays small on a large catalog.
        if (kept.Count > MaxColumns)
        {
            var chosen = new HashSet<int>();
            foreach (var gibPerCore in MemoryPerCore)
            {
                foreach (var t in kept.OrderBy(t => (double)template.Prices[t] / Units(template.Avail[t], gibPerCore)).ThenBy(t => t).Take(ColumnsPerMix))
                {
                    chosen.Add(t);
                }
            }

            kept = [.. chosen];
        }

        kept.Sort();
        return kept;
    }

    private const int MaxColumns = 48;
    private const int ColumnsPerMix = 6;
    private static readonly double[] MemoryPerCore = [0.25, 0.5, 1, 2, 4, 8, 16];

    /// <summary>How many "cores with <paramref name="gibPerCore"/> GiB each" a type holds: the lesser of its CPU and memory in those units.</summary>
    private static double Units(Resources avail, double gibPerCore) =>
        Math.Max(1e-9, Math.Min(avail.CpuMilli / 1000.0, avail.Memory * MemoryScale / gibPerCore));
}
