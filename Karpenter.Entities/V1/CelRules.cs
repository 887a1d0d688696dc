namespace Karpenter.Entities.V1;

/// <summary>
/// The CEL rules upstream injects into the shipped CRDs for label keys, verbatim (they are attribute arguments, so they
/// are constants). <c>Messages</c> are what a user sees when a rule fails.
/// </summary>
internal static class CelRules
{
    private const string AwsWellKnownLabelsWithDuplicate =
        "[\"karpenter.k8s.aws/instance-tenancy\", \"karpenter.k8s.aws/capacity-reservation-type\", \"karpenter.k8s.aws/capacity-reservation-id\", \"karpenter.k8s.aws/capacity-reservation-interruptible\", \"karpenter.k8s.aws/capacity-reservation-interruptible\", \"karpenter.k8s.aws/ec2nodeclass\", \"karpenter.k8s.aws/instance-encryption-in-transit-supported\", \"karpenter.k8s.aws/nitro-sandbox\", \"karpenter.k8s.aws/instance-category\", \"karpenter.k8s.aws/instance-hypervisor\", \"karpenter.k8s.aws/instance-family\", \"karpenter.k8s.aws/instance-generation\", \"karpenter.k8s.aws/instance-local-nvme\", \"karpenter.k8s.aws/instance-size\", \"karpenter.k8s.aws/instance-cpu\", \"karpenter.k8s.aws/instance-cpu-manufacturer\", \"karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz\", \"karpenter.k8s.aws/instance-memory\", \"karpenter.k8s.aws/instance-ebs-bandwidth\", \"karpenter.k8s.aws/instance-network-bandwidth\", \"karpenter.k8s.aws/instance-gpu-name\", \"karpenter.k8s.aws/instance-gpu-manufacturer\", \"karpenter.k8s.aws/instance-gpu-count\", \"karpenter.k8s.aws/instance-gpu-memory\", \"karpenter.k8s.aws/instance-accelerator-name\", \"karpenter.k8s.aws/instance-accelerator-manufacturer\", \"karpenter.k8s.aws/instance-accelerator-count\", \"karpenter.k8s.aws/instance-capability-flex\", \"karpenter.k8s.aws/placement-group-id\", \"karpenter.k8s.aws/placement-group-partition\"]";

    private const string AwsWellKnownLabels =
        "[\"karpenter.k8s.aws/instance-tenancy\", \"karpenter.k8s.aws/capacity-reservation-type\", \"karpenter.k8s.aws/capacity-reservation-id\", \"karpenter.k8s.aws/capacity-reservation-interruptible\", \"karpenter.k8s.aws/ec2nodeclass\", \"karpenter.k8s.aws/instance-encryption-in-transit-supported\", \"karpenter.k8s.aws/nitro-sandbox\", \"karpenter.k8s.aws/instance-category\", \"karpenter.k8s.aws/instance-hypervisor\", \"karpenter.k8s.aws/instance-family\", \"karpenter.k8s.aws/instance-generation\", \"karpenter.k8s.aws/instance-local-nvme\", \"karpenter.k8s.aws/instance-size\", \"karpenter.k8s.aws/instance-cpu\", \"karpenter.k8s.aws/instance-cpu-manufacturer\", \"karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz\", \"karpenter.k8s.aws/instance-memory\", \"karpenter.k8s.aws/instance-ebs-bandwidth\", \"karpenter.k8s.aws/instance-network-bandwidth\", \"karpenter.k8s.aws/instance-gpu-name\", \"karpenter.k8s.aws/instance-gpu-manufacturer\", \"karpenter.k8s.aws/instance-gpu-count\", \"karpenter.k8s.aws/instance-gpu-memory\", \"karpenter.k8s.aws/instance-accelerator-name\", \"karpenter.k8s.aws/instance-accelerator-manufacturer\", \"karpenter.k8s.aws/instance-accelerator-count\", \"karpenter.k8s.aws/instance-capability-flex\", \"karpenter.k8s.aws/placement-group-id\", \"karpenter.k8s.aws/placement-group-partition\"]";

    // Template labels (a map: the rules iterate its keys).
    public const string LabelsKarpenterDomain = "self.all(x, x in [\"karpenter.sh/capacity-type\", \"karpenter.sh/nodepool\"] || !x.find(\"^([^/]+)\").endsWith(\"karpenter.sh\"))";
    public const string LabelsNodePool = "self.all(x, x != \"karpenter.sh/nodepool\")";
    public const string LabelsHostname = "self.all(x, x != \"kubernetes.io/hostname\")";
    public const string LabelsAwsDomain = "self.all(x, x in " + AwsWellKnownLabelsWithDuplicate + " || !x.find(\"^([^/]+)\").endsWith(\"karpenter.k8s.aws\"))";

    // Requirement keys (a string).
    public const string KeyKarpenterDomain = "self in [\"karpenter.sh/capacity-type\", \"karpenter.sh/nodepool\"] || !self.find(\"^([^/]+)\").endsWith(\"karpenter.sh\")";
    public const string KeyNodePool = "self != \"karpenter.sh/nodepool\"";
    public const string KeyHostname = "self != \"kubernetes.io/hostname\"";
    public const string KeyAwsDomain = "self in " + AwsWellKnownLabels + " || !self.find(\"^([^/]+)\").endsWith(\"karpenter.k8s.aws\")";

    public const string KarpenterDomainMessage = "label domain \"karpenter.sh\" is restricted";
    public const string NodePoolMessage = "label \"karpenter.sh/nodepool\" is restricted";
    public const string HostnameMessage = "label \"kubernetes.io/hostname\" is restricted";
    public const string AwsDomainMessage = "label domain \"karpenter.k8s.aws\" is restricted";

    // Requirement lists.
    public const string InNeedsValues = "self.all(x, x.operator == 'In' ? x.values.size() != 0 : true)";
    public const string InNeedsValuesMessage = "requirements with operator 'In' must have a value defined";
    public const string ComparisonNeedsOneInteger = "self.all(x, (x.operator == 'Gt' || x.operator == 'Lt' || x.operator == 'Gte' || x.operator == 'Lte') ? (x.values.size() == 1 && int(x.values[0]) >= 0) : true)";
    public const string ComparisonNeedsOneIntegerMessage = "requirements operator 'Gt', 'Lt', 'Gte', or 'Lte' must have a single positive integer value";
    public const string MinValuesWithinValues = "self.all(x, (x.operator == 'In' && has(x.minValues)) ? x.values.size() >= x.minValues : true)";
    public const string MinValuesWithinValuesMessage = "requirements with 'minValues' must have at least that many values specified in the 'values' field";

    // Budgets.
    public const string ScheduleWithDuration = "self.all(x, has(x.schedule) == has(x.duration))";
    public const string ScheduleWithDurationMessage = "'schedule' must be set with 'duration'";
}
