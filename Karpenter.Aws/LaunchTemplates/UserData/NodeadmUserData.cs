using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>
/// AL2023 user data: a MIME archive whose last part is Karpenter's nodeadm <c>NodeConfig</c> (cluster details, the inline
/// kubelet configuration with <c>registerWithTaints</c>, and the node labels as a kubelet flag). The custom user data comes
/// first: a MIME archive keeps its parts, YAML becomes a NodeConfig part, anything else a shell-script part; nodeadm merges
/// the NodeConfigs in order.
/// </summary>
public sealed class NodeadmUserData : IUserDataRenderer
{
    public string Render(BootstrapOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var parts = new List<MimePart>(CustomParts(options.CustomUserData))
        {
            new(MimePart.NodeConfig, NodeConfigYaml(options)),
        };
        return MimeArchive.Serialize(parts, allHeaders: false);
    }

    internal static IReadOnlyList<MimePart> CustomParts(string? userData)
    {
        if (string.IsNullOrEmpty(userData))
        {
            return [];
        }
        if (MimeArchive.IsMime(userData))
        {
            return MimeArchive.Parse(userData);
        }
        return [new MimePart(IsYamlMap(userData) ? MimePart.NodeConfig : MimePart.ShellScript, userData)];
    }

    /// <summary>Upstream unmarshals the text into a map; only a YAML mapping passes (a script is a scalar or fails to parse).</summary>
    private static bool IsYamlMap(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode;
        }
        catch (YamlException)
        {
            return false;
        }
    }

    internal static string NodeConfigYaml(BootstrapOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ClusterCidr))
        {
            throw new UserDataException("resolving cluster CIDR: AL2023 (nodeadm) needs the cluster's Service CIDR; set CLUSTER_CIDR");
        }
        var cluster = YamlWriter.Map(("apiServerEndpoint", options.ClusterEndpoint), ("cidr", options.ClusterCidr), ("name", options.ClusterName));
        if (!string.IsNullOrEmpty(options.CaBundle))
        {
            // nodeadm's certificateAuthority is []byte, marshalled as base64: the bundle round-trips unchanged once valid.
            try
            {
                cluster["certificateAuthority"] = Convert.ToBase64String(Convert.FromBase64String(options.CaBundle));
            }
            catch (FormatException e)
            {
                throw new UserDataException("decoding CABundle: it is not base64", e);
            }
        }
        var localStorage = YamlWriter.Map();
        if (options.Raid0)
        {
            localStorage["strategy"] = "RAID0";
        }
        var kubelet = YamlWriter.Map(("config", KubeletConfig(options)));
        if (KubeletArgs.NodeLabels(options.Labels) is { } labels)
        {
            kubelet["flags"] = new List<object?> { labels };
        }
        var root = YamlWriter.Map(
            ("apiVersion", "node.eks.aws/v1alpha1"),
            ("kind", "NodeConfig"),
            ("metadata", YamlWriter.Map()),
            ("spec", YamlWriter.Map(
                ("cluster", cluster),
                ("containerd", YamlWriter.Map()),
                ("instance", YamlWriter.Map(("localStorage", localStorage))),
                ("kubelet", kubelet))));
        return "# Karpenter Generated NodeConfig\n" + YamlWriter.Write(root);
    }

    /// <summary>The KubeletConfiguration fields of the NodeClass, inline, plus <c>registerWithTaints</c>.</summary>
    private static SortedDictionary<string, object?> KubeletConfig(BootstrapOptions options)
    {
        var k = options.Kubelet;
        var config = YamlWriter.Map();
        if (k.ClusterDns.Count > 0)
        {
            config["clusterDNS"] = k.ClusterDns.Cast<object?>().ToList();
        }
        Put(config, "maxPods", k.MaxPods);
        Put(config, "podsPerCore", k.PodsPerCore);
        Put(config, "systemReserved", Map(k.SystemReserved));
        Put(config, "kubeReserved", Map(k.KubeReserved));
        Put(config, "evictionHard", Map(k.EvictionHard));
        Put(config, "evictionSoft", Map(k.EvictionSoft));
        Put(config, "evictionSoftGracePeriod",
            Map(k.EvictionSoftGracePeriod?.ToDictionary(p => p.Key, p => GoFormat.NormalizeDuration(p.Value))));
        Put(config, "evictionMaxPodGracePeriod", k.EvictionMaxPodGracePeriod);
        Put(config, "imageGCHighThresholdPercent", k.ImageGcHighThresholdPercent);
        Put(config, "imageGCLowThresholdPercent", k.ImageGcLowThresholdPercent);
        Put(config, "cpuCFSQuota", k.CpuCfsQuota);
        config["registerWithTaints"] = KubeletArgs.WithUnregistered(options.Taints)
            .Select(t =>
            {
                var taint = YamlWriter.Map(("effect", t.Effect), ("key", t.Key));
                if (!string.IsNullOrEmpty(t.Value))
                {
                    taint["value"] = t.Value;
                }
                return (object?)taint;
            })
            .ToList();
        return config;
    }

    private static void Put(SortedDictionary<string, object?> map, string key, object? value)
    {
        if (value is not null)
        {
            map[key] = value;
        }
    }

    private static SortedDictionary<string, object?>? Map(IReadOnlyDictionary<string, string>? values) =>
        values is null || values.Count == 0
            ? null
            : new SortedDictionary<string, object?>(values.ToDictionary(v => v.Key, v => (object?)v.Value), YamlWriter.KeyOrder);
}
