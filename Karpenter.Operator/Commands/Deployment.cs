using k8s.Models;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Operator.Commands;

/// <summary>
/// The operator's Deployment, Service and PodDisruptionBudget in upstream's shape: two replicas under leader election,
/// never on nodes Karpenter manages, spread across zones, non-root with a read-only root filesystem.
/// </summary>
internal static class Deployment
{
    public const int MetricsPort = 8080;
    public const int HealthPort = 8081;
    public const int WebhookPort = 8443;
    private const string CertificateDirectory = "/etc/karpenter/webhook";

    public static V1Service Service(ManifestOptions options) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta { Name = options.Name, NamespaceProperty = options.Namespace, Labels = Selector(options) },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            Selector = Selector(options),
            Ports =
            [
                new V1ServicePort { Name = "http-metrics", Port = MetricsPort, TargetPort = "http-metrics", Protocol = "TCP" },
                new V1ServicePort { Name = "https-webhook", Port = 443, TargetPort = "https-webhook", Protocol = "TCP" },
            ],
        },
    };

    public static V1PodDisruptionBudget Budget(ManifestOptions options) => new()
    {
        ApiVersion = "policy/v1",
        Kind = "PodDisruptionBudget",
        Metadata = new V1ObjectMeta { Name = options.Name, NamespaceProperty = options.Namespace },
        Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 1, Selector = new V1LabelSelector { MatchLabels = Selector(options) } },
    };

    public static V1Deployment Create(ManifestOptions options) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = new V1ObjectMeta { Name = options.Name, NamespaceProperty = options.Namespace, Labels = Selector(options) },
        Spec = new V1DeploymentSpec
        {
            Replicas = 2,
            RevisionHistoryLimit = 10,
            Strategy = new V1DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = 1 } },
            Selector = new V1LabelSelector { MatchLabels = Selector(options) },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = Selector(options) },
                Spec = Pod(options),
            },
        },
    };

    private static V1PodSpec Pod(ManifestOptions options) => new()
    {
        ServiceAccountName = options.Name,
        PriorityClassName = "system-cluster-critical",
        DnsPolicy = "ClusterFirst",
        NodeSelector = new Dictionary<string, string> { [Labels.Os] = "linux" },
        SecurityContext = new V1PodSecurityContext
        {
            FsGroup = 65532,
            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
        },
        Tolerations = [new V1Toleration { Key = "CriticalAddonsOnly", OperatorProperty = "Exists" }],
        Affinity = new V1Affinity
        {
            // Never run on capacity Karpenter itself manages.
            NodeAffinity = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                {
                    NodeSelectorTerms =
                    [
                        new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = Labels.NodePool, OperatorProperty = "DoesNotExist" }] },
                    ],
                },
            },
            PodAntiAffinity = new V1PodAntiAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution =
                [
                    new V1PodAffinityTerm { TopologyKey = Labels.Hostname, LabelSelector = new V1LabelSelector { MatchLabels = Selector(options) } },
                ],
            },
        },
        TopologySpreadConstraints =
        [
            new V1TopologySpreadConstraint
            {
                MaxSkew = 1,
                TopologyKey = Labels.TopologyZone,
                WhenUnsatisfiable = "DoNotSchedule",
                LabelSelector = new V1LabelSelector { MatchLabels = Selector(options) },
            },
        ],
        Containers =
        [
            new V1Container
            {
                Name = "controller",
                Image = options.Image,
                ImagePullPolicy = "IfNotPresent",
                Args = ["run"],
                Env =
                [
                    new V1EnvVar { Name = "SYSTEM_NAMESPACE", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" } } },
                    new V1EnvVar { Name = "KARPENTER_SERVICE", Value = options.Name },
                    new V1EnvVar { Name = "CLUSTER_NAME", Value = "my-cluster" },
                    new V1EnvVar { Name = "METRICS_PORT", Value = MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    new V1EnvVar { Name = "HEALTH_PROBE_PORT", Value = HealthPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    new V1EnvVar { Name = "WEBHOOK_PORT", Value = WebhookPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    new V1EnvVar { Name = "WEBHOOK_CERT_FILE", Value = $"{CertificateDirectory}/tls.crt" },
                    new V1EnvVar { Name = "WEBHOOK_KEY_FILE", Value = $"{CertificateDirectory}/tls.key" },
                    new V1EnvVar { Name = "WEBHOOK_CA_FILE", Value = $"{CertificateDirectory}/ca.crt" },
                ],
                Ports =
                [
                    new V1ContainerPort { Name = "http-metrics", ContainerPort = MetricsPort, Protocol = "TCP" },
                    new V1ContainerPort { Name = "http", ContainerPort = HealthPort, Protocol = "TCP" },
                    new V1ContainerPort { Name = "https-webhook", ContainerPort = WebhookPort, Protocol = "TCP" },
                ],
                LivenessProbe = new V1Probe { InitialDelaySeconds = 30, TimeoutSeconds = 30, HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = "http" } },
                ReadinessProbe = new V1Probe { InitialDelaySeconds = 5, TimeoutSeconds = 30, HttpGet = new V1HTTPGetAction { Path = "/readyz", Port = "http" } },
                Resources = new V1ResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1"), ["memory"] = new("1Gi") },
                    Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("1Gi") },
                },
                SecurityContext = new V1SecurityContext
                {
                    RunAsNonRoot = true,
                    RunAsUser = 65532,
                    RunAsGroup = 65532,
                    ReadOnlyRootFilesystem = true,
                    AllowPrivilegeEscalation = false,
                    Capabilities = new V1Capabilities { Drop = ["ALL"] },
                },
                VolumeMounts = [new V1VolumeMount { Name = "webhook-certificate", MountPath = CertificateDirectory, ReadOnlyProperty = true }],
            },
        ],
        Volumes =
        [
            new V1Volume { Name = "webhook-certificate", Secret = new V1SecretVolumeSource { SecretName = $"{options.Name}-webhook-cert", Optional = true } },
        ],
    };

    private static Dictionary<string, string> Selector(ManifestOptions options) => new()
    {
        ["app.kubernetes.io/name"] = options.Name,
        ["app.kubernetes.io/instance"] = options.Name,
    };
}
