using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;

namespace Karpenter.Core.Disruption;

/// <summary>
/// Chooses WHICH candidates multi-node consolidation removes, over all of them, with a resources-only packing model of
/// the cluster: every node's free capacity (allocatable minus requested), and first fit over the nodes least likely to
/// be removed first (nodes that are not candidates, then candidates from the last to be tried). Pending pods (and pods
/// of deleting nodes) take their room first. Candidates are tried one after another in a removal order; one is removed
/// when its pods, and any pods the model already moved onto it, fit the nodes left; otherwise its tentative moves are
/// rolled back and it stays as a target. Several removal orders are tried (least resources per dollar first, emptiest
/// first, upstream's cheapest-to-disrupt first) and the one saving most (then moving fewest pods) is kept. Only when no
/// order can delete anything, the model also fills one new node (the largest type) and keeps the prefix of those
/// candidates that saves most once the cheapest type holding them is paid. The model ignores scheduling constraints
/// (selectors, taints, topology, ports, volumes): the caller verifies the chosen set with the real scheduler.
/// Deterministic: the same snapshot always gives the same set; its work is about pods × log(nodes) per order.
/// </summary>
public static class PackingSearch
{
    /// <summary>One removal order's result.</summary>
    /// <param name="Order">The name of the removal order (for logs and the benchmark).</param>
    /// <param name="Removed">The candidates removed, in the order they were taken (every prefix is itself feasible in the model).</param>
    /// <param name="PodsMoved">Pods that move (each counted once).</param>
    /// <param name="Savings">The hourly price of <paramref name="Removed"/>, less the replacement's.</param>
    public sealed record Plan(string Order, IReadOnlyList<Candidate> Removed, decimal Savings, int PodsMoved)
    {
        /// <summary>The model's price of the one new node the set needs, or null when it is a pure delete.</summary>
        public decimal? ReplacementPrice { get; init; }
    }

    /// <summary>
    /// The best removal set of <paramref name="candidates"/> (already filtered to consolidation candidates), taking at
    /// most as many candidates from each NodePool as its <c>Underutilized</c> budget allows, and of those, as many empty
    /// ones as its <c>Empty</c> budget allows (so the command passes validation whichever reason it carries).
    /// </summary>
    public static Plan Choose(ClusterSnapshot snapshot, IReadOnlyList<Candidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(candidates);
        var budgets = snapshot.Budgets(DisruptionReason.Underutilized);
        var emptyBudgets = snapshot.Budgets(DisruptionReason.Empty);
        var model = new Model(snapshot, candidates);
        var orders = Orders(model).ToList();
        Plan? best = null;

        // Deleting is tried first; one new node only when no order can delete anything (a replacement moves more pods
        // for less, and the next pass sees the cluster the deletions left).
        foreach (var replace in new[] { false, true })
        {
            foreach (var (name, order) in orders)
            {
                var plan = model.Run(name, order, budgets, emptyBudgets, replace);
                if (plan.Removed.Count > 0 && (best is null || plan.Savings > best.Savings || (plan.Savings == best.Savings && plan.PodsMoved < best.PodsMoved)))
                {
                    best = plan;
                }
            }

            if (best is not null)
            {
                return best;
            }
        }

        return new Plan("none", [], 0, 0);
    }

    private static IEnumerable<(string Name, List<int> Order)> Orders(Model model)
    {
        var all = Enumerable.Range(0, model.Candidates.Count).ToList();

        // Least moving (dominant) share of the cluster's free room per dollar saved first.
        yield return ("resources-per-dollar", [.. all.OrderBy(i => model.Share[i] / (double)Math.Max(model.Candidates[i].Price, 0.0001m)).ThenBy(i => model.Candidates[i].Name, StringComparer.Ordinal)]);

        // Emptiest node first (its moving requests over its allocatable), the dearer first among equals.
        yield return ("emptiest", [.. all.OrderBy(i => model.Utilization[i]).ThenByDescending(i => model.Candidates[i].Price).ThenBy(i => model.Candidates[i].Name, StringComparer.Ordinal)]);

        // Upstream's order: cheapest to disrupt first.
        yield return ("disruption-cost", [.. all.OrderBy(i => model.Candidates[i].DisruptionCost).ThenByDescending(i => model.Candidates[i].Price).ThenBy(i => model.Candidates[i].Name, StringComparer.Ordinal)]);
    }

