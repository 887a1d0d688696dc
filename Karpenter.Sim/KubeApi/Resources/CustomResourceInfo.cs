namespace Karpenter.Sim.KubeApi.Resources;

/// <summary>What a served custom resource version knows about the CRD that defines it.</summary>
internal sealed class CustomResourceInfo
{
    /// <summary><c>&lt;plural&gt;.&lt;group&gt;</c>.</summary>
    public required string CrdName { get; init; }

    public required string StorageVersion { get; init; }

    /// <summary>The version discovery advertises as preferred (highest priority served version).</summary>
    public required string PreferredVersion { get; init; }
}
