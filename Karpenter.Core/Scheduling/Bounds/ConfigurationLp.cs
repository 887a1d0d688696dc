using Google.OrTools.LinearSolver;
using LpSolver = Google.OrTools.LinearSolver.Solver;

namespace Karpenter.Core.Scheduling.Bounds;

/// <summary>A kind of item to pack: its size in every dimension, how many there are, and its exclusive set (or -1).</summary>
/// <param name="Size">The size per dimension (same dimensions as every <see cref="PatternBin.Capacity"/>).</param>
/// <param name="Demand">How many items of this kind must be placed.</param>
/// <param name="Exclusive">Items of the same exclusive set (≥ 0) go at most one per bin (hostname anti-affinity); -1 for none.</param>
internal sealed record PatternItem(long[] Size, int Demand, int Exclusive);

/// <summary>A kind of bin: its price, its capacity per dimension, and the items allowed in it.</summary>
internal sealed record PatternBin(double Price, long[] Capacity, int[] Items);

/// <summary>A node-fill pattern of the configuration LP: a bin kind, how many of each item kind it holds, and its LP weight.</summary>
internal sealed record NodePattern(int Bin, int[] Items, int[] Counts, double Nodes);

/// <summary>
/// How much work <see cref="ConfigurationLp"/> may do. The result is a valid lower bound whatever the budget; a
/// smaller budget only makes it looser (see the benchmark's configuration column for what that costs).
/// </summary>
internal sealed record ConfigurationBudget
{
    /// <summary>Column-generation rounds (one master LP solve each).</summary>
    public int MaxIterations { get; init; } = 120;

    /// <summary>
    /// Bin kinds priced exactly (branch and bound) per round, most promising first; four times as many have their
    /// knapsack LP solved for the bound, the rest keep their (looser) surrogate bound.
    /// </summary>
    public int TypesPerIteration { get; init; } = 16;

    /// <summary>Branch-and-bound nodes per pricing problem; beyond it the pricing falls back to its proven upper bound.</summary>
    public int KnapsackNodes { get; init; } = 600;

    /// <summary>
    /// A cap on the whole generation's work, in elementary steps (an item looked at by a pricing bound, a coefficient of
    /// a master solve): rounds stop once it is spent, so many pod kinds or instance types cost rounds, not time.
    /// </summary>
    public long MaxWork { get; init; } = 60_000_000;

    /// <summary>The default budget.</summary>
    public static ConfigurationBudget Default { get; } = new();
}

/// <summary>The outcome of <see cref="ConfigurationLp.Solve"/>.</summary>
/// <param name="Bound">A valid lower bound of the configuration LP (the Farley bound of the best round), so of any packing's price.</param>
/// <param name="Master">The last restricted master's value: the configuration LP's optimum is between the bound and this.</param>
/// <param name="Iterations">Rounds done.</param>
/// <param name="Columns">Patterns generated.</param>
/// <param name="Converged">True when pricing proved no pattern improves the master (bound = master up to tolerance).</param>
/// <param name="Patterns">The last master's patterns with their fractional node counts.</param>
internal sealed record ConfigurationResult(double Bound, double Master, int Iterations, int Columns, bool Converged, IReadOnlyList<NodePattern> Patterns);

/// <summary>
/// The configuration LP (Gilmore–Gomory) of a variable-size vector bin packing with costs, solved by column generation:
/// minimise Σ_p c_p·λ_p over node-fill patterns p (a bin kind and a whole number of items of each kind that fit it in
/// every dimension together, at most one of each exclusive set, at most the demand of each kind), subject to
/// Σ_p k_{i,p}·λ_p ≥ n_i for every item kind i. The master is solved with GLOP; the pricing problem of a bin kind is a
/// bounded multi-dimensional knapsack with the master's duals as values, solved by a depth-first branch and bound whose
/// bound is the tightest of several surrogate relaxations (constraints combined with non-negative weights, then solved
/// fractionally), within a node budget.
/// <para>
/// The reported bound is valid however early the generation stops: for duals π ≥ 0 of any round and ρ = max(1, max over
/// every bin kind t of V_t / c_t), where V_t is the knapsack optimum when the branch and bound finished and its root
/// surrogate bound otherwise (an upper bound either way), π/ρ is feasible for the configuration LP's dual, so
/// Σ_i n_i·π_i / ρ is at most its optimum (Farley's bound). The largest such value over the rounds is reported.
/// </para>
/// </summary>
internal static class ConfigurationLp
{
    private const double Epsilon = 1e-9;

