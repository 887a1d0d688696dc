namespace Karpenter.Core.Scheduling;

/// <summary>
/// The packing-improvement step: local moves after the greedy pass. Its work is counted in placement checks and
/// bounded by <see cref="SchedulingOptions.ImprovementEffort"/>, so the plan is the same on an idle and on a loaded
/// machine; <see cref="SchedulingOptions.ImprovementBudget"/> caps its wall-clock time only as a safety net. Every
/// move either lowers the total price or is undone, so the result is never worse than greedy; every move is checked
/// as a fresh placement would be, plus the constraints of the pods it leaves and joins.
/// </summary>
internal sealed partial class Solver
{
    private const int SmallBatchWork = 20_000;

    private long _improveStart;
    private long _work;
    private long _workBudget;

    private bool OutOfBudget => _work >= _workBudget || _cancellation.IsCancellationRequested ||
                                ((_work & 63) == 0 && _time.GetElapsedTime(_improveStart) > _options.ImprovementBudget);

    private void Improve()
    {
        if (_options.ImprovementBudget <= TimeSpan.Zero || _options.ImprovementEffort <= 0)
        {
            return;
        }

        // From here on a NodeClaim costs what its cheapest fitting type costs: the room reserved while packing is gone.
        foreach (var bin in _bins)
        {
            if (!bin.Existing && bin.Pods.Count > 0)
            {
                bin.Target = -1;
                if (bin.Template!.Cheapest(bin.Mask, bin.Used, 0) is var cheapest and >= 0)
                {
                    bin.Cur = cheapest;
                }

                UpdateTree(bin);
            }
        }

        _improveStart = _time.GetTimestamp();
        var pods = _bins.Sum(b => b.Existing ? 0 : b.Pods.Count);
        _workBudget = SmallBatchWork + ((long)_options.ImprovementEffort * pods);
        var improved = true;
        while (improved && !OutOfBudget)
        {
            improved = Rebalance() | Merge() | Shrink();
        }
    }

    /// <summary>
    /// Merges planned NodeClaims of one NodePool and requirement set whose pods no hostname topology counts, cheapest
    /// first, into one larger instance type whenever that costs less than the NodeClaims it replaces. Under NodePool
    /// limits the merged NodeClaim holds the reservations of those it replaces, so it may take any instance type within
    /// their sum: a NodeClaim opened when an earlier one had reserved most of the limit is narrowed to small types,
    /// and intersecting that narrowed mask would keep every merge out of the larger types.
    /// </summary>
    private bool Merge()
    {
        var improved = false;
        var groups = _bins.Where(b => !b.Existing && b.Pods.Count > 0 && b.Pods.All(p => !p.Shape.TouchesHostname))
            .GroupBy(b => (b.Template!.Index, b.ReqId));
        foreach (var group in groups)
        {
            var claims = group.OrderBy(b => b.Template!.Prices[b.Cur]).ThenBy(b => b.Id).ToList();
            var template = claims[0].Template!;
            var i = 0;
            while (i < claims.Count - 1 && !OutOfBudget)
            {
                var host = claims[i];
                var mask = host.Mask;
                var allowed = template.MaskWithoutLimits(host);
                var reserved = host.Reserved;
                var used = host.Used;
                var cost = template.Prices[host.Cur];
                var taken = new List<Bin>();
                var cur = host.Cur;
                for (var j = i + 1; j < claims.Count && !OutOfBudget; j++)
                {
                    _work++;
                    var other = claims[j];
                    var both = (ulong[])allowed.Clone();
                    var otherAllowed = template.MaskWithoutLimits(other);
                    for (var w = 0; w < both.Length; w++)
                    {
                        both[w] &= otherAllowed[w];
                    }

                    var merged = template.WithinReserved(both, reserved + other.Reserved);
                    var t = template.Cheapest(merged, used + other.Used, 0);
                    if (t < 0 || HostPortsClash(host, taken, other))
                    {
                        continue;
                    }

                    var newCost = template.Prices[t];
                    if (newCost < cost + template.Prices[other.Cur])
                    {
                        (mask, allowed, reserved, used, cost, cur) = (merged, both, reserved + other.Reserved, used + other.Used, newCost, t);
                        taken.Add(other);
                    }
                }

                if (taken.Count > 0)
                {
                    host.Reserved = reserved;
                    foreach (var other in taken)
                    {
                        other.Reserved = default;
                        foreach (var pod in other.Pods.ToList())
                        {
                            Remove(other, pod);
                            host.Mask = mask;
                            var plan = new Plan();
                            plan.Set(host.ReqId, mask, cur, 0);
                            Commit(host, pod, plan);
                        }

                        claims.Remove(other);
                    }

                    improved = true;
                }

                i++;
            }
        }

        return improved;
    }

