using System.Globalization;
using Tomlyn;
using Tomlyn.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Karpenter.Sim.Cluster.Kubelet.Bootstrap;

/// <summary>
/// Reads an instance's user data the way its image's bootstrap does (nodeadm on AL2023, <c>/etc/eks/bootstrap.sh</c>
/// on AL2, Bottlerocket's TOML settings, <c>Start-EKSBootstrap.ps1</c> on Windows) and returns what the kubelet would
/// register with. User data the image could not boot from throws <see cref="BootstrapException"/> saying why.
/// This is an independent reader of the formats, not the renderer Karpenter uses, so that what Karpenter writes is
/// checked against what a node would read.
/// </summary>
public static class UserDataReader
{
    /// <summary>The bootstrap an image runs, from its name (EKS-optimized and Bottlerocket naming), or null when unknown.</summary>
    public static BootstrapFormat? FormatOfImage(string? imageName, string? platform = null)
    {
        if (string.Equals(platform, "windows", StringComparison.OrdinalIgnoreCase))
        {
            return BootstrapFormat.Windows;
        }

        if (string.IsNullOrEmpty(imageName))
        {
            return null;
        }

        if (imageName.StartsWith("amazon-eks-node-al2023-", StringComparison.Ordinal))
        {
            return BootstrapFormat.Nodeadm;
        }

        if (imageName.StartsWith("amazon-eks-", StringComparison.Ordinal))
        {
            return BootstrapFormat.EksBootstrapScript;
        }

        if (imageName.StartsWith("bottlerocket-", StringComparison.Ordinal))
        {
            return BootstrapFormat.Bottlerocket;
        }

        return imageName.StartsWith("Windows_Server-", StringComparison.Ordinal) ? BootstrapFormat.Windows : null;
    }

    /// <summary>
    /// Reads <paramref name="userData"/> (decoded text). With <paramref name="imageFormat"/> the image decides how it is
    /// read (an AL2023 image ignores a bootstrap.sh script, and so never joins); without it the format is recognised
    /// from the content, as for a custom image.
    /// </summary>
    public static NodeBootstrapConfig Read(string? userData, BootstrapFormat? imageFormat)
    {
        if (string.IsNullOrWhiteSpace(userData))
        {
            throw new BootstrapException(imageFormat switch
            {
                BootstrapFormat.Nodeadm => "nodeadm: the instance has no user data, so there is no NodeConfig to read",
                BootstrapFormat.Bottlerocket => "Bottlerocket: the instance has no user data, so settings.kubernetes is empty",
                _ => "the instance has no user data, so its kubelet was never configured",
            });
        }

        var format = imageFormat ?? Recognise(userData);
        return format switch
        {
            BootstrapFormat.Nodeadm => ReadNodeadm(userData),
            BootstrapFormat.EksBootstrapScript => ReadBootstrapScript(userData),
            BootstrapFormat.Bottlerocket => ReadBottlerocket(userData),
            BootstrapFormat.Windows => ReadWindows(userData),
            _ => throw new BootstrapException($"unknown bootstrap format {format}"),
        };
    }

    private static BootstrapFormat Recognise(string userData)
    {
        if (userData.Contains("<powershell>", StringComparison.OrdinalIgnoreCase))
        {
            return BootstrapFormat.Windows;
        }

        if (userData.Contains("application/node.eks.aws", StringComparison.OrdinalIgnoreCase) || userData.Contains("kind: NodeConfig", StringComparison.Ordinal))
        {
            return BootstrapFormat.Nodeadm;
        }

        if (userData.Contains("/etc/eks/bootstrap.sh", StringComparison.Ordinal))
        {
            return BootstrapFormat.EksBootstrapScript;
        }

        if (userData.Contains("[settings", StringComparison.Ordinal))
        {
            return BootstrapFormat.Bottlerocket;
        }

        throw new BootstrapException(
            "the user data is none of the bootstrap formats (nodeadm NodeConfig, /etc/eks/bootstrap.sh, Bottlerocket TOML, EKS Windows PowerShell), so the kubelet was never configured");
    }

    // ---- AL2023: nodeadm ----------------------------------------------------------------------------------------

