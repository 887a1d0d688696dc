using Karpenter.Core.CloudProvider;

namespace Karpenter.Tests.Support;

/// <summary>
/// The cheapest multiset of whole nodes holding given counts of pod kinds, by brute force (a memoised dynamic program
/// over the counts still to place, one node at a time), for checking lower bounds on small instances. Exclusive kinds
/// go at most one per node (hostname anti-affinity among themselves).
/// </summary>
internal sealed class ExactPacking(IReadOnlyList<InstanceType> types, Func<InstanceType, double> price, IReadOnlyList<(int Cpu, int Mem, bool Exclusive)> kinds)
{
    private readonly Dictionary<string, double> _memo = new(StringComparer.Ordinal);

    /// <summary>The cheapest price of nodes holding <paramref name="counts"/> pods of each kind (infinity when they cannot be held).</summary>
    public double Cheapest(int[] counts)
    {
        if (counts.All(n => n == 0))
        {
            return 0;
        }

        var key = string.Join(",", counts);
        if (_memo.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var best = double.PositiveInfinity;
        foreach (var type in types)
        {
            var avail = type.Allocatable;
            foreach (var take in Takes(counts, 0))
            {
                if (take.All(k => k == 0))
                {
                    continue;
                }

                long cpu = 0, mem = 0, pods = 0;
                for (var i = 0; i < kinds.Count; i++)
                {
                    cpu += (long)kinds[i].Cpu * take[i];
                    mem += ((long)kinds[i].Mem << 20) * take[i];
                    pods += take[i];
                }

                if (cpu <= avail.CpuMilli && mem <= avail.Memory && pods <= avail.Pods)
                {
                    best = Math.Min(best, price(type) + Cheapest([.. counts.Zip(take, (l, k) => l - k)]));
                }
            }
        }

        _memo[key] = best;
        return best;
    }

    /// <summary>Every way one node can take some of the pods left (at most one of each exclusive kind).</summary>
    private IEnumerable<int[]> Takes(int[] left, int i)
    {
        if (i == left.Length)
        {
            yield return new int[left.Length];
            yield break;
        }

        var max = kinds[i].Exclusive ? Math.Min(1, left[i]) : left[i];
        foreach (var rest in Takes(left, i + 1))
        {
            for (var k = 0; k <= max; k++)
            {
                var p = (int[])rest.Clone();
                p[i] = k;
                yield return p;
            }
        }
    }
}
