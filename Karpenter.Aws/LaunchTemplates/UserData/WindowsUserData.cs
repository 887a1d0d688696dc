using System.Text;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>Windows user data: one <c>&lt;powershell&gt;</c> block, the custom user data first, then <c>Start-EKSBootstrap.ps1</c>.</summary>
public sealed class WindowsUserData : IUserDataRenderer
{
    public string Render(BootstrapOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sb = new StringBuilder("<powershell>\n");
        if (!string.IsNullOrEmpty(options.CustomUserData))
        {
            sb.Append(options.CustomUserData).Append('\n');
        }
        sb.Append("[string]$EKSBootstrapScriptFile = \"$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1\"\n");
        sb.Append($"& $EKSBootstrapScriptFile -EKSClusterName '{options.ClusterName}' -APIServerEndpoint '{options.ClusterEndpoint}'");
        if (options.CaBundle is not null)
        {
            sb.Append($" -Base64ClusterCA '{options.CaBundle}'");
        }
        var args = KubeletArgs.Build(options);
        if (args.Count > 0)
        {
            sb.Append($" -KubeletExtraArgs '{string.Join(' ', args)}'");
        }
        if (options.Kubelet.ClusterDns.Count > 0)
        {
            sb.Append($" -DNSClusterIP '{options.Kubelet.ClusterDns[0]}'");
        }
        return sb.Append("\n</powershell>").ToString();
    }
}

/// <summary>The <c>Custom</c> AMI family: the NodeClass's user data is passed through untouched; bootstrapping is the user's.</summary>
public sealed class CustomUserData : IUserDataRenderer
{
    public string Render(BootstrapOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.CustomUserData ?? "";
    }
}
