namespace Karpenter.Entities.WellKnown;

/// <summary>Taint keys and effects Karpenter places or recognises.</summary>
public static class Taints
{
    public const string EffectNoSchedule = "NoSchedule";
    public const string EffectPreferNoSchedule = "PreferNoSchedule";
    public const string EffectNoExecute = "NoExecute";

    /// <summary><c>karpenter.sh/disrupted:NoSchedule</c>, on disruption candidates and terminating nodes.</summary>
    public const string DisruptedKey = "karpenter.sh/disrupted";

    /// <summary><c>karpenter.sh/unregistered:NoExecute</c>, registered by the kubelet at launch and removed at registration.</summary>
    public const string UnregisteredKey = "karpenter.sh/unregistered";

    public const string NotReadyKey = "node.kubernetes.io/not-ready";
    public const string UnreachableKey = "node.kubernetes.io/unreachable";
    public const string UnschedulableKey = "node.kubernetes.io/unschedulable";
    public const string CloudProviderUninitializedKey = "node.cloudprovider.kubernetes.io/uninitialized";

    /// <summary>Taints with this key prefix are ephemeral: initialization waits for them to go.</summary>
    public const string ReadinessPrefix = "readiness.k8s.io/";
}

/// <summary>Finalizers Karpenter owns.</summary>
public static class Finalizers
{
    /// <summary>On NodeClaims and Nodes.</summary>
    public const string Termination = "karpenter.sh/termination";

    /// <summary>On EC2NodeClasses.</summary>
    public const string AwsTermination = "karpenter.k8s.aws/termination";
}