    public static ConfigurationResult Solve(IReadOnlyList<PatternItem> items, IReadOnlyList<PatternBin> bins, ConfigurationBudget? budget = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(bins);
        budget ??= ConfigurationBudget.Default;
        if (items.Count == 0)
        {
            return new ConfigurationResult(0, 0, 0, 0, true, []);
        }

        var work = new Work();
        var pricers = bins.Select((b, t) => new Pricer(t, b, items, work)).Where(p => p.ItemCount > 0).ToList();
        using var master = LpSolver.CreateSolver("GLOP") ?? throw new InvalidOperationException("the GLOP linear solver is not available");
        var objective = master.Objective();
        objective.SetMinimization();
        var cover = items.Select((item, i) => master.MakeConstraint(item.Demand, double.PositiveInfinity, $"n{i}")).ToArray();
        var columns = new List<(NodePattern Pattern, Variable Var)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        void AddColumn(int bin, int[] counts)
        {
            var key = bin + ":" + string.Join(",", counts);
            if (!seen.Add(key))
            {
                return;
            }

            var v = master.MakeNumVar(0, double.PositiveInfinity, $"p{columns.Count}");
            objective.SetCoefficient(v, bins[bin].Price);
            var ids = new List<int>();
            var ks = new List<int>();
            for (var i = 0; i < counts.Length; i++)
            {
                if (counts[i] > 0)
                {
                    cover[i].SetCoefficient(v, counts[i]);
                    ids.Add(i);
                    ks.Add(counts[i]);
                }
            }

            columns.Add((new NodePattern(bin, [.. ids], [.. ks], 0), v));
        }

        // Start from the cheapest single-kind pattern of every item kind, which makes the master feasible.
        for (var i = 0; i < items.Count; i++)
        {
            var best = (Bin: -1, PerItem: double.PositiveInfinity, Count: 0);
            foreach (var p in pricers)
            {
                var k = p.Alone(i);
                if (k > 0 && bins[p.Bin].Price / k < best.PerItem - Epsilon)
                {
                    best = (p.Bin, bins[p.Bin].Price / k, k);
                }
            }

            if (best.Bin < 0)
            {
                return new ConfigurationResult(double.NaN, double.NaN, 0, 0, false, []);
            }

            var counts = new int[items.Count];
            counts[i] = best.Count;
            AddColumn(best.Bin, counts);
        }

        var bound = 0.0;
        var value = double.NaN;
        var converged = false;
        var iterations = 0;
        var duals = new double[items.Count];
        while (iterations < budget.MaxIterations && work.Steps < budget.MaxWork && !cancellationToken.IsCancellationRequested)
        {
            iterations++;
            work.Steps += (long)items.Count * columns.Count;
            if (master.Solve() != LpSolver.ResultStatus.OPTIMAL)
            {
                break;
            }

            value = objective.Value();
            var dualValue = 0.0;
            for (var i = 0; i < items.Count; i++)
            {
                duals[i] = Math.Max(0, cover[i].DualValue());
                dualValue += duals[i] * items[i].Demand;
            }

            // Price: every bin kind's surrogate bound first, then branch and bound on the most promising ones.
            foreach (var p in pricers)
            {
                p.Prepare(duals);
            }

            pricers.Sort((a, b) => b.RootRatio.CompareTo(a.RootRatio) is var c && c != 0 ? c : a.Bin.CompareTo(b.Bin));
            // Walk the bin kinds by surrogate bound: tighten each with its knapsack LP while it could still raise ρ, and
            // price the first few exactly. Those not reached have a surrogate bound no higher than ρ.
            var rho = 1.0;
            var priced = 0;
            var added = 0;
            var blocking = new List<(Pricer Pricer, double Upper)>();
            var relaxed = 0;
            foreach (var p in pricers)
            {
                if (p.RootRatio <= Math.Max(rho, 1 + Epsilon) && (p.RootRatio <= 1 + Epsilon || priced >= budget.TypesPerIteration))
                {
                    break;
                }

                if (++relaxed > budget.TypesPerIteration * 4)
                {
                    rho = Math.Max(rho, p.RootRatio); // out of knapsack LPs this round: the rest keep their surrogate bound
                    break;
                }

                var price = bins[p.Bin].Price;
                var upper = p.LpBound() / price;
                if (upper > 1 + Epsilon && priced < budget.TypesPerIteration)
                {
                    priced++;
                    var (best, counts, exact) = p.Price(budget.KnapsackNodes);
                    upper = Math.Min(upper, exact / price);
                    if (best > price * (1 + Epsilon))
                    {
                        AddColumn(p.Bin, counts);
                        added++;
                    }
                }

                rho = Math.Max(rho, upper);
                if (upper > 1 + Epsilon)
                {
                    blocking.Add((p, upper));
                }
            }

            if (added == 0 && rho > 1 + Epsilon)
            {
                // Nothing improving found but not proven: search the kinds that hold ρ up again, with a larger budget.
                rho = 1.0;
                foreach (var (p, upper) in blocking.OrderByDescending(b => b.Upper).Take(budget.TypesPerIteration))
                {
                    var price = bins[p.Bin].Price;
                    var (best, counts, exact) = p.Price(budget.KnapsackNodes * 20);
                    if (best > price * (1 + Epsilon))
                    {
                        AddColumn(p.Bin, counts);
                        added++;
                    }

                    rho = Math.Max(rho, Math.Min(upper, exact / price));
                }

                rho = Math.Max(rho, blocking.OrderByDescending(b => b.Upper).Skip(budget.TypesPerIteration).Select(b => b.Upper).DefaultIfEmpty(1).First());
            }

            bound = Math.Max(bound, dualValue / rho * (1 - 1e-9));
            if (added == 0 || bound >= value * (1 - 1e-7))
            {
                converged = rho <= 1 + Epsilon || bound >= value * (1 - 1e-7);
                break;
            }
        }

        if (iterations > 0 && master.Solve() == LpSolver.ResultStatus.OPTIMAL)
        {
            value = objective.Value();
        }

        var patterns = columns.Select(c => c.Pattern with { Nodes = c.Var.SolutionValue() }).Where(p => p.Nodes > 1e-9).ToList();
        return new ConfigurationResult(bound, value, iterations, columns.Count, converged, patterns);
    }

