using System.Globalization;
using System.Text.RegularExpressions;
using k8s.Models;
using WellKnownLabels = Karpenter.Entities.WellKnown.Labels;
using WellKnownTaints = Karpenter.Entities.WellKnown.Taints;

namespace Karpenter.Sim.Cluster.Kubelet.Bootstrap;

/// <summary>
/// Kubelet settings as they accumulate from a bootstrap: the inline KubeletConfiguration first, then command-line
/// flags, which win (as they do for the real kubelet). Validates what the kubelet validates at start-up, so that
/// settings a real kubelet refuses make the simulated node fail to boot with the kubelet's message.
/// </summary>
internal sealed partial class KubeletSettings
{
    /// <summary>Labels the kubelet may set in the kubernetes.io and k8s.io namespaces (<c>kubeletapis.KubeletLabels</c>).</summary>
    private static readonly HashSet<string> AllowedKubeletLabels = new(StringComparer.Ordinal)
    {
        WellKnownLabels.Hostname, WellKnownLabels.TopologyZone, WellKnownLabels.TopologyRegion, WellKnownLabels.InstanceType,
        WellKnownLabels.Os, WellKnownLabels.Arch, WellKnownLabels.BetaZone, WellKnownLabels.BetaRegion,
        WellKnownLabels.BetaInstanceType, WellKnownLabels.BetaOs, WellKnownLabels.BetaArch,
    };

    private static readonly string[] AllowedKubeletLabelPrefixes = ["kubelet.kubernetes.io/", "node.kubernetes.io/"];