    private static NodeBootstrapConfig ReadNodeadm(string userData)
    {
        IReadOnlyList<string> documents;
        if (MimeMultipart.IsMime(userData))
        {
            documents = [.. MimeMultipart.Parse(userData).Where(p => p.ContentType == "application/node.eks.aws").Select(p => p.Body)];
        }
        else
        {
            documents = [userData];
        }

        if (documents.Count == 0)
        {
            throw new BootstrapException("nodeadm: the user data has no NodeConfig (no MIME part of type application/node.eks.aws)");
        }

        string? name = null, endpoint = null, ca = null, cidr = null;
        var config = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var flags = new List<string>();
        foreach (var document in documents)
        {
            var root = ParseYamlMapping(document);
            var apiVersion = Scalar(root, "apiVersion");
            var kind = Scalar(root, "kind");
            if (kind != "NodeConfig" || apiVersion is not ("node.eks.aws/v1alpha1" or "node.eks.aws/v1beta1"))
            {
                throw new BootstrapException($"nodeadm: a node.eks.aws part is not a NodeConfig (apiVersion '{apiVersion}', kind '{kind}')");
            }

            var spec = Child(root, "spec");
            var cluster = Child(spec, "cluster");
            name = Scalar(cluster, "name") ?? name;
            endpoint = Scalar(cluster, "apiServerEndpoint") ?? endpoint;
            ca = Scalar(cluster, "certificateAuthority") ?? ca;
            cidr = Scalar(cluster, "cidr") ?? cidr;
            var kubelet = Child(spec, "kubelet");
            if (Child(kubelet, "config") is { } kubeletConfig)
            {
                foreach (var (key, value) in kubeletConfig.Children)
                {
                    config[((YamlScalarNode)key).Value ?? string.Empty] = value;
                }
            }

            if (kubelet?.Children.TryGetValue(new YamlScalarNode("flags"), out var flagNode) == true)
            {
                if (flagNode is not YamlSequenceNode sequence)
                {
                    throw new BootstrapException("nodeadm: spec.kubelet.flags must be a list of strings");
                }

                foreach (var flag in sequence.OfType<YamlScalarNode>())
                {
                    // nodeadm hands the flags to the kubelet through a shell-like environment line: quotes are removed.
                    flags.AddRange(ShellWords.Split(flag.Value ?? string.Empty));
                }
            }
        }

        foreach (var (field, value) in new[] { ("Name", name), ("Apiserver endpoint", endpoint), ("Certificate authority", ca), ("CIDR", cidr) })
        {
            if (string.IsNullOrEmpty(value))
            {
                throw new BootstrapException($"nodeadm: validating NodeConfig: {field} is missing in cluster configuration");
            }
        }

        var settings = new KubeletSettings();
        if (config.TryGetValue("maxPods", out var maxPods))
        {
            settings.MaxPods = KubeletSettings.ParseInt(ScalarOf(maxPods), "max-pods");
        }

        if (config.TryGetValue("podsPerCore", out var podsPerCore))
        {
            settings.PodsPerCore = KubeletSettings.ParseInt(ScalarOf(podsPerCore), "pods-per-core");
        }

        settings.KubeReserved = StringMap(config.GetValueOrDefault("kubeReserved"), "kubeReserved");
        settings.SystemReserved = StringMap(config.GetValueOrDefault("systemReserved"), "systemReserved");
        settings.EvictionHard = StringMap(config.GetValueOrDefault("evictionHard"), "evictionHard");
        if (config.TryGetValue("registerWithTaints", out var taints))
        {
            if (taints is not YamlSequenceNode taintList)
            {
                throw new BootstrapException("kubelet: registerWithTaints must be a list of taints");
            }

            foreach (var taint in taintList)
            {
                if (taint is not YamlMappingNode t)
                {
                    throw new BootstrapException("kubelet: each registerWithTaints entry must be a taint object");
                }

                settings.AddTaint(Scalar(t, "key") ?? string.Empty, Scalar(t, "value"), Scalar(t, "effect") ?? string.Empty, "registerWithTaints");
            }
        }

        settings.ApplyFlags(flags);
        return settings.ToConfig(BootstrapFormat.Nodeadm, name, endpoint, ca);
    }

