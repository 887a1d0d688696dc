namespace Karpenter.Core.Scheduling;

/// <summary>
/// The packing-improvement step: local moves after the greedy pass, within <see cref="SchedulingOptions.ImprovementBudget"/>.
/// Every move either lowers the total price or is undone, so the result is never worse than greedy; every move is
/// checked as a fresh placement would be, plus the constraints of the pods it leaves and joins.
/// </summary>
internal sealed partial class Solver
{
    private long _improveStart;

    private bool OutOfTime => _time.GetElapsedTime(_improveStart) > _options.ImprovementBudget || _cancellation.IsCancellationRequested;

    private void Improve()
    {
        if (_options.ImprovementBudget <= TimeSpan.Zero)
        {
            return;
        }

        _improveStart = _time.GetTimestamp();
        var improved = true;
        while (improved && !OutOfTime)
        {
            improved = Merge() | Downsize();
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
            var claims = group.OrderBy(b => b.Template!.Prices[b.Cur]).ToList();
            var template = claims[0].Template!;
            var i = 0;
            while (i < claims.Count - 1 && !OutOfTime)
            {
                var host = claims[i];
                var mask = (ulong[])host.Mask.Clone();
                var used = host.Used;
                var cost = template.Prices[host.Cur];
                var taken = new List<Bin>();
                var cur = host.Cur;
                for (var j = i + 1; j < claims.Count; j++)
                {
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
    /// For each planned NodeClaim, from the most wasteful, moves pods into the free room of other NodeClaims (without
    /// making those larger) until it fits a cheaper instance type, or empties it; undone unless it gets cheaper.
    /// </summary>
    private bool Downsize()
    {
        var improved = false;
        var claims = _bins.Where(b => !b.Existing && b.Pods.Count > 0)
            .OrderByDescending(b => Waste(b))
            .ToList();
        foreach (var claim in claims)
        {
            if (OutOfTime)
            {
                break;
            }

            if (claim.Pods.Count == 0)
            {
                continue;
            }

            var template = claim.Template!;
            var before = template.Prices[claim.Cur];
            var target = CheaperType(claim);
            var moves = new List<(PodState Pod, Bin To)>();
            foreach (var pod in claim.Pods.OrderByDescending(p => p.Requests.CpuMilli).ThenByDescending(p => p.Requests.Memory).ToList())
            {
                if (target >= 0 && claim.Used.FitsIn(template.Avail[target]))
                {
                    break;
                }

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

    private static double Waste(Bin bin)
    {
        var avail = bin.Template!.Avail[bin.Cur];
        return 1 - Math.Max(bin.Used.CpuMilli / (double)Math.Max(1, avail.CpuMilli), bin.Used.Memory / (double)Math.Max(1, avail.Memory));
    }

    /// <summary>The most expensive instance type of the NodeClaim's set that is cheaper than its current one, or -1.</summary>
    private static int CheaperType(Bin bin)
    {
        var price = bin.Template!.Prices[bin.Cur];
        for (var t = bin.Cur - 1; t >= 0; t--)
        {
            if ((bin.Mask[t >> 6] & (1UL << (t & 63))) != 0 && bin.Template.Prices[t] < price)
            {
                return t;
            }
        }

        return -1;
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
            if (++visited > MaxVisited)
            {
                break;
            }

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