    private static bool HostPortsClash(Bin host, List<Bin> taken, Bin other) =>
        other.Ports.Any(p => host.Ports.Concat(taken.SelectMany(b => b.Ports)).Any(p.ConflictsWith));

    /// <summary>
    /// Shrinks planned NodeClaims onto cheaper instance types, those closest to one first: for each, the cheaper type
    /// that needs the least taken out, then the pods that cover that need with the least overshoot, each moved into
    /// the free room of another NodeClaim without making it larger. Undone unless the NodeClaim gets cheaper (or
    /// empty, when no cheaper type is left).
    /// </summary>
    private bool Shrink()
    {
        var improved = false;
        var candidates = new List<(double Need, int Target, Bin Bin)>();
        foreach (var bin in _bins)
        {
            if (!bin.Existing && bin.Pods.Count > 0)
            {
                var (target, need) = ShrinkTarget(bin);
                candidates.Add((need, target, bin));
            }
        }

        candidates.Sort((a, b) => a.Need != b.Need ? a.Need.CompareTo(b.Need) : a.Bin.Id.CompareTo(b.Bin.Id));
        var tried = new HashSet<PodState>();
        foreach (var (_, target, claim) in candidates)
        {
            if (OutOfBudget)
            {
                break;
            }

            if (claim.Pods.Count == 0)
            {
                continue;
            }

            var template = claim.Template!;
            var before = template.Prices[claim.Cur];
            var goal = target >= 0 ? template.Avail[target] : default;
            var moves = new List<(PodState Pod, Bin To)>();
            tried.Clear();
            while (claim.Pods.Count > 0 && !(target >= 0 && claim.Used.FitsIn(goal)) && !OutOfBudget)
            {
                var pod = NextToMove(claim, goal, target >= 0, tried);
                if (pod is null)
                {
                    break;
                }

                tried.Add(pod);
                if (TryMove(pod, claim) is { } to)
                {
                    moves.Add((pod, to));
                }
            }

            var after = claim.Pods.Count == 0 ? 0 : template.Prices[claim.Cur];
            if (after < before)
            {
                improved = true;
                continue;
            }

            foreach (var (pod, to) in Enumerable.Reverse(moves))
            {
                Remove(to, pod);
                CommitBack(claim, pod);
            }
        }

        return improved;
    }

    /// <summary>
    /// The cheaper instance type of the NodeClaim's set that needs the least taken out (in fractions of its current
    /// room, summed over CPU, memory and pod slots), and that need; -1 and the whole load when none is cheaper.
    /// </summary>
    private static (int Target, double Need) ShrinkTarget(Bin bin)
    {
        var template = bin.Template!;
        var price = template.Prices[bin.Cur];
        var room = template.Avail[bin.Cur];
        var best = -1;
        var bestNeed = double.MaxValue;
        for (var t = bin.Cur - 1; t >= 0; t--)
        {
            if ((bin.Mask[t >> 6] & (1UL << (t & 63))) == 0 || template.Prices[t] >= price)
            {
                continue;
            }

            var need = Need(bin.Used, template.Avail[t], room);
            if (need < bestNeed)
            {
                (best, bestNeed) = (t, need);
            }
        }

        return best >= 0 ? (best, bestNeed) : (-1, Need(bin.Used, default, room));
    }

    private static double Need(Resources used, Resources goal, Resources room) =>
        (Math.Max(0, used.CpuMilli - goal.CpuMilli) / (double)Math.Max(1, room.CpuMilli)) +
        (Math.Max(0, used.Memory - goal.Memory) / (double)Math.Max(1, room.Memory)) +
        (Math.Max(0, used.Pods - goal.Pods) / (double)Math.Max(1, room.Pods));

