using Tomlyn;
using Tomlyn.Model;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>
/// Bottlerocket user data: TOML settings. The custom user data is parsed; Karpenter then overwrites the cluster identity
/// (<c>cluster-name</c>, <c>api-server</c>, <c>cluster-certificate</c>), <c>cluster-dns-ip</c>, <c>max-pods</c>, the reserved
/// resources, eviction and image GC thresholds it manages, and <c>node-taints</c>; node labels are merged with Karpenter's
/// values winning; every other top-level setting is kept. As upstream reads <c>settings.kubernetes</c> into a typed struct,
/// keys there that Bottlerocket's model does not know are dropped, and known keys are written in the model's order.
/// </summary>
public sealed class BottlerocketUserData : IUserDataRenderer
{
    /// <summary>The <c>settings.kubernetes</c> keys of upstream's typed model, in its field order.</summary>
    internal static readonly string[] KubernetesKeys =
    [
        "api-server", "cloud-provider", "cluster-certificate", "cluster-name", "cluster-dns-ip", "credential-providers",
        "node-labels", "node-taints", "max-pods", "static-pods", "eviction-hard", "eviction-soft", "eviction-soft-grace-period",
        "eviction-max-pod-grace-period", "kube-reserved", "system-reserved", "allowed-unsafe-sysctls", "server-tls-bootstrap",
        "registry-qps", "registry-burst", "event-qps", "event-burst", "kube-api-qps", "kube-api-burst", "container-log-max-size",
        "container-log-max-files", "cpu-manager-policy", "cpu-manager-reconcile-period", "topology-manager-scope",
        "topology-manager-policy", "image-gc-high-threshold-percent", "image-gc-low-threshold-percent", "cpu-cfs-quota-enforced",
        "shutdown-grace-period", "shutdown-grace-period-for-critical-pods", "cluster-domain", "seccomp-default", "pod-pids-limit",
        "device-ownership-from-security-context", "single-process-oom-kill", "container-log-max-workers",
        "container-log-monitor-interval",
    ];

    public string Render(BootstrapOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var document = Parse(options.CustomUserData);
        var settings = document.TryGetValue("settings", out var s) && s is TomlTable st ? st : new TomlTable();
        var custom = settings.TryGetValue("kubernetes", out var k) && k is TomlTable kt ? kt : new TomlTable();

        var kubernetes = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var key in KubernetesKeys)
        {
            if (custom.TryGetValue(key, out var value))
            {
                kubernetes[key] = value;
            }
        }
        kubernetes["cluster-name"] = options.ClusterName;
        kubernetes["api-server"] = options.ClusterEndpoint;
        kubernetes["cluster-certificate"] = options.CaBundle;
        var kubelet = options.Kubelet;
        if (kubelet.MaxPods is { } maxPods)
        {
            kubernetes["max-pods"] = (long)maxPods;
        }
        if (kubelet.ClusterDns.Count == 1)
        {
            kubernetes["cluster-dns-ip"] = kubelet.ClusterDns[0];
        }
        else if (kubelet.ClusterDns.Count > 1)
        {
            kubernetes["cluster-dns-ip"] = ToArray(kubelet.ClusterDns);
        }
        SetMap(kubernetes, "system-reserved", kubelet.SystemReserved);
        SetMap(kubernetes, "kube-reserved", kubelet.KubeReserved);
        SetMap(kubernetes, "eviction-hard", kubelet.EvictionHard);
        if (kubelet.ImageGcHighThresholdPercent is { } high)
        {
            kubernetes["image-gc-high-threshold-percent"] = high.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (kubelet.ImageGcLowThresholdPercent is { } low)
        {
            kubernetes["image-gc-low-threshold-percent"] = low.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (kubelet.CpuCfsQuota is { } quota)
        {
            kubernetes["cpu-cfs-quota-enforced"] = quota;
        }

        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (kubernetes.TryGetValue("node-labels", out var existing) && existing is TomlTable existingLabels)
        {
            foreach (var (key, value) in existingLabels)
            {
                labels[key] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            }
        }
        foreach (var (key, value) in options.Labels)
        {
            labels[key] = value;
        }
        kubernetes["node-labels"] = labels.Count == 0 ? null : Table(labels.Select(l => new KeyValuePair<string, object?>(l.Key, l.Value)));

        var taints = new SortedDictionary<string, TomlArray>(StringComparer.Ordinal);
        foreach (var taint in KubeletArgs.WithUnregistered(options.Taints))
        {
            if (!taints.TryGetValue(taint.Key, out var values))
            {
                taints[taint.Key] = values = [];
            }
            values.Add($"{taint.Value}:{taint.Effect}");
        }
        kubernetes["node-taints"] = Table(taints.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value)));