    private static YamlMappingNode ParseYamlMapping(string document)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(document));
            return stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode mapping
                ? mapping
                : throw new BootstrapException("nodeadm: a NodeConfig part is not a YAML mapping");
        }
        catch (YamlException e)
        {
            throw new BootstrapException($"nodeadm: could not parse NodeConfig: {e.Message}", e);
        }
    }

    private static YamlMappingNode? Child(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child as YamlMappingNode : null;

    private static string? Scalar(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? ScalarOf(child) : null;

    private static string? ScalarOf(YamlNode node) => node is YamlScalarNode s && !string.IsNullOrEmpty(s.Value) ? s.Value : null;

    private static Dictionary<string, string>? StringMap(YamlNode? node, string field)
    {
        if (node is null)
        {
            return null;
        }

        if (node is not YamlMappingNode mapping)
        {
            throw new BootstrapException($"kubelet: {field} must be a map of strings");
        }

        return mapping.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value ?? string.Empty, kv => ScalarOf(kv.Value) ?? string.Empty, StringComparer.Ordinal);
    }

    // ---- AL2: /etc/eks/bootstrap.sh -----------------------------------------------------------------------------

    private const string BootstrapScript = "/etc/eks/bootstrap.sh";

    private static NodeBootstrapConfig ReadBootstrapScript(string userData)
    {
        var scripts = MimeMultipart.IsMime(userData)
            ? MimeMultipart.Parse(userData).Where(p => p.ContentType == "text/x-shellscript").Select(p => p.Body).ToList()
            : [userData];
        var args = scripts.Select(s => FindInvocation(s, BootstrapScript, powerShell: false)).FirstOrDefault(a => a is not null)
            ?? throw new BootstrapException($"the user data never runs {BootstrapScript}, so the kubelet was never configured to join a cluster");

        string? cluster = null, endpoint = null, ca = null, extra = null;
        var useMaxPods = true;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                cluster ??= arg;
                continue;
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq > 0 ? arg[2..eq] : arg[2..];
            var value = eq > 0 ? arg[(eq + 1)..] : i + 1 < args.Count ? args[++i] : null;
            switch (name)
            {
                case "apiserver-endpoint":
                    endpoint = value;
                    break;
                case "b64-cluster-ca":
                    ca = value;
                    break;
                case "kubelet-extra-args":
                    extra = value;
                    break;
                case "use-max-pods":
                    useMaxPods = !string.Equals(value, "false", StringComparison.OrdinalIgnoreCase);
                    break;
                default:
                    break;
            }
        }

        if (string.IsNullOrEmpty(cluster))
        {
            throw new BootstrapException($"{BootstrapScript}: CLUSTER_NAME is required (the first argument)");
        }

        var settings = new KubeletSettings();
        settings.ApplyFlags(ShellWords.Split(extra ?? string.Empty));
        if (!useMaxPods && settings.MaxPods is null)
        {
            // --use-max-pods false leaves the kubelet's own default.
            settings.MaxPods = 110;
        }

        return settings.ToConfig(BootstrapFormat.EksBootstrapScript, cluster, endpoint, ca);
    }

    /// <summary>The arguments after <paramref name="command"/> on the line that runs it, or null.</summary>
    private static List<string>? FindInvocation(string script, string command, bool powerShell)
    {
        var text = script.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (!powerShell)
        {
            text = text.Replace("\\\n", " ", StringComparison.Ordinal);
        }

        foreach (var line in text.Split('\n'))
        {
            if (!line.Contains(command, StringComparison.Ordinal))
            {
                continue;
            }

            var words = ShellWords.Split(line, powerShell);
            var at = words.ToList().FindIndex(w => w == command || w.EndsWith(command, StringComparison.Ordinal));
            if (at >= 0)
            {
                return [.. words.Skip(at + 1)];
            }
        }

        return null;
    }

    // ---- Bottlerocket ---------------------------------------------------------------------------------------------

    private static NodeBootstrapConfig ReadBottlerocket(string userData)
    {
        TomlTable document;
        try
        {
            document = TomlSerializer.Deserialize<TomlTable>(userData) ?? new TomlTable();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new BootstrapException($"Bottlerocket: the user data is not valid TOML: {e.Message}", e);
        }

        var settingsTable = document.TryGetValue("settings", out var s) && s is TomlTable st ? st : null;
        var kubernetes = settingsTable is not null && settingsTable.TryGetValue("kubernetes", out var k) && k is TomlTable kt ? kt : null;
        if (kubernetes is null)
        {
            throw new BootstrapException("Bottlerocket: the user data has no [settings.kubernetes] table, so the kubelet has no cluster to join");
        }

        var cluster = TomlString(kubernetes, "cluster-name");
        var endpoint = TomlString(kubernetes, "api-server");
        var ca = TomlString(kubernetes, "cluster-certificate");
        if (string.IsNullOrEmpty(endpoint))
        {
            throw new BootstrapException("Bottlerocket: settings.kubernetes.api-server is required for the kubelet to start");
        }

        if (string.IsNullOrEmpty(cluster))
        {
            throw new BootstrapException("Bottlerocket: settings.kubernetes.cluster-name is required for the kubelet to start");
        }

        var settings = new KubeletSettings();
        if (kubernetes.TryGetValue("max-pods", out var maxPods))
        {
            settings.MaxPods = maxPods is long n ? checked((int)n) : KubeletSettings.ParseInt(maxPods?.ToString(), "max-pods");
        }

        foreach (var (key, value) in TomlTableOf(kubernetes, "node-labels"))
        {
            settings.AddLabel(key, Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty, "settings.kubernetes.node-labels");
        }

        foreach (var (key, value) in TomlTableOf(kubernetes, "node-taints"))
        {
            var specs = value is TomlArray array ? array.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? string.Empty) : [Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty];
            foreach (var spec in specs)
            {
                var colon = spec.LastIndexOf(':');
                if (colon < 0)
                {
                    throw new BootstrapException($"Bottlerocket: node-taints.{key} entry '{spec}' is not of the form value:Effect");
                }

                settings.AddTaint(key, spec[..colon], spec[(colon + 1)..], "settings.kubernetes.node-taints");
            }
        }

        settings.KubeReserved = TomlStringMap(kubernetes, "kube-reserved");
        settings.SystemReserved = TomlStringMap(kubernetes, "system-reserved");
        settings.EvictionHard = TomlStringMap(kubernetes, "eviction-hard");
        return settings.ToConfig(BootstrapFormat.Bottlerocket, cluster, endpoint, ca);
    }

    private static string? TomlString(TomlTable table, string key) =>
        table.TryGetValue(key, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;

    private static TomlTable TomlTableOf(TomlTable table, string key) =>
        table.TryGetValue(key, out var value) && value is TomlTable t ? t : new TomlTable();

    private static Dictionary<string, string>? TomlStringMap(TomlTable table, string key) =>
        table.TryGetValue(key, out var value) && value is TomlTable t
            ? t.ToDictionary(kv => kv.Key, kv => Convert.ToString(kv.Value, CultureInfo.InvariantCulture) ?? string.Empty, StringComparer.Ordinal)
            : null;

    // ---- Windows ---------------------------------------------------------------------------------------------------

    private static NodeBootstrapConfig ReadWindows(string userData)
    {
        var start = userData.IndexOf("<powershell>", StringComparison.OrdinalIgnoreCase);
        var end = userData.IndexOf("</powershell>", StringComparison.OrdinalIgnoreCase);
        if (start < 0 || end < start)
        {
            throw new BootstrapException("Windows: the user data has no <powershell> block, so Start-EKSBootstrap.ps1 never runs");
        }

        var script = userData[(start + "<powershell>".Length)..end];
        var args = FindInvocation(script, "$EKSBootstrapScriptFile", powerShell: true)
            ?? FindInvocation(script, "Start-EKSBootstrap.ps1", powerShell: true)
            ?? throw new BootstrapException("Windows: the PowerShell block never runs Start-EKSBootstrap.ps1, so the kubelet was never configured");
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i].StartsWith('-') && i + 1 < args.Count)
            {
                parameters[args[i][1..]] = args[++i];
            }
        }

        var cluster = parameters.GetValueOrDefault("EKSClusterName");
        if (string.IsNullOrEmpty(cluster))
        {
            throw new BootstrapException("Start-EKSBootstrap.ps1: -EKSClusterName is required");
        }

        var settings = new KubeletSettings();
        settings.ApplyFlags(ShellWords.Split(parameters.GetValueOrDefault("KubeletExtraArgs") ?? string.Empty));
        return settings.ToConfig(BootstrapFormat.Windows, cluster, parameters.GetValueOrDefault("APIServerEndpoint"), parameters.GetValueOrDefault("Base64ClusterCA"));
    }
}
