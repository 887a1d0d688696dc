using System.Globalization;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>The kubelet command-line arguments the AL2 bootstrap script and the Windows bootstrap take (upstream <c>bootstrap.go</c>).</summary>
internal static class KubeletArgs
{
    /// <summary>The taints to register with: the NodeClaim's taints and startup taints, plus <c>karpenter.sh/unregistered:NoExecute</c>.</summary>
    public static IReadOnlyList<NodeTaint> WithUnregistered(IReadOnlyList<NodeTaint> taints)
    {
        if (taints.Any(t => t.Key == Karpenter.Entities.WellKnown.Taints.UnregisteredKey
            && t.Effect == Karpenter.Entities.WellKnown.Taints.EffectNoExecute))
        {
            return taints;
        }
        return [.. taints, new NodeTaint(Karpenter.Entities.WellKnown.Taints.UnregisteredKey, null,
            Karpenter.Entities.WellKnown.Taints.EffectNoExecute)];
    }

    public static string? NodeLabels(IReadOnlyDictionary<string, string> labels) =>
        labels.Count == 0
            ? null
            : "--node-labels=" + GoFormat.Quote(string.Join(',', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));

    public static List<string> Build(BootstrapOptions options)
    {
        var k = options.Kubelet;
        var args = new List<string?>
        {
            NodeLabels(options.Labels),
            "--register-with-taints=" + GoFormat.Quote(string.Join(',', WithUnregistered(options.Taints).Select(t => t.ToString()))),
        };
        if (k.MaxPods is { } maxPods)
        {
            args.Add($"--max-pods={maxPods.ToString(CultureInfo.InvariantCulture)}");
        }
        if (k.PodsPerCore is { } podsPerCore)
        {
            args.Add($"--pods-per-core={podsPerCore.ToString(CultureInfo.InvariantCulture)}");
        }
        args.Add(Join("--system-reserved", k.SystemReserved, "="));
        args.Add(Join("--kube-reserved", k.KubeReserved, "="));
        args.Add(Join("--eviction-hard", k.EvictionHard, "<"));
        args.Add(Join("--eviction-soft", k.EvictionSoft, "<"));
        args.Add(Join("--eviction-soft-grace-period",
            k.EvictionSoftGracePeriod?.ToDictionary(p => p.Key, p => GoFormat.NormalizeDuration(p.Value)), "="));
        if (k.EvictionMaxPodGracePeriod is { } grace)
        {
            args.Add($"--eviction-max-pod-grace-period={grace.ToString(CultureInfo.InvariantCulture)}");
        }
        if (k.ImageGcHighThresholdPercent is { } high)
        {
            args.Add($"--image-gc-high-threshold={high.ToString(CultureInfo.InvariantCulture)}");
        }
        if (k.ImageGcLowThresholdPercent is { } low)
        {
            args.Add($"--image-gc-low-threshold={low.ToString(CultureInfo.InvariantCulture)}");
        }
        if (k.CpuCfsQuota is { } quota)
        {
            args.Add($"--cpu-cfs-quota={(quota ? "true" : "false")}");
        }
        return [.. args.OfType<string>()];
    }

    /// <summary>
    /// <c>--name="k1&lt;sep&gt;v1,k2&lt;sep&gt;v2"</c>. Upstream iterates a Go map (random order); the keys are sorted here so the
    /// same NodeClass always renders the same user data and so the same launch template.
    /// </summary>
    private static string? Join(string name, IReadOnlyDictionary<string, string>? values, string separator) =>
        values is null || values.Count == 0
            ? null
            : $"{name}={GoFormat.Quote(string.Join(',', values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}{separator}{v.Value}")))}";
}
