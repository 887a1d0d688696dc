using Karpenter.Sim.Aws;
using Karpenter.Sim.Cluster.Kubelet;
using Karpenter.Sim.Cluster.Scheduler;
using Karpenter.Sim.KubeApi;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.World;

/// <summary>
/// How a <see cref="SimulatedWorld"/> is set up. The defaults are the sandbox's default world (issue 8): cluster
/// <c>my-cluster</c> in us-east-1, Kubernetes 1.32 (the newest version EKS still publishes AL2 images for, so that the
/// <c>amiFamily: AL2</c> seed manifests work), discovery-tagged subnets in three zones and security groups, the
/// <c>KarpenterNodeInstanceProfile-my-cluster</c> profile, EKS AMIs with their SSM parameters, Karpenter's CRDs, the
/// <c>aws-node</c> and <c>kube-proxy</c> DaemonSets, and an interruption queue named after the cluster.
/// </summary>
public sealed class SimulatedWorldOptions
{
    /// <summary>The cluster name: tags, the instance profile, the node bootstrap, the interruption queue.</summary>
    public string ClusterName { get; set; } = "my-cluster";

    public string Region { get; set; } = "us-east-1";

    /// <summary>The control plane's minor version (the kubelets report it; the operator resolves AMI aliases with it).</summary>
    public string KubernetesVersion { get; set; } = "1.32";

    /// <summary>
    /// The clock every component reads. Null: the world creates an <see cref="Clock.AcceleratedTimeProvider"/> at
    /// <see cref="Speed"/> starting at <see cref="StartTime"/> (and disposes it). Pass a <c>FakeTimeProvider</c> to step
    /// time by hand.
    /// </summary>
    public TimeProvider? Clock { get; set; }

    /// <summary>Simulated seconds per real second of the clock the world creates (1 is real time).</summary>
    public double Speed { get; set; } = 1;

    /// <summary>The simulated time the created clock starts at (default: now).</summary>
    public DateTimeOffset? StartTime { get; set; }

    /// <summary>Serve the Kubernetes API over HTTPS with a generated CA (as EKS does; the CA goes into the user data).</summary>
    public bool UseTls { get; set; } = true;

    /// <summary>The Service CIDR (<c>CLUSTER_CIDR</c>; AL2023 nodes refuse to bootstrap without it). DNS is its tenth address.</summary>
    public string ServiceCidr { get; set; } = "10.100.0.0/16";

    /// <summary>Install Karpenter's CRDs at start.</summary>
    public bool InstallCrds { get; set; } = true;

    /// <summary>
    /// Where the CRD manifests are (<c>*.yaml</c> holding CustomResourceDefinitions). Null: the repository's
    /// <c>config/</c> when it holds them, otherwise CRDs generated from the API types by the same generator that writes
    /// <c>config/</c>.
    /// </summary>
    public string? CrdDirectory { get; set; }

    /// <summary>Create the EKS add-on DaemonSets <c>aws-node</c> and <c>kube-proxy</c> in kube-system.</summary>
    public bool SystemDaemonSets { get; set; } = true;

    /// <summary>Create an SQS queue named after the cluster for interruption events (<c>INTERRUPTION_QUEUE</c>).</summary>
    public bool InterruptionQueue { get; set; } = true;

    /// <summary>A full instance-type catalog file instead of the AWS emulator's embedded one.</summary>
    public string? InstanceTypeCatalogPath { get; set; }

    /// <summary>
    /// Zones, subnets, security groups and instance profiles of the AWS account (null: the default world's, for
    /// <see cref="ClusterName"/> in <see cref="Region"/>). <see cref="WorldFile"/> fills it from <c>--world FILE</c>.
    /// </summary>
    public AwsNetworkLayout? Network { get; set; }

    /// <summary>Seeds the emulators' identifiers and random draws.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Where the emulators and the simulated cluster log (null: nowhere).</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Last-word changes to the Kubernetes API emulator's options (the world sets clock, TLS and webhook routing first).</summary>
    public Action<KubeApiServerOptions>? ConfigureKubeApi { get; set; }

    /// <summary>Last-word changes to the AWS emulator's options (the world sets clock, cluster, region, seed and catalog first).</summary>
    public Action<AwsEmulatorOptions>? ConfigureAws { get; set; }

    /// <summary>Changes to the kubelets' behaviour (the world sets the cluster identity first).</summary>
    public Action<KubeletOptions>? ConfigureKubelet { get; set; }

    public Action<SchedulerOptions>? ConfigureScheduler { get; set; }

    internal void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterName))
        {
            errors.Add("ClusterName must not be empty.");
        }

        if (Clock is null && (!(Speed > 0) || double.IsInfinity(Speed)))
        {
            errors.Add($"Speed must be a positive number of simulated seconds per real second (was {Speed}).");
        }

        if (!System.Net.IPNetwork.TryParse(ServiceCidr, out var cidr) || cidr.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || cidr.PrefixLength > 24)
        {
            errors.Add($"ServiceCidr must be an IPv4 CIDR of at least a /24 (was '{ServiceCidr}').");
        }

        if (CrdDirectory is { } dir && !Directory.Exists(dir))
        {
            errors.Add($"CrdDirectory '{dir}' does not exist.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid SimulatedWorldOptions: " + string.Join(" ", errors));
        }
    }
}