    /// <summary>The packing model: nodes in the scheduler's order with their free room in a max-tree for first fit.</summary>
    private sealed class Model
    {
        private readonly Resources[] _initialFree;
        private readonly int[] _nodeOf;
        private readonly List<Resources>[] _moving;
        private readonly List<Resources> _pending;

        public Model(ClusterSnapshot snapshot, IReadOnlyList<Candidate> candidates)
        {
            Candidates = candidates;
            var nodes = snapshot.ExistingNodes;
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            _initialFree = new Resources[nodes.Count];
            for (var i = 0; i < nodes.Count; i++)
            {
                index.TryAdd(nodes[i].Name, i);
                _initialFree[i] = Clamp(nodes[i].Allocatable - nodes[i].Requested);
            }

            var totalFree = _initialFree.Aggregate(default(Resources), (sum, r) => sum + r);
            _nodeOf = new int[candidates.Count];
            _moving = new List<Resources>[candidates.Count];
            Share = new double[candidates.Count];
            Utilization = new double[candidates.Count];
            for (var c = 0; c < candidates.Count; c++)
            {
                _nodeOf[c] = index.TryGetValue(candidates[c].NodeName, out var n) ? n : index.GetValueOrDefault(candidates[c].Name, -1);
                _moving[c] = [.. candidates[c].ReschedulablePods.Select(p => PodResources.Requests(p)).OrderByDescending(r => r.CpuMilli).ThenByDescending(r => r.Memory)];
                var moving = _moving[c].Aggregate(default(Resources), (sum, r) => sum + r);
                Share[c] = Dominant(moving, totalFree);
                Utilization[c] = _nodeOf[c] >= 0 ? Dominant(moving, nodes[_nodeOf[c]].Allocatable) : 1.0;
            }

            _pending = [.. snapshot.PendingPods.Select(p => PodResources.Requests(p)).OrderByDescending(r => r.CpuMilli).ThenByDescending(r => r.Memory)];

            // What a replacement could be: every type the NodePools launch, cheapest first, at its cheapest available offering.
            _types = [.. snapshot.SchedulingNodePools.SelectMany(p => p.InstanceTypes)
                .Select(t => (t.Allocatable, Price: t.Offerings.Where(o => o.Available).Select(o => o.Price).DefaultIfEmpty(decimal.MaxValue).Min()))
                .Where(t => t.Price != decimal.MaxValue)
                .OrderBy(t => t.Price)];
            _largest = _types.Count == 0 ? default : _types.MaxBy(t => (t.Allocatable.CpuMilli, t.Allocatable.Memory)).Allocatable;
        }

        private readonly List<(Resources Allocatable, decimal Price)> _types;

        private readonly Resources _largest;

        public IReadOnlyList<Candidate> Candidates { get; }

        /// <summary>Each candidate's moving requests as a dominant share of the cluster's free room.</summary>
        public double[] Share { get; }

        /// <summary>Each candidate's moving requests as a dominant share of its own allocatable.</summary>
        public double[] Utilization { get; }

