using k8s.Models;

namespace Karpenter.Sim.World;

/// <summary>
/// The kube-system DaemonSets every EKS cluster runs, with the EKS add-ons' requests, tolerations and affinity, so
/// that Karpenter's DaemonSet overhead is real: <c>aws-node</c> (VPC CNI and network policy agent, 25m CPU each, host
/// network) and <c>kube-proxy</c> (100m CPU). Both tolerate every taint and run on Linux nodes that are not Fargate,
/// hybrid or Auto Mode.
/// </summary>
public static class SystemWorkloads
{
    public const string Namespace = "kube-system";

    public static IReadOnlyList<V1DaemonSet> DaemonSets(string region) =>
    [
        DaemonSet(
            "aws-node",
            [
                Container("aws-node", $"602401143452.dkr.ecr.{region}.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1", "25m"),
                Container("aws-eks-nodeagent", $"602401143452.dkr.ecr.{region}.amazonaws.com/amazon/aws-network-policy-agent:v1.1.6-eksbuild.1", "25m"),
            ],
            [Container("aws-vpc-cni-init", $"602401143452.dkr.ecr.{region}.amazonaws.com/amazon-k8s-cni-init:v1.19.2-eksbuild.1", "25m")]),
        DaemonSet(
            "kube-proxy",
            [Container("kube-proxy", $"602401143452.dkr.ecr.{region}.amazonaws.com/eks/kube-proxy:v1.32.0-minimal-eksbuild.2", "100m")],
            []),
    ];

    private static V1Container Container(string name, string image, string cpu) => new()
    {
        Name = name,
        Image = image,
        Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu) } },
    };

    private static V1DaemonSet DaemonSet(string name, IList<V1Container> containers, IList<V1Container> initContainers)
    {
        var labels = new Dictionary<string, string> { ["k8s-app"] = name };
        return new V1DaemonSet
        {
            ApiVersion = "apps/v1",
            Kind = "DaemonSet",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace, Labels = new Dictionary<string, string>(labels) },
            Spec = new V1DaemonSetSpec
            {
                Selector = new V1LabelSelector { MatchLabels = labels },
                UpdateStrategy = new V1DaemonSetUpdateStrategy
                {
                    Type = "RollingUpdate",
                    RollingUpdate = new V1RollingUpdateDaemonSet { MaxUnavailable = "10%" },
                },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels) },
                    Spec = new V1PodSpec
                    {
                        HostNetwork = true,
                        PriorityClassName = "system-node-critical",
                        Tolerations = [new V1Toleration { OperatorProperty = "Exists" }],
                        Affinity = new V1Affinity
                        {
                            NodeAffinity = new V1NodeAffinity
                            {
                                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                                {
                                    NodeSelectorTerms =
                                    [
                                        new V1NodeSelectorTerm
                                        {
                                            MatchExpressions =
                                            [
                                                new V1NodeSelectorRequirement { Key = "kubernetes.io/os", OperatorProperty = "In", Values = ["linux"] },
                                                new V1NodeSelectorRequirement { Key = "kubernetes.io/arch", OperatorProperty = "In", Values = ["amd64", "arm64"] },
                                                new V1NodeSelectorRequirement { Key = "eks.amazonaws.com/compute-type", OperatorProperty = "NotIn", Values = ["fargate", "hybrid", "auto"] },
                                            ],
                                        },
                                    ],
                                },
                            },
                        },
                        Containers = containers,
                        InitContainers = initContainers.Count == 0 ? null : initContainers,
                    },
                },
            },
        };
    }
}
