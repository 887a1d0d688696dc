using System.Net;
using System.Text;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>
/// AL2 user data: a MIME archive whose last part runs <c>/etc/eks/bootstrap.sh</c> with the cluster details and the kubelet
/// arguments (labels, taints, max pods, reserved resources, eviction). The custom user data comes first: a MIME archive keeps its
/// parts (all headers), anything else becomes one shell-script part.
/// </summary>
public sealed class EksBootstrapUserData : IUserDataRenderer
{
    public string Render(BootstrapOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var parts = new List<MimePart>();
        if (!string.IsNullOrEmpty(options.CustomUserData))
        {
            parts.AddRange(MimeArchive.IsMime(options.CustomUserData)
                ? MimeArchive.Parse(options.CustomUserData)
                : [new MimePart(MimePart.ShellScript, options.CustomUserData)]);
        }
        parts.Add(new MimePart(MimePart.ShellScript, Script(options)));
        return MimeArchive.Serialize(parts, allHeaders: true);
    }

    internal static string Script(BootstrapOptions options)
    {
        var sb = new StringBuilder();
        sb.Append("#!/bin/bash -xe\n");
        sb.Append("exec > >(tee /var/log/user-data.log|logger -t user-data -s 2>/dev/console) 2>&1\n");
        sb.Append($"/etc/eks/bootstrap.sh '{options.ClusterName}' --apiserver-endpoint '{options.ClusterEndpoint}' ");
        if (options.CaBundle is not null)
        {
            sb.Append($"--b64-cluster-ca '{options.CaBundle}'");
        }
        var dns = options.Kubelet.ClusterDns;
        if (dns.Count > 0 && IPAddress.TryParse(dns[0], out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            sb.Append(" \\\n--ip-family ipv6");
        }
        if (dns.Count > 0)
        {
            sb.Append($" \\\n--dns-cluster-ip '{dns[0]}'");
        }
        if (options.Kubelet.MaxPods is not null)
        {
            sb.Append(" \\\n--use-max-pods false");
        }
        var args = KubeletArgs.Build(options);
        if (args.Count > 0)
        {
            sb.Append($" \\\n--kubelet-extra-args '{string.Join(' ', args)}'");
        }
        if (options.Raid0)
        {
            sb.Append(" \\\n--local-disks raid0");
        }
        return sb.ToString();
    }
}