        public Plan Run(string name, List<int> order, IReadOnlyDictionary<string, int> budgets, IReadOnlyDictionary<string, int> emptyBudgets, bool replace)
        {
            // Pods go first to the nodes least likely to be removed: nodes that are not candidates, then candidates from
            // the last to be tried to the first (the real scheduler verifies the final set whatever order it tries).
            var rank = new int[_initialFree.Length];
            for (var k = 0; k < order.Count; k++)
            {
                if (_nodeOf[order[k]] >= 0)
                {
                    rank[_nodeOf[order[k]]] = order.Count - k;
                }
            }

            var nodeAt = Enumerable.Range(0, rank.Length).OrderBy(n => rank[n]).ThenBy(n => n).ToArray();
            var posOf = new int[nodeAt.Length];
            for (var p = 0; p < nodeAt.Length; p++)
            {
                posOf[nodeAt[p]] = p;
            }

            var tree = new FreeTree([.. nodeAt.Select(n => _initialFree[n])]);
            var received = new Dictionary<int, List<Resources>>();
            foreach (var r in _pending)
            {
                // A pending pod that fits nowhere needs new capacity anyway; one that fits takes its room first (and
                // moves with it when that node is removed).
                if (tree.FindFirst(r) is var at and >= 0)
                {
                    tree.Set(at, tree.Free(at) - r);
                    Receive(received, at, r);
                }
            }

            var left = new Dictionary<string, int>(budgets, StringComparer.Ordinal);
            var emptyLeft = new Dictionary<string, int>(emptyBudgets, StringComparer.Ordinal);
            var removed = new List<Candidate>();
            decimal savings = 0;
            var moved = 0;
            var taken = new bool[Candidates.Count];

            // Phase 1: delete, every pod onto the nodes left. Phase 2: also one new node (the largest type the NodePools
            // offer), kept only for the prefix of its candidates that saves most once the new node's price is paid.
            var bin = new Bin(_largest);
            var phase2 = new List<(int Candidate, Resources Content)>();
            for (var phase = 1; phase <= 2; phase++)
            {
                if (phase == 2 && (!replace || _largest.IsZero))
                {
                    break;
                }

                foreach (var c in order)
                {
                    var candidate = Candidates[c];
                    var empty = _moving[c].Count == 0;
                    if (taken[c] || _nodeOf[c] < 0 || left.GetValueOrDefault(candidate.NodePoolName) <= 0 || (empty && emptyLeft.GetValueOrDefault(candidate.NodePoolName) <= 0))
                    {
                        continue;
                    }

                    var pos = posOf[_nodeOf[c]];
                    if (!TryRemove(tree, pos, received.TryGetValue(pos, out var extra) ? [.. _moving[c], .. extra] : _moving[c], phase == 2 ? bin : null, out var placements))
                    {
                        continue;
                    }

                    foreach (var (at, r) in placements)
                    {
                        Receive(received, at, r);
                    }

                    received.Remove(pos);
                    taken[c] = true;
                    left[candidate.NodePoolName] = left.GetValueOrDefault(candidate.NodePoolName) - 1;
                    if (empty)
                    {
                        emptyLeft[candidate.NodePoolName] = emptyLeft.GetValueOrDefault(candidate.NodePoolName) - 1;
                    }

                    if (phase == 1)
                    {
                        removed.Add(candidate);
                        savings += candidate.Price;
                        moved += _moving[c].Count;
                    }
                    else
                    {
                        phase2.Add((c, bin.Content));
                    }
                }
            }

            // The phase-2 prefix worth a new node.
            decimal bestGain = 0, gain = 0, replacement = 0;
            var bestK = 0;
            for (var k = 0; k < phase2.Count; k++)
            {
                gain += Candidates[phase2[k].Candidate].Price;
                if (CheapestFor(phase2[k].Content) is { } price && gain - price > bestGain)
                {
                    (bestGain, bestK, replacement) = (gain - price, k + 1, price);
                }
            }

            foreach (var (c, _) in phase2.Take(bestK))
            {
                removed.Add(Candidates[c]);
                moved += _moving[c].Count;
            }

            return new Plan(name, removed, savings + bestGain, moved) { ReplacementPrice = bestK > 0 ? replacement : null };
        }

        /// <summary>Moves the pods of the node at <paramref name="pos"/> to the others (and the new node); rolls back on failure.</summary>
        private static bool TryRemove(FreeTree tree, int pos, List<Resources> pods, Bin? bin, out List<(int At, Resources Requests)> placements)
        {
            placements = [];
            var own = tree.Free(pos);
            tree.Set(pos, default);
            var before = bin?.Content ?? default;
            foreach (var r in pods)
            {
                var at = tree.FindFirst(r);
                if (at >= 0)
                {
                    tree.Set(at, tree.Free(at) - r);
                    placements.Add((at, r));
                }
                else if (bin is null || !bin.TryAdd(r))
                {
                    foreach (var (p, undo) in placements)
                    {
                        tree.Set(p, tree.Free(p) + undo);
                    }

                    tree.Set(pos, own);
                    bin?.Reset(before);
                    return false;
                }
            }

            return true;
        }

