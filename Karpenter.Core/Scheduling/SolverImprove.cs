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
            improved = Merge() | Shrink();
        }
    }

    /// <summary>
    /// Merges planned NodeClaims of one NodePool and requirement set whose pods no hostname topology counts, cheapest
    /// first, into one larger instance type whenever that costs less than the NodeClaims it replaces.
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
                var mask = (ulong[])host.Mask.Clone();
                var used = host.Used;
                var cost = template.Prices[host.Cur];
                var taken = new List<Bin>();
                var cur = host.Cur;
                for (var j = i + 1; j < claims.Count && !OutOfBudget; j++)
                {
                    _work++;
                    var other = claims[j];
                    var merged = (ulong[])mask.Clone();
                    for (var w = 0; w < merged.Length; w++)
                    {
                        merged[w] &= other.Mask[w];
                    }

                    var t = template.Cheapest(merged, used + other.Used, 0);
                    if (t < 0 || HostPortsClash(host, taken, other))
                    {
                        continue;
                    }

                    var newCost = template.Prices[t];
                    if (newCost < cost + template.Prices[other.Cur])
                    {
                        (mask, used, cost, cur) = (merged, used + other.Used, newCost, t);
                        taken.Add(other);
                    }
                }

                if (taken.Count > 0)
                {
                    foreach (var other in taken)
                    {
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
                var back = new Plan();
                if (CanAdd(claim, pod, back) is not null)
                {
                    back.Set(claim.ReqId, claim.Mask, claim.Cur, 0);
                }

                Commit(claim, pod, back);
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

        var back = new Plan();
        if (CanAdd(from, pod, back) is not null)
        {
            back.Set(from.ReqId, from.Mask, from.Cur, 0);
        }

        Commit(from, pod, back);
        return null;
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
    /// </summary>
    private static bool HostnameCountsAllow(PodState pod, Bin from, Bin to)
    {
        foreach (var group in pod.Shape.SelectedBy)
        {
            if (!group.IsHostname)
            {
                continue;
            }

            if (group.Type == TopologyType.Spread && to.Pods.Any(p => p.Shape.Owns(group)) && group.BinCount(to.Id) + 1 > group.MaxSkew)
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
