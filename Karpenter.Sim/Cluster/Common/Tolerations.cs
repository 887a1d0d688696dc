using k8s.Models;

namespace Karpenter.Sim.Cluster.Common;

/// <summary>Taint and toleration matching (<c>v1helper.TolerationsTolerateTaint</c>).</summary>
public static class Tolerations
{
    /// <summary>Whether one toleration tolerates the taint: same effect (or any), same key (or any with Exists), same value for Equal.</summary>
    public static bool Tolerates(V1Toleration toleration, V1Taint taint)
    {
        ArgumentNullException.ThrowIfNull(toleration);
        ArgumentNullException.ThrowIfNull(taint);
        if (!string.IsNullOrEmpty(toleration.Effect) && toleration.Effect != taint.Effect)
        {
            return false;
        }

        if (!string.IsNullOrEmpty(toleration.Key) && toleration.Key != taint.Key)
        {
            return false;
        }

        return toleration.OperatorProperty switch
        {
            "Exists" => true,
            null or "" or "Equal" => (toleration.Value ?? string.Empty) == (taint.Value ?? string.Empty),
            _ => false,
        };
    }

    public static bool Tolerates(IEnumerable<V1Toleration>? tolerations, V1Taint taint) =>
        tolerations?.Any(t => Tolerates(t, taint)) == true;

    /// <summary>The first taint with one of <paramref name="effects"/> that the tolerations do not tolerate, or null.</summary>
    public static V1Taint? FirstUntolerated(IEnumerable<V1Taint>? taints, IList<V1Toleration>? tolerations, params string[] effects) =>
        taints?.FirstOrDefault(t => effects.Contains(t.Effect) && !Tolerates(tolerations, t));
}