        private decimal? CheapestFor(Resources content)
        {
            foreach (var (allocatable, price) in _types)
            {
                if (content.FitsIn(allocatable))
                {
                    return price;
                }
            }

            return null;
        }

        private static void Receive(Dictionary<int, List<Resources>> received, int node, Resources r)
        {
            if (!received.TryGetValue(node, out var list))
            {
                received[node] = list = [];
            }

            list.Add(r);
        }

        private static double Dominant(Resources moving, Resources of) =>
            Math.Max(Math.Max(Ratio(moving.CpuMilli, of.CpuMilli), Ratio(moving.Memory, of.Memory)), Ratio(moving.Pods, of.Pods));

        private static double Ratio(long part, long whole) => part <= 0 ? 0 : whole <= 0 ? double.PositiveInfinity : (double)part / whole;

        private static Resources Clamp(Resources r) => r.AnyNegative ? Resources.Max(r, default) : r;
    }

    /// <summary>The one new node phase 2 fills, as the largest type's allocatable.</summary>
    private sealed class Bin(Resources capacity)
    {
        public Resources Content { get; private set; }

        public bool TryAdd(Resources r)
        {
            if (!(Content + r).FitsIn(capacity))
            {
                return false;
            }

            Content += r;
            return true;
        }

        public void Reset(Resources content) => Content = content;
    }

    /// <summary>
    /// Free room per node, with a segment tree of the component-wise maxima of cpu, memory and pod slots so that the
    /// first node (in the scheduler's order) with room for a request is found in about log(nodes) steps.
    /// </summary>
    private sealed class FreeTree
    {
        private readonly Resources[] _free;
        private readonly long[] _cpu;
        private readonly long[] _memory;
        private readonly long[] _pods;
        private readonly int _size;

        public FreeTree(Resources[] free)
        {
            _free = (Resources[])free.Clone();
            _size = 1;
            while (_size < Math.Max(1, free.Length))
            {
                _size <<= 1;
            }

            _cpu = new long[2 * _size];
            _memory = new long[2 * _size];
            _pods = new long[2 * _size];
            Array.Fill(_cpu, -1);
            Array.Fill(_memory, -1);
            Array.Fill(_pods, -1);
            for (var i = 0; i < free.Length; i++)
            {
                Leaf(i);
            }

            for (var i = _size - 1; i >= 1; i--)
            {
                Pull(i);
            }
        }

        public Resources Free(int i) => _free[i];

        public void Set(int i, Resources free)
        {
            _free[i] = free;
            Leaf(i);
            for (var p = (i + _size) >> 1; p >= 1; p >>= 1)
            {
                Pull(p);
            }
        }

        /// <summary>The first node whose free room holds <paramref name="r"/>, or -1.</summary>
        public int FindFirst(Resources r) => Find(1, r);

        private int Find(int p, Resources r)
        {
            if (_cpu[p] < r.CpuMilli || _memory[p] < r.Memory || _pods[p] < r.Pods)
            {
                return -1;
            }

            if (p >= _size)
            {
                var i = p - _size;
                return r.FitsIn(_free[i]) ? i : -1;
            }

            var left = Find(2 * p, r);
            return left >= 0 ? left : Find((2 * p) + 1, r);
        }

        private void Leaf(int i)
        {
            var p = i + _size;
            _cpu[p] = _free[i].CpuMilli;
            _memory[p] = _free[i].Memory;
            _pods[p] = _free[i].Pods;
        }

        private void Pull(int p)
        {
            _cpu[p] = Math.Max(_cpu[2 * p], _cpu[(2 * p) + 1]);
            _memory[p] = Math.Max(_memory[2 * p], _memory[(2 * p) + 1]);
            _pods[p] = Math.Max(_pods[2 * p], _pods[(2 * p) + 1]);
        }
    }
}