    private sealed class Work
    {
        public long Steps { get; set; }
    }

    /// <summary>The pricing problem of one bin kind: a bounded knapsack in every dimension with exclusive sets.</summary>
    private sealed class Pricer
    {
        private readonly Work _work;
        private readonly PatternBin _bin;
        private readonly IReadOnlyList<PatternItem> _items;
        private readonly int _dims;
        private readonly int[] _allowed;
        private readonly int[] _alone;
        private readonly double[][] _surrogates;
        private readonly double[][] _norm;

        // Per round: the search order (exclusive sets first, then single kinds) and each surrogate's density order.
        private readonly List<int[]> _order = [];
        private readonly List<int[]> _byDensity = [];
        private double[] _duals = [];
        private double _rootBound;
        private double[] _unitValue = [];
        private double[][] _unitSize = [];
        private int _tightest;
        private int[]? _lpStart;
        private int[] _pos = [];

        public Pricer(int bin, PatternBin b, IReadOnlyList<PatternItem> items, Work work)
        {
            _work = work;
            Bin = bin;
            _bin = b;
            _items = items;
            _dims = b.Capacity.Length;
            var allowed = new List<int>();
            var alone = new List<int>();
            foreach (var i in b.Items)
            {
                var k = Fit(items[i].Size, b.Capacity, items[i].Demand);
                if (k > 0)
                {
                    allowed.Add(i);
                    alone.Add(items[i].Exclusive >= 0 ? 1 : k);
                }
            }

            _allowed = [.. allowed];
            _alone = [.. alone];
            _norm = [.. _allowed.Select(i => Enumerable.Range(0, _dims).Select(r => b.Capacity[r] > 0 ? items[i].Size[r] / (double)b.Capacity[r] : 0).ToArray())];

            // Surrogates: each dimension alone, all together, and the first two (CPU and memory) together.
            var surrogates = new List<double[]>();
            for (var r = 0; r < _dims; r++)
            {
                surrogates.Add([.. Enumerable.Range(0, _dims).Select(x => x == r ? 1.0 : 0)]);
            }

            surrogates.Add([.. Enumerable.Repeat(1.0, _dims)]);
            if (_dims > 2)
            {
                surrogates.Add([.. Enumerable.Range(0, _dims).Select(x => x < 2 ? 1.0 : 0)]);
            }

            surrogates.Add([.. Enumerable.Repeat(1.0, _dims)]); // replaced by the knapsack LP's duals when it is solved
            _surrogates = [.. surrogates];
        }

