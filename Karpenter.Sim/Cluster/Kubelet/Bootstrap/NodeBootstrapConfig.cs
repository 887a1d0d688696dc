using k8s.Models;

namespace Karpenter.Sim.Cluster.Kubelet.Bootstrap;

/// <summary>How an image bootstraps its kubelet, i.e. which user data format it reads.</summary>
public enum BootstrapFormat
{
    /// <summary>Amazon Linux 2023: <c>nodeadm</c> reads <c>NodeConfig</c> documents (MIME parts <c>application/node.eks.aws</c>).</summary>
    Nodeadm,

    /// <summary>Amazon Linux 2: a shell script runs <c>/etc/eks/bootstrap.sh</c> with <c>--kubelet-extra-args</c>.</summary>
    EksBootstrapScript,

    /// <summary>Bottlerocket: TOML settings under <c>[settings.kubernetes]</c>.</summary>
    Bottlerocket,

    /// <summary>Windows: a <c>&lt;powershell&gt;</c> block runs <c>Start-EKSBootstrap.ps1</c> with <c>-KubeletExtraArgs</c>.</summary>
    Windows,
}

/// <summary>
/// What a node's bootstrap hands its kubelet, read from the instance's user data: the cluster it joins, and the
/// kubelet settings that shape the Node (labels, taints to register with, max pods, reserved resources, eviction).
/// </summary>
public sealed record NodeBootstrapConfig
{
    public required BootstrapFormat Format { get; init; }

    /// <summary>The cluster the node joins (NodeConfig <c>spec.cluster.name</c>, bootstrap.sh's first argument, …).</summary>
    public string? ClusterName { get; init; }

    /// <summary>The API server URL the kubelet talks to.</summary>
    public string? ApiServerEndpoint { get; init; }

    /// <summary>The cluster CA as base64 of its PEM, as every format carries it.</summary>
    public string? CertificateAuthority { get; init; }

    /// <summary><c>--node-labels</c> (or Bottlerocket's <c>node-labels</c>).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary><c>--register-with-taints</c> / <c>registerWithTaints</c> / <c>node-taints</c>, in order.</summary>
    public IReadOnlyList<V1Taint> Taints { get; init; } = [];

    /// <summary><c>--max-pods</c> / <c>maxPods</c> / <c>max-pods</c>; null leaves the image's default.</summary>
    public int? MaxPods { get; init; }

    /// <summary><c>--pods-per-core</c> / <c>podsPerCore</c>.</summary>
    public int? PodsPerCore { get; init; }

    /// <summary><c>--kube-reserved</c>; null leaves the image's default (the EKS formula).</summary>
    public IReadOnlyDictionary<string, string>? KubeReserved { get; init; }

    /// <summary><c>--system-reserved</c>.</summary>
    public IReadOnlyDictionary<string, string>? SystemReserved { get; init; }

    /// <summary><c>--eviction-hard</c> thresholds by signal (<c>memory.available</c> → <c>100Mi</c> or <c>5%</c>).</summary>
    public IReadOnlyDictionary<string, string>? EvictionHard { get; init; }
}

/// <summary>User data the simulated node cannot boot from; the message says why, as the node's console log would.</summary>
public sealed class BootstrapException : Exception
{
    public BootstrapException()
    {
    }

    public BootstrapException(string message)
        : base(message)
    {
    }

    public BootstrapException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