    /// <summary>
    /// The untried pod whose removal best covers what still has to leave for <paramref name="goal"/>, penalising what it
    /// takes beyond that (it uses up other NodeClaims' free room); every pod in turn when the NodeClaim is to be emptied.
    /// </summary>
    private static PodState? NextToMove(Bin claim, Resources goal, bool shrinking, HashSet<PodState> tried)
    {
        var room = claim.Template!.Avail[claim.Cur];
        PodState? best = null;
        var bestScore = double.MinValue;
        foreach (var pod in claim.Pods)
        {
            if (tried.Contains(pod))
            {
                continue;
            }

            double score;
            if (shrinking)
            {
                var r = pod.Requests;
                var needCpu = Math.Max(0, claim.Used.CpuMilli - goal.CpuMilli);
                var needMem = Math.Max(0, claim.Used.Memory - goal.Memory);
                var needPods = Math.Max(0, claim.Used.Pods - goal.Pods);
                var covered = (Math.Min(r.CpuMilli, needCpu) / (double)Math.Max(1, room.CpuMilli)) +
                              (Math.Min(r.Memory, needMem) / (double)Math.Max(1, room.Memory)) +
                              (Math.Min(r.Pods, needPods) / (double)Math.Max(1, room.Pods));
                var over = (Math.Max(0, r.CpuMilli - needCpu) / (double)Math.Max(1, room.CpuMilli)) +
                           (Math.Max(0, r.Memory - needMem) / (double)Math.Max(1, room.Memory));
                score = covered - (0.5 * over);
            }
            else
            {
                score = (pod.Requests.CpuMilli / (double)Math.Max(1, room.CpuMilli)) + (pod.Requests.Memory / (double)Math.Max(1, room.Memory));
            }

            if (score > bestScore)
            {
                (best, bestScore) = (pod, score);
            }
        }

        return best;
    }

    /// <summary>Moves <paramref name="pod"/> out of <paramref name="from"/> into the tightest NodeClaim that takes it for free.</summary>
    private Bin? TryMove(PodState pod, Bin from)
    {
        var plan = new Plan();
        Remove(from, pod);
        Bin? best = null;
        var bestPlan = new Plan();
        var visited = 0;
        foreach (var id in _slack.WithRoomFor(pod.Requests))
        {
            if (++visited > MaxVisited || OutOfBudget)
            {
                break;
            }

            _work++;
            var to = _bins[id];
            if (to == from || to.Pods.Count == 0 || !SameDomains(pod, from, to) || !HostnameCountsAllow(pod, from, to))
            {
                continue;
            }

            if (CanAdd(to, pod, plan) is null && plan.Delta == 0 && plan.ReqId == to.ReqId)
            {
                best = to;
                bestPlan.CopyFrom(plan);
                break;
            }
        }

        if (best is not null)
        {
            Commit(best, pod, bestPlan);
            return best;
        }

        CommitBack(from, pod);
        return null;
    }

    /// <summary>
    /// Exchanges pods between planned NodeClaims of one NodePool and requirement set where one is full in CPU with
    /// memory to spare and the other the reverse (the greedy pass leaves such pairs among its largest NodeClaims), the
    /// most wasteful first, so that both can shrink onto cheaper instance types. Kept only when the pair costs less.
    /// </summary>
    private bool Rebalance()
    {
        var improved = false;
        var groups = _bins.Where(b => !b.Existing && b.Pods.Count > 1).GroupBy(b => (b.Template!.Index, b.ReqId));
        foreach (var group in groups)
        {
            var cpuBound = new List<(decimal Waste, Bin Bin)>();
            var memoryBound = new List<(decimal Waste, Bin Bin)>();
            foreach (var bin in group)
            {
                var lean = Lean(bin);
                var waste = bin.Template!.Prices[bin.Cur] * (decimal)Math.Abs(lean);
                if (lean > MinLean)
                {
                    cpuBound.Add((waste, bin));
                }
                else if (lean < -MinLean)
                {
                    memoryBound.Add((waste, bin));
                }
            }

            cpuBound.Sort(ByWaste);
            memoryBound.Sort(ByWaste);
            // The most wasteful of each side together; a NodeClaim still lopsided after its partner is used up meets the next.
            for (int i = 0, j = 0; i < cpuBound.Count && j < memoryBound.Count && !OutOfBudget;)
            {
                var (a, b) = (cpuBound[i].Bin, memoryBound[j].Bin);
                improved |= Balance(a, b);
                var aDone = Lean(a) <= MinLean;
                var bDone = Lean(b) >= -MinLean;
                i += aDone || !bDone ? 1 : 0;
                j += bDone || !aDone ? 1 : 0;
            }
        }

        return improved;

        static int ByWaste((decimal Waste, Bin Bin) x, (decimal Waste, Bin Bin) y) => x.Waste != y.Waste ? y.Waste.CompareTo(x.Waste) : x.Bin.Id.CompareTo(y.Bin.Id);
    }