        public int Bin { get; }

        public int ItemCount => _allowed.Length;

        /// <summary>Surrogate upper bound of this round's knapsack over the price.</summary>
        public double RootRatio { get; private set; }

        /// <summary>How many items of kind <paramref name="item"/> fit alone (0 when not allowed).</summary>
        public int Alone(int item)
        {
            var a = Array.IndexOf(_allowed, item);
            return a < 0 ? 0 : _alone[a];
        }

        private bool IsSet(int u) => _order[u].Length > 1 || _items[_allowed[_order[u][0]]].Exclusive >= 0;

        private static void Take(long[] room, long[] size, int k)
        {
            for (var r = 0; r < room.Length; r++)
            {
                room[r] -= size[r] * k;
            }
        }

        private static int Fit(long[] size, long[] capacity, int demand)
        {
            long k = demand;
            for (var r = 0; r < size.Length; r++)
            {
                if (size[r] > 0)
                {
                    k = Math.Min(k, capacity[r] / size[r]);
                }
            }

            return (int)k;
        }

        // A "unit" of the search: a single kind (one entry) or an exclusive set (its members); indices into _allowed.
        public void Prepare(double[] duals)
        {
            _duals = duals;
            _order.Clear();
            var sets = new Dictionary<int, List<int>>();
            var singles = new List<int>();
            for (var a = 0; a < _allowed.Length; a++)
            {
                var i = _allowed[a];
                if (duals[i] <= Epsilon)
                {
                    continue;
                }

                if (_items[i].Exclusive >= 0)
                {
                    (sets.TryGetValue(_items[i].Exclusive, out var list) ? list : sets[_items[i].Exclusive] = []).Add(a);
                }
                else
                {
                    singles.Add(a);
                }
            }

            foreach (var (_, members) in sets.OrderBy(kv => kv.Key))
            {
                members.Sort((x, y) => duals[_allowed[y]].CompareTo(duals[_allowed[x]]) is var c && c != 0 ? c : x.CompareTo(y));
                _order.Add([.. members]);
            }

            var balanced = _surrogates[_dims];
            singles.Sort((x, y) => Density(y, balanced).CompareTo(Density(x, balanced)) is var c && c != 0 ? c : x.CompareTo(y));
            foreach (var a in singles)
            {
                _order.Add([a]);
            }

            _byDensity.Clear();
            _unitValue = [.. Enumerable.Range(0, _order.Count).Select(u => _order[u].Max(a => duals[_allowed[a]]))];
            _unitSize = new double[_surrogates.Length][];
            for (var s = 0; s < _surrogates.Length; s++)
            {
                var w = _surrogates[s];
                _unitSize[s] = [.. Enumerable.Range(0, _order.Count).Select(u => _order[u].Min(a => Size(a, w)))];
                var units = Enumerable.Range(0, _order.Count).ToArray();
                var keys = units.Select(u => -_unitValue[u] / Math.Max(1e-300, _unitSize[s][u])).ToArray();
                Array.Sort(keys, units);
                _byDensity.Add(units);
            }

            _lpStart = null;
            _pos = [.. Enumerable.Range(0, _order.Count)];
            _work.Steps += (long)_surrogates.Length * _order.Count * 8;
            var full = (long[])_bin.Capacity.Clone();
            _rootBound = double.PositiveInfinity;
            for (var s = 0; s < _surrogates.Length; s++)
            {
                var b = Bound(s, 0, full);
                if (b < _rootBound)
                {
                    (_rootBound, _tightest) = (b, s);
                }
            }

            RootRatio = _rootBound / _bin.Price;
        }

        private double Density(int a, double[] w) => _duals[_allowed[a]] / Math.Max(1e-300, Size(a, w));

        private double Size(int a, double[] w)
        {
            var s = 0.0;
            for (var r = 0; r < _dims; r++)
            {
                s += w[r] * _norm[a][r];
            }

            return s;
        }

