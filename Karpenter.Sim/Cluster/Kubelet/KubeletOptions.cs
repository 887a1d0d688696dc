using System.ComponentModel.DataAnnotations;

namespace Karpenter.Sim.Cluster.Kubelet;

/// <summary>
/// How the simulated kubelets behave: the cluster they may join and the timings of a node's life, in simulated time.
/// The defaults follow an EKS node: a Node object about 20 s after the instance is running, Ready about 10 s later
/// (CNI up), containers running a few seconds after a pod is bound.
/// </summary>
public sealed class KubeletOptions
{
    /// <summary>The cluster whose API server the kubelets reach; user data naming another cluster never joins.</summary>
    [Required]
    public string ClusterName { get; set; } = "my-cluster";

    /// <summary>
    /// The API server endpoint the nodes can reach. User data pointing elsewhere never registers. Null accepts any
    /// endpoint.
    /// </summary>
    public string? ClusterEndpoint { get; set; }

    /// <summary>
    /// The cluster CA (base64 of the PEM) an https endpoint is verified with; user data carrying another CA fails
    /// TLS verification and never registers. Null skips the check.
    /// </summary>
    public string? ClusterCertificateAuthority { get; set; }

    /// <summary>The Kubernetes version kubelets report when the image name does not carry one (e.g. <c>1.32</c>).</summary>
    [Required]
    [RegularExpression("^1\\.[0-9]{1,2}$")]
    public string KubernetesVersion { get; set; } = "1.32";

    /// <summary>From the instance reaching running to the kubelet registering its Node.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RegistrationDelay { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>From registration to the Node's Ready condition turning True (container runtime and CNI up).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ReadyDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>From a pod's binding (and its node being Ready, unless it uses the host network) to its containers running.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan PodStartDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long containers take to exit after SIGTERM. Null: they use the whole grace period (the pod object goes
    /// when <c>deletionTimestamp</c> is reached); a value caps it, like an application that exits promptly.
    /// </summary>
    public TimeSpan? ContainerExitDelay { get; set; }

    /// <summary>From the Node turning Ready to its agents removing the startup taints its NodeClaim lists.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StartupTaintDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The node Lease's <c>leaseDurationSeconds</c> (kubelet default 40 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(40);

    /// <summary>How often a kubelet renews its Lease (kubelet: a quarter of the duration).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The share of an instance type's memory the guest does not see (firmware, kernel). Real EKS nodes report about
    /// 5% less than the nominal size; Karpenter assumes 7.5% (<c>VM_MEMORY_OVERHEAD_PERCENT</c>), so it is conservative.
    /// </summary>
    [Range(0.0, 0.5)]
    public double MemoryOverheadPercent { get; set; } = 0.05;

    /// <summary>
    /// Register with <c>node.cloudprovider.kubernetes.io/uninitialized</c> for the cloud controller manager to clear, as
    /// a kubelet with <c>--cloud-provider=external</c> does on EKS.
    /// </summary>
    public bool ExternalCloudProvider { get; set; } = true;

    /// <summary>Concurrent pod workers (different pods) of all kubelets together.</summary>
    [Range(1, 64)]
    public int PodWorkers { get; set; } = 4;
}