    private const double MinLean = 0.05;
    private const int SwapCandidates = 8;

    /// <summary>How much fuller in CPU than in memory a NodeClaim is on its current instance type (negative: the reverse).</summary>
    private static double Lean(Bin bin)
    {
        var room = bin.Template!.Avail[bin.Cur];
        return (bin.Used.CpuMilli / (double)Math.Max(1, room.CpuMilli)) - (bin.Used.Memory / (double)Math.Max(1, room.Memory));
    }

    /// <summary>What a NodeClaim would cost if its instance type could shrink to exactly its larger need (CPU or memory).</summary>
    private static double ExactCost(Bin bin, Resources used)
    {
        var room = bin.Template!.Avail[bin.Cur];
        return (double)bin.Template.Prices[bin.Cur] * Math.Max(used.CpuMilli / (double)Math.Max(1, room.CpuMilli), used.Memory / (double)Math.Max(1, room.Memory));
    }

    /// <summary>
    /// Swaps a CPU-heavy pod of <paramref name="cpuBound"/> for a memory-heavy pod of <paramref name="memoryBound"/>, the
    /// pair among the most lopsided few that lowers the cost both would have if shrunk to fit exactly, until no swap
    /// helps; a pod that cannot cross (<see cref="Accepts"/>) gives way to the next most lopsided. Undone unless the two
    /// cost less at the end.
    /// </summary>
    private bool Balance(Bin cpuBound, Bin memoryBound)
    {
        var (a, b) = (cpuBound, memoryBound);
        var template = a.Template!;
        var before = template.Prices[a.Cur] + template.Prices[b.Cur];
        var swaps = new List<(PodState FromA, PodState FromB)>();
        var banned = new HashSet<PodState>();
        while (!OutOfBudget && Lean(a) > 0 && Lean(b) < 0)
        {
            _work += 1 + ((a.Pods.Count + b.Pods.Count) >> 6);
            var roomA = template.Avail[a.Cur];
            var roomB = template.Avail[b.Cur];
            var fromA = Lopsided(a, roomA, cpuHeavy: true, banned);
            var fromB = Lopsided(b, roomB, cpuHeavy: false, banned);
            var current = ExactCost(a, a.Used) + ExactCost(b, b.Used);
            (PodState P, PodState Q)? best = null;
            var bestNeed = current * (1 - 1e-9);
            foreach (var p in fromA)
            {
                foreach (var q in fromB)
                {
                    var usedA = a.Used - p.Requests + q.Requests;
                    var usedB = b.Used - q.Requests + p.Requests;
                    if (!usedA.FitsIn(roomA) || !usedB.FitsIn(roomB))
                    {
                        continue;
                    }

                    var need = ExactCost(a, usedA) + ExactCost(b, usedB);
                    if (need < bestNeed)
                    {
                        (best, bestNeed) = ((p, q), need);
                    }
                }
            }

            if (best is not { } swap)
            {
                break;
            }

            if (TrySwap(swap.P, a, swap.Q, b) is { } refused)
            {
                banned.Add(refused); // that pod cannot cross; the next most lopsided ones are tried
            }
            else
            {
                swaps.Add(swap);
            }
        }

        if (template.Prices[a.Cur] + template.Prices[b.Cur] < before)
        {
            return true;
        }

        foreach (var (p, q) in Enumerable.Reverse(swaps))
        {
            Remove(b, p);
            Remove(a, q);
            CommitBack(a, p);
            CommitBack(b, q);
        }

        return false;
    }