        /// <summary>
        /// An upper bound of what the units from <paramref name="from"/> on add within <paramref name="rem"/>: surrogate
        /// <paramref name="s"/>'s fractional knapsack (an exclusive set counts as its best value at its least size, once;
        /// a single kind at most as many times as fit the remaining room).
        /// </summary>
        private double Bound(int s, int from, long[] rem)
        {
            _work.Steps += _order.Count;
            var w = _surrogates[s];
            var room = 0.0;
            for (var r = 0; r < _dims; r++)
            {
                room += w[r] * (_bin.Capacity[r] > 0 ? rem[r] / (double)_bin.Capacity[r] : 0);
            }

            var total = 0.0;
            foreach (var u in _byDensity[s])
            {
                if (_pos[u] < from)
                {
                    continue;
                }

                var unit = _order[u];
                var count = unit.Length == 1 && _items[_allowed[unit[0]]].Exclusive < 0 ? Fit(_items[_allowed[unit[0]]].Size, rem, _alone[unit[0]]) : 1;
                if (count <= 0)
                {
                    continue;
                }

                var size = _unitSize[s][u];
                if (size <= 0)
                {
                    total += count * _unitValue[u];
                    continue;
                }

                var take = Math.Min(count, room / size);
                total += take * _unitValue[u];
                room -= take * size;
                if (room <= 0)
                {
                    break;
                }
            }

            return total;
        }

        /// <summary>
        /// The knapsack's LP relaxation (every dimension at once, at most one of each exclusive set), solved with GLOP: a
        /// proven upper bound of this round's pricing optimum, much tighter than a surrogate on mixed pods. Its
        /// dimension duals become the surrogate the branch and bound bounds with.
        /// </summary>
        public double LpBound()
        {
            _work.Steps += (long)_order.Count * 200;
            using var lp = LpSolver.CreateSolver("GLOP") ?? throw new InvalidOperationException("the GLOP linear solver is not available");
            var objective = lp.Objective();
            objective.SetMaximization();
            var rows = new Constraint[_dims];
            for (var r = 0; r < _dims; r++)
            {
                rows[r] = lp.MakeConstraint(double.NegativeInfinity, 1, $"r{r}");
            }

            var vars = new Variable?[_allowed.Length];

            for (var u = 0; u < _order.Count; u++)
            {
                var unit = _order[u];
                var exclusive = unit.Length > 1 || _items[_allowed[unit[0]]].Exclusive >= 0;
                var one = exclusive ? lp.MakeConstraint(double.NegativeInfinity, 1, $"e{u}") : null;
                foreach (var a in unit)
                {
                    var x = lp.MakeNumVar(0, exclusive ? 1 : _alone[a], $"x{a}");
                    vars[a] = x;
                    objective.SetCoefficient(x, _duals[_allowed[a]]);
                    one?.SetCoefficient(x, 1);
                    for (var r = 0; r < _dims; r++)
                    {
                        if (_norm[a][r] > 0)
                        {
                            rows[r].SetCoefficient(x, _norm[a][r]);
                        }
                    }
                }
            }

            if (lp.Solve() != LpSolver.ResultStatus.OPTIMAL)
            {
                return _rootBound;
            }

            // The LP's value, with a margin for its tolerances; the duals (any non-negative weights are valid) as a surrogate;
            // its solution rounded down as the branch and bound's first incumbent.
            var value = (objective.Value() * (1 + 1e-7)) + 1e-12;
            _lpStart = [.. vars.Select(v => v is null ? 0 : (int)Math.Floor(v.SolutionValue() + 1e-9))];
            var weights = rows.Select(r => Math.Abs(r.DualValue())).ToArray();
            if (weights.Any(w => w > 0))
            {
                var s = _surrogates.Length - 1;
                _surrogates[s] = weights;
                _unitSize[s] = [.. Enumerable.Range(0, _order.Count).Select(u => _order[u].Min(a => Size(a, weights)))];
                var units = Enumerable.Range(0, _order.Count).ToArray();
                Array.Sort(units.Select(u => -_unitValue[u] / Math.Max(1e-300, _unitSize[s][u])).ToArray(), units);
                _byDensity[s] = units;
                _tightest = s;
            }

            return Math.Min(_rootBound, value);
        }

