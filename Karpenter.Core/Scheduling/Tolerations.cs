using k8s.Models;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Scheduling;

/// <summary>Taint toleration as kube-scheduler's TaintToleration filter decides it.</summary>
public static class Tolerations
{
    /// <summary>True when <paramref name="toleration"/> tolerates <paramref name="taint"/> (v1.Toleration.ToleratesTaint).</summary>
    public static bool Tolerates(V1Toleration toleration, V1Taint taint)
    {
        ArgumentNullException.ThrowIfNull(toleration);
        ArgumentNullException.ThrowIfNull(taint);
        if (!string.IsNullOrEmpty(toleration.Effect) && !string.Equals(toleration.Effect, taint.Effect, StringComparison.Ordinal))
        {
            return false;
        }

        if (!string.IsNullOrEmpty(toleration.Key) && !string.Equals(toleration.Key, taint.Key, StringComparison.Ordinal))
        {
            return false;
        }

        return toleration.OperatorProperty switch
        {
            null or "" or "Equal" => string.Equals(toleration.Value ?? string.Empty, taint.Value ?? string.Empty, StringComparison.Ordinal),
            "Exists" => true,
            _ => false,
        };
    }

    /// <summary>
    /// Null when the pod tolerates every scheduling-relevant taint, else the first it does not. NoSchedule and NoExecute
    /// taints always count; PreferNoSchedule taints count unless <paramref name="ignorePreferNoSchedule"/> (Karpenter
    /// treats them as hard until preference relaxation gives them up).
    /// </summary>
    public static V1Taint? FirstUntolerated(IEnumerable<V1Taint>? taints, IList<V1Toleration>? tolerations, bool ignorePreferNoSchedule = false)
    {
        foreach (var taint in taints ?? [])
        {
            if (ignorePreferNoSchedule && string.Equals(taint.Effect, Taints.EffectPreferNoSchedule, StringComparison.Ordinal))
            {
                continue;
            }

            var tolerated = false;
            foreach (var t in tolerations ?? [])
            {
                if (Tolerates(t, taint))
                {
                    tolerated = true;
                    break;
                }
            }

            if (!tolerated)
            {
                return taint;
            }
        }

        return null;
    }

    public static string Describe(V1Taint taint) => $"{taint.Key}{(string.IsNullOrEmpty(taint.Value) ? string.Empty : "=" + taint.Value)}:{taint.Effect}";
}
