namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>A taint to register the node with.</summary>
public sealed record NodeTaint(string Key, string? Value, string Effect)
{
    /// <summary>Kubernetes' <c>Taint.ToString()</c>: <c>key=value:Effect</c>, or <c>key:Effect</c> without a value.</summary>
    public override string ToString() => string.IsNullOrEmpty(Value) ? $"{Key}:{Effect}" : $"{Key}={Value}:{Effect}";
}

/// <summary>
/// The kubelet settings Karpenter writes into user data: the v1.14 EC2NodeClass <c>kubelet</c> block, with <see cref="MaxPods"/>
/// and <see cref="ClusterDns"/> already resolved. Maps are sorted so that the rendered user data, and so the launch template
/// name hashed from it, are deterministic.
/// </summary>
public sealed record KubeletSettings
{
    public IReadOnlyList<string> ClusterDns { get; init; } = [];

    public int? MaxPods { get; init; }

    public int? PodsPerCore { get; init; }

    public IReadOnlyDictionary<string, string>? SystemReserved { get; init; }

    public IReadOnlyDictionary<string, string>? KubeReserved { get; init; }

    public IReadOnlyDictionary<string, string>? EvictionHard { get; init; }

    public IReadOnlyDictionary<string, string>? EvictionSoft { get; init; }

    /// <summary>Durations as written (<c>1m</c>, <c>90s</c>); rendered the way Go prints them (<c>1m0s</c>).</summary>
    public IReadOnlyDictionary<string, string>? EvictionSoftGracePeriod { get; init; }

    public int? EvictionMaxPodGracePeriod { get; init; }

    public int? ImageGcHighThresholdPercent { get; init; }

    public int? ImageGcLowThresholdPercent { get; init; }

    public bool? CpuCfsQuota { get; init; }
}

/// <summary>Everything the user data of one launch template depends on.</summary>
public sealed record BootstrapOptions
{
    public required string ClusterName { get; init; }

    public required string ClusterEndpoint { get; init; }

    /// <summary>The Service CIDR (AL2023 requires it).</summary>
    public string? ClusterCidr { get; init; }

    /// <summary>Base64 of the cluster CA PEM.</summary>
    public string? CaBundle { get; init; }

    public KubeletSettings Kubelet { get; init; } = new();

    /// <summary>NodeClaim taints and startup taints; the renderers add <c>karpenter.sh/unregistered:NoExecute</c> when missing.</summary>
    public IReadOnlyList<NodeTaint> Taints { get; init; } = [];

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The EC2NodeClass <c>spec.userData</c>, merged as upstream does for each family.</summary>
    public string? CustomUserData { get; init; }

    /// <summary><c>RAID0</c> or null.</summary>
    public string? InstanceStorePolicy { get; init; }

    internal bool Raid0 => string.Equals(InstanceStorePolicy, "RAID0", StringComparison.Ordinal);
}

/// <summary>The custom user data of an EC2NodeClass cannot be merged (malformed MIME or TOML): the NodeClass is not usable.</summary>
public sealed class UserDataException : Exception
{
    public UserDataException(string message) : base(message)
    {
    }

    public UserDataException(string message, Exception inner) : base(message, inner)
    {
    }

    public UserDataException()
    {
    }
}

/// <summary>Renders the user data of one AMI family, as plain text (the launch template carries its base64).</summary>
public interface IUserDataRenderer
{
    string Render(BootstrapOptions options);
}