        /// <summary>The best pattern found, its counts per item kind, and a proven upper bound of the optimum.</summary>
        public (double Best, int[] Counts, double Upper) Price(int maxNodes)
        {
            var rem = (long[])_bin.Capacity.Clone();
            var take = new int[_allowed.Length];
            var bestTake = new int[_allowed.Length];
            var best = 0.0;
            var nodes = 0;
            var aborted = false;

            // Search the exclusive sets first, then the single kinds densest first under the tightest surrogate.
            var sequence = _byDensity[_tightest].Where(IsSet).Concat(_byDensity[_tightest].Where(u => !IsSet(u))).ToArray();
            for (var i = 0; i < sequence.Length; i++)
            {
                _pos[sequence[i]] = i;
            }

            if (_lpStart is { } start)
            {
                // The LP's solution rounded down, then filled greedily in the search order: a good first incumbent.
                var fill = (long[])_bin.Capacity.Clone();
                var startTake = new int[_allowed.Length];
                var startValue = 0.0;
                foreach (var u in sequence)
                {
                    foreach (var a in _order[u])
                    {
                        var k = Math.Min(start[a], Fit(_items[_allowed[a]].Size, fill, _alone[a]));
                        if (IsSet(u) && (k > 1 || _order[u].Any(b => startTake[b] > 0)))
                        {
                            k = Math.Min(k, _order[u].Any(b => startTake[b] > 0) ? 0 : 1);
                        }

                        Take(fill, _items[_allowed[a]].Size, k);
                        startTake[a] += k;
                        startValue += k * _duals[_allowed[a]];
                    }
                }

                foreach (var u in sequence)
                {
                    foreach (var a in _order[u])
                    {
                        if (IsSet(u) && _order[u].Any(b => startTake[b] > 0))
                        {
                            break;
                        }

                        var k = Math.Min(_alone[a] - startTake[a], Fit(_items[_allowed[a]].Size, fill, _alone[a]));
                        k = IsSet(u) ? Math.Min(k, 1) : k;
                        if (k > 0)
                        {
                            Take(fill, _items[_allowed[a]].Size, k);
                            startTake[a] += k;
                            startValue += k * _duals[_allowed[a]];
                        }
                    }
                }

                best = startValue;
                Array.Copy(startTake, bestTake, startTake.Length);
            }

            void Search(int depth, double value)
            {
                if (value > best + 1e-12)
                {
                    best = value;
                    Array.Copy(take, bestTake, take.Length);
                }

                if (depth >= sequence.Length)
                {
                    return;
                }

                if (++nodes > maxNodes)
                {
                    aborted = true;
                    return;
                }

                if (value + Bound(_tightest, depth, rem) <= best * (1 + 1e-12) + 1e-15)
                {
                    return;
                }

                var u = depth;
                var unit = _order[sequence[depth]];
                var single = unit.Length == 1 && _items[_allowed[unit[0]]].Exclusive < 0;
                if (single)
                {
                    var a = unit[0];
                    var size = _items[_allowed[a]].Size;
                    var max = Fit(size, rem, _alone[a]);
                    for (var k = max; k >= 0 && !aborted; k--)
                    {
                        Use(size, k);
                        take[a] = k;
                        Search(u + 1, value + (k * _duals[_allowed[a]]));
                        take[a] = 0;
                        Use(size, -k);
                    }

                    return;
                }

                foreach (var a in unit)
                {
                    var size = _items[_allowed[a]].Size;
                    if (aborted || Fit(size, rem, 1) < 1)
                    {
                        continue;
                    }

                    Use(size, 1);
                    take[a] = 1;
                    Search(u + 1, value + _duals[_allowed[a]]);
                    take[a] = 0;
                    Use(size, -1);
                }

                if (!aborted)
                {
                    Search(u + 1, value);
                }
            }

            void Use(long[] size, int k)
            {
                for (var r = 0; r < _dims; r++)
                {
                    rem[r] -= size[r] * k;
                }
            }

            Search(0, 0);
            var counts = new int[_items.Count];
            for (var a = 0; a < _allowed.Length; a++)
            {
                counts[_allowed[a]] = bestTake[a];
            }

            return (best, counts, aborted ? Math.Max(best, _rootBound) : best);
        }
    }
}