    public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);

    public List<V1Taint> Taints { get; private set; } = [];

    public int? MaxPods { get; set; }

    public int? PodsPerCore { get; set; }

    public Dictionary<string, string>? KubeReserved { get; set; }

    public Dictionary<string, string>? SystemReserved { get; set; }

    public Dictionary<string, string>? EvictionHard { get; set; }

    /// <summary>Applies kubelet command-line arguments (<c>--flag=value</c> or <c>--flag value</c>); unknown flags are ignored.</summary>
    public void ApplyFlags(IEnumerable<string> arguments)
    {
        var args = arguments.ToList();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                continue;
            }

            string name;
            string? value;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                name = arg[2..eq];
                value = arg[(eq + 1)..];
            }
            else
            {
                name = arg[2..];
                value = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            }

            ApplyFlag(name, value);
        }
    }

    /// <summary>Checks what the kubelet checks before it registers, and returns the result.</summary>
    public void Validate()
    {
        var restricted = Labels.Keys.Where(IsRestrictedKubeletLabel).Order(StringComparer.Ordinal).ToList();
        if (restricted.Count > 0)
        {
            throw new BootstrapException(
                $"kubelet: unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [{string.Join(" ", restricted)}]; " +
                "--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix (kubelet.kubernetes.io, node.kubernetes.io) " +
                "or be in the specifically allowed set (beta.kubernetes.io/arch, beta.kubernetes.io/instance-type, beta.kubernetes.io/os, " +
                "failure-domain.beta.kubernetes.io/region, failure-domain.beta.kubernetes.io/zone, kubernetes.io/arch, kubernetes.io/hostname, " +
                "kubernetes.io/os, node.kubernetes.io/instance-type, topology.kubernetes.io/region, topology.kubernetes.io/zone)");
        }

        if (MaxPods is < 0)
        {
            throw new BootstrapException($"kubelet: invalid configuration: maxPods ({MaxPods}) must not be a negative number");
        }

        if (PodsPerCore is < 0)
        {
            throw new BootstrapException($"kubelet: invalid configuration: podsPerCore ({PodsPerCore}) must not be a negative number");
        }
    }

    public void AddTaint(string key, string? value, string effect, string source)
    {
        if (!QualifiedName().IsMatch(key))
        {
            throw new BootstrapException($"kubelet: invalid taint key '{key}' in {source}: a qualified name must consist of alphanumeric characters, '-', '_' or '.'");
        }

        if (!string.IsNullOrEmpty(value) && !LabelValue().IsMatch(value))
        {
            throw new BootstrapException($"kubelet: invalid taint value '{value}' for key '{key}' in {source}");
        }

        if (effect is not (WellKnownTaints.EffectNoSchedule or WellKnownTaints.EffectPreferNoSchedule or WellKnownTaints.EffectNoExecute))
        {
            throw new BootstrapException($"kubelet: invalid taint effect '{effect}' for key '{key}' in {source}: must be NoSchedule, PreferNoSchedule or NoExecute");
        }

        Taints.Add(new V1Taint { Key = key, Value = string.IsNullOrEmpty(value) ? null : value, Effect = effect });
    }

    public void AddLabel(string key, string value, string source)
    {
        if (!QualifiedName().IsMatch(key) || key.Length > 316)
        {
            throw new BootstrapException($"kubelet: invalid node labels: invalid label key '{key}' in {source}");
        }

        if (!LabelValue().IsMatch(value))
        {
            throw new BootstrapException($"kubelet: invalid node labels: invalid label value '{value}' for key '{key}' in {source}: must be 63 characters or less, alphanumeric, '-', '_' or '.'");
        }

        Labels[key] = value;
    }

    public NodeBootstrapConfig ToConfig(BootstrapFormat format, string? clusterName, string? endpoint, string? certificateAuthority)
    {
        Validate();
        return new NodeBootstrapConfig
        {
            Format = format,
            ClusterName = clusterName,
            ApiServerEndpoint = endpoint,
            CertificateAuthority = certificateAuthority,
            Labels = new Dictionary<string, string>(Labels, StringComparer.Ordinal),
            Taints = [.. Taints],
            MaxPods = MaxPods,
            PodsPerCore = PodsPerCore,
            KubeReserved = KubeReserved,
            SystemReserved = SystemReserved,
            EvictionHard = EvictionHard,
        };
    }

    public static int ParseInt(string? value, string flag)
    {
        if (value is null || !int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            throw new BootstrapException($"kubelet: invalid argument \"{value}\" for \"--{flag}\" flag: strconv.ParseInt: parsing \"{value}\": invalid syntax");
        }

        return n;
    }

    private void ApplyFlag(string name, string? value)
    {
        switch (name)
        {
            case "node-labels":
                foreach (var (key, v) in Pairs(value, '=', name))
                {
                    AddLabel(key, v, "--node-labels");
                }

                break;
            case "register-with-taints":
                Taints = [];
                foreach (var item in Items(value))
                {
                    var colon = item.LastIndexOf(':');
                    if (colon <= 0)
                    {
                        throw new BootstrapException($"kubelet: invalid taint spec '{item}' in --register-with-taints: expected key[=value]:Effect");
                    }

                    var keyValue = item[..colon];
                    var eq = keyValue.IndexOf('=', StringComparison.Ordinal);
                    AddTaint(eq < 0 ? keyValue : keyValue[..eq], eq < 0 ? null : keyValue[(eq + 1)..], item[(colon + 1)..], "--register-with-taints");
                }

                break;
            case "max-pods":
                MaxPods = ParseInt(value, name);
                break;
            case "pods-per-core":
                PodsPerCore = ParseInt(value, name);
                break;
            case "kube-reserved":
                KubeReserved = Pairs(value, '=', name).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                break;
            case "system-reserved":
                SystemReserved = Pairs(value, '=', name).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                break;
            case "eviction-hard":
                EvictionHard = Pairs(value, '<', name).ToDictionary(p => p.Key, p => p.Value.TrimStart('='), StringComparer.Ordinal);
                break;
            default:
                break;
        }
    }

    private static string[] Items(string? value) =>
        (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IEnumerable<KeyValuePair<string, string>> Pairs(string? value, char separator, string flag)
    {
        foreach (var item in Items(value))
        {
            var at = item.IndexOf(separator, StringComparison.Ordinal);
            if (at <= 0)
            {
                throw new BootstrapException($"kubelet: invalid argument \"{value}\" for \"--{flag}\" flag: '{item}' is not of the form key{separator}value");
            }

            yield return new(item[..at].Trim(), item[(at + 1)..].Trim());
        }
    }

    private static bool IsRestrictedKubeletLabel(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return false;
        }

        var ns = key[..slash];
        var restricted = ns is "kubernetes.io" or "k8s.io" || ns.EndsWith(".kubernetes.io", StringComparison.Ordinal) || ns.EndsWith(".k8s.io", StringComparison.Ordinal);
        return restricted && !AllowedKubeletLabels.Contains(key) && !AllowedKubeletLabelPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));
    }

    [GeneratedRegex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex QualifiedName();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();
}