        var kubernetesTable = new TomlTable();
        foreach (var key in KubernetesKeys)
        {
            if (kubernetes.TryGetValue(key, out var value) && value is not null)
            {
                kubernetesTable[key] = value is TomlTable t ? Sorted(t) : value;
            }
        }

        var raw = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in settings)
        {
            raw[key] = value;
        }
        raw["kubernetes"] = kubernetesTable;
        if (options.Raid0)
        {
            var commands = raw.TryGetValue("bootstrap-commands", out var bc) && bc is TomlTable bct ? bct : new TomlTable();
            commands["000-mount-instance-storage"] = new TomlTable
            {
                ["commands"] = new TomlArray
                {
                    ToArray(["apiclient", "ephemeral-storage", "init"]),
                    ToArray(["apiclient", "ephemeral-storage", "bind", "--dirs", "/var/lib/containerd", "/var/lib/kubelet", "/var/log/pods"]),
                },
                ["mode"] = "always",
                ["essential"] = true,
            };
            raw["bootstrap-commands"] = BootstrapCommands(commands);
        }
        else if (raw.TryGetValue("bootstrap-commands", out var existingCommands) && existingCommands is TomlTable ect)
        {
            raw["bootstrap-commands"] = BootstrapCommands(ect);
        }
        var settingsTable = new TomlTable();
        foreach (var (key, value) in raw)
        {
            settingsTable[key] = key is "kubernetes" or "bootstrap-commands" || value is not TomlTable t ? value : Sorted(t);
        }
        var root = new TomlTable();
        // Any top-level key other than settings is not part of upstream's model and is dropped there too.
        root["settings"] = settingsTable;
        return TomlWriter.Write(root);
    }

    private static TomlTable Parse(string? userData)
    {
        if (string.IsNullOrWhiteSpace(userData))
        {
            return new TomlTable();
        }
        try
        {
            return TomlSerializer.Deserialize<TomlTable>(userData) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            throw new UserDataException($"invalid UserData: Bottlerocket user data must be TOML: {e.Message}", e);
        }
    }

    private static void SetMap(Dictionary<string, object?> kubernetes, string key, IReadOnlyDictionary<string, string>? values)
    {
        if (values is not null)
        {
            kubernetes[key] = Table(values.OrderBy(v => v.Key, StringComparer.Ordinal)
                .Select(v => new KeyValuePair<string, object?>(v.Key, v.Value)));
        }
    }

    private static TomlTable Table(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        var table = new TomlTable();
        foreach (var (key, value) in entries)
        {
            table[key] = value!;
        }
        return table;
    }

    /// <summary>go-toml writes map keys sorted, at every depth.</summary>
    private static TomlTable Sorted(TomlTable table)
    {
        var sorted = new TomlTable();
        foreach (var (key, value) in table.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sorted[key] = value is TomlTable t ? Sorted(t) : value;
        }
        return sorted;
    }

    /// <summary>Bootstrap commands are typed upstream too: names sorted, each command's fields as <c>commands, mode, essential</c>.</summary>
    private static TomlTable BootstrapCommands(TomlTable commands)
    {
        var result = new TomlTable();
        foreach (var (name, value) in commands.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value is not TomlTable command)
            {
                continue;
            }
            var typed = new TomlTable();
            foreach (var field in new[] { "commands", "mode", "essential" })
            {
                if (command.TryGetValue(field, out var v))
                {
                    typed[field] = v;
                }
            }
            result[name] = typed;
        }
        return result;
    }

    private static TomlArray ToArray(IEnumerable<string> values)
    {
        var array = new TomlArray();
        foreach (var v in values)
        {
            array.Add(v);
        }
        return array;
    }
}