    /// <summary>The <see cref="SwapCandidates"/> pods of <paramref name="bin"/> whose requests lean most to CPU (or memory).</summary>
    private static List<PodState> Lopsided(Bin bin, Resources room, bool cpuHeavy, HashSet<PodState> banned)
    {
        var top = new List<(double Score, PodState Pod)>(SwapCandidates + 1);
        foreach (var pod in bin.Pods)
        {
            var lean = (pod.Requests.CpuMilli / (double)Math.Max(1, room.CpuMilli)) - (pod.Requests.Memory / (double)Math.Max(1, room.Memory));
            var score = cpuHeavy ? lean : -lean;
            if (score <= 0 || (top.Count == SwapCandidates && !Ahead(score, pod, top[^1])) || banned.Contains(pod))
            {
                continue;
            }

            var at = top.Count;
            while (at > 0 && Ahead(score, pod, top[at - 1]))
            {
                at--;
            }

            top.Insert(at, (score, pod));
            if (top.Count > SwapCandidates)
            {
                top.RemoveAt(SwapCandidates);
            }
        }

        return [.. top.Select(t => t.Pod)];

        static bool Ahead(double score, PodState pod, (double Score, PodState Pod) other) =>
            score != other.Score ? score > other.Score : PodState.Order(pod, other.Pod) < 0;
    }

    /// <summary>
    /// Moves <paramref name="p"/> from <paramref name="a"/> to <paramref name="b"/> and <paramref name="q"/> the other
    /// way, neither NodeClaim growing; or leaves both as they were and returns the pod that could not cross.
    /// </summary>
    private PodState? TrySwap(PodState p, Bin a, PodState q, Bin b)
    {
        var (curA, curB) = (a.Cur, b.Cur);
        Remove(a, p);
        Remove(b, q);
        var toB = new Plan();
        var toA = new Plan();
        _work += 2;
        PodState refused = p;
        if (Accepts(b, p, a, curB, toB))
        {
            Commit(b, p, toB);
            if (Accepts(a, q, b, curA, toA))
            {
                Commit(a, q, toA);
                return null;
            }

            refused = q;
            Remove(b, p);
        }

        CommitBack(a, p);
        CommitBack(b, q);
        return refused;
    }

    /// <summary>
    /// Whether <paramref name="to"/>, with the requirements of the NodeClaim <paramref name="pod"/> just left, takes it
    /// without costing more than type <paramref name="cur"/>. Every domain other than the hostname is the same on both,
    /// so no zone count changes and only the per-node rules are checked: hostname spread as the greedy pass checks it
    /// (the selected pods before the pod in the queue) and, for the owners already there, as <see cref="HostnameCountsAllow"/>
    /// does; hostname (anti-)affinity both ways; host ports; and an instance type of the set that still holds it all.
    /// </summary>
    private bool Accepts(Bin to, PodState pod, Bin from, int cur, Plan plan)
    {
        var shape = pod.Shape;
        if (to.ReqId != from.ReqId || Merge(to, shape) is not (var reqId, null) || reqId != to.ReqId || !HostnameCountsAllow(pod, from, to))
        {
            return false;
        }

        foreach (var (group, self) in shape.Owned)
        {
            if (!group.IsHostname)
            {
                continue;
            }

            var ok = group.Type switch
            {
                TopologyType.Spread => SelectedBefore(pod, group, to) + (self ? 1 : 0) <= group.MaxSkew,
                TopologyType.Affinity => group.BinCount(to.Id) > 0 || (group.Total == 0 && self),
                _ => group.BinCount(to.Id) == 0,
            };
            if (!ok)
            {
                return false;
            }
        }

        foreach (var group in shape.InverseSelecting)
        {
            if (group.IsHostname && group.BinCount(to.Id) > 0)
            {
                return false;
            }
        }

        foreach (var port in pod.Constraints.HostPorts)
        {
            if (to.Ports.Any(port.ConflictsWith))
            {
                return false;
            }
        }

        return to.Template!.Fit(to, shape, reqId, to.Used + pod.Requests, plan) is null && plan.ReqId == to.ReqId &&
               to.Template.Prices[plan.Cur] <= to.Template.Prices[cur];
    }

    /// <summary>The pods on <paramref name="bin"/> that <paramref name="group"/> selects and that come before <paramref name="pod"/> in the queue.</summary>
    private static int SelectedBefore(PodState pod, TopologyGroup group, Bin bin)
    {
        var all = group.BinCount(bin.Id);
        if (all == 0)
        {
            return 0;
        }

        var n = 0;
        foreach (var other in bin.Pods)
        {
            if (PodState.Order(other, pod) < 0 && other.Shape.SelectedBy.Contains(group))
            {
                n++;
            }
        }

        return Math.Min(n, all);
    }

    /// <summary>
    /// Puts a pod back on the planned NodeClaim it was just taken from, which then costs what the cheapest type of its
    /// set that holds everything again costs. The pod may fail a fresh check there (a hostname spread it owns now counts
    /// the pods that joined after it), so it goes back as it was placed; <see cref="Remove"/> shrank the NodeClaim's
    /// type without it, and keeping that type would leave its price and free room understated (a NodeClaim that only
    /// looked cheaper made <see cref="Shrink"/> report a saving it had not made).
    /// </summary>
    private void CommitBack(Bin bin, PodState pod)
    {
        var back = new Plan();
        if (CanAdd(bin, pod, back) is not null)
        {
            back.Set(bin.ReqId, bin.Mask, bin.Template!.Cheapest(bin.Mask, bin.Used + pod.Requests, 0), 0);
        }

        Commit(bin, pod, back);
    }

    /// <summary>
    /// The placeholder hostnames of planned NodeClaims whose current type is not the cheapest of their set that holds
    /// their pods: the improvement step prices and fills NodeClaims by that type, so this is empty after a sound run.
    /// </summary>
    internal IEnumerable<string> MisSizedClaims() =>
        _bins.Where(b => !b.Existing && b.Pods.Count > 0 && b.Cur != b.Template!.Cheapest(b.Mask, b.Used, 0)).Select(b => b.Hostname);

    /// <summary>
    /// Every pod on <paramref name="bin"/> that owns hostname spread <paramref name="group"/> and comes after
    /// <paramref name="pod"/> in the queue still has, counting the pod, at most maxSkew selected pods before it and itself.
    /// </summary>
    private static bool SpreadOwnersAfterAllow(PodState pod, TopologyGroup group, Bin bin)
    {
        if (group.BinCount(bin.Id) + 1 <= group.MaxSkew)
        {
            return true; // even counting every selected pod there, any owner is within its skew
        }

        foreach (var owner in bin.Pods)
        {
            if (!owner.Shape.Owns(group) || PodState.Order(pod, owner) >= 0)
            {
                continue;
            }

            var count = 1 + (owner.Shape.SelectedBy.Contains(group) ? 1 : 0);
            foreach (var other in bin.Pods)
            {
                if (other != owner && PodState.Order(other, owner) < 0 && other.Shape.SelectedBy.Contains(group))
                {
                    count++;
                }
            }

            if (count > group.MaxSkew)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The pod's non-hostname topology keys resolve to the same domains on both nodes, so no zone count changes.</summary>
    private bool SameDomains(PodState pod, Bin from, Bin to)
    {
        var a = _reqs[from.ReqId];
        var b = _reqs[to.ReqId];
        foreach (var key in pod.Shape.TopologyKeys)
        {
            if (!a.Get(key).Equals(b.Get(key)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The pods already on <paramref name="to"/> keep their hostname spread, and those left on <paramref name="from"/>
    /// keep the pod their hostname affinity needs (the pod has already been taken out of <paramref name="from"/>).
    /// The spread rule is the greedy pass's, which checks a pod that owns a spread constraint against the pods placed
    /// before it (kube-scheduler's skew on a hostname, whose global minimum a new node keeps at zero) and lets pods it
    /// merely selects join later: binding in queue order replays that. So the moved pod must fit the count of every
    /// owner on <paramref name="to"/> that comes after it in the queue; owners before it never see it.
    /// </summary>
    private static bool HostnameCountsAllow(PodState pod, Bin from, Bin to)
    {
        foreach (var group in pod.Shape.SelectedBy)
        {
            if (!group.IsHostname)
            {
                continue;
            }

            if (group.Type == TopologyType.Spread && !SpreadOwnersAfterAllow(pod, group, to))
            {
                return false;
            }

            if (group.Type == TopologyType.Affinity && group.BinCount(from.Id) == 0 && from.Pods.Any(p => p.Shape.Owns(group)))
            {
                return false;
            }

            if (group.Type == TopologyType.AntiAffinity && to.Pods.Any(p => p.Shape.Owns(group)))
            {
                return false;
            }
        }

        return true;
    }
}
