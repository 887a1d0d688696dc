using FluentValidation;
using Karpenter.Entities.Aws.V1;
using Karpenter.Kube.Entities;

namespace Karpenter.Entities.Validation;

/// <summary>
/// Validates <c>karpenter.k8s.aws/v1</c> EC2NodeClasses: the CRD's schema and every CEL rule (role or instance
/// profile, AMI family and aliases, selector terms, tags, the kubelet block, block devices, network interfaces,
/// placement group, connection tracking), plus what CEL cannot check: tag keys AWS reserves (<c>aws:</c>) and
/// eviction grace periods that must parse as durations.
/// </summary>
public sealed class EC2NodeClassValidator : ApiValidator<EC2NodeClass>
{
    private static readonly string[] AliasFamilies = ["al2", "al2023", "bottlerocket", "windows2019", "windows2022", "windows2025"];
    private static readonly string[] WindowsFamilies = ["windows2019", "windows2022", "windows2025"];
    private static readonly System.Text.RegularExpressions.Regex AliasFormat = new("^[a-zA-Z0-9]+@.+$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    public EC2NodeClassValidator()
    {
        RuleFor(nodeClass => nodeClass.Spec).Custom((spec, context) =>
        {
            ValidateIdentity(context, spec);
            ValidateAmis(context, spec);
            ValidateSelectors(context, spec);
            ValidateTags(context, spec.Tags);
            if (spec.Kubelet is { } kubelet)
            {
                ValidateKubelet(context, kubelet);
            }

            ValidateLaunchOptions(context, spec);
        });
    }

    private static void ValidateIdentity(ValidationContext<EC2NodeClass> context, EC2NodeClassSpec spec)
    {
        if ((spec.Role is null) == (spec.InstanceProfile is null))
        {
            Rule(context, "spec", "object", "must specify exactly one of ['role', 'instanceProfile']");
        }

        if (spec.Role == string.Empty)
        {
            Rule(context, "spec.role", "string", "role cannot be empty");
        }

        if (spec.InstanceProfile == string.Empty)
        {
            Rule(context, "spec.instanceProfile", "string", "instanceProfile cannot be empty");
        }
    }

    private static void ValidateAmis(ValidationContext<EC2NodeClass> context, EC2NodeClassSpec spec)
    {
        var terms = spec.AmiSelectorTerms ?? [];
        var aliasFamilies = terms.Where(t => t.Alias is not null).Select(t => t.Alias!.Split('@')[0]).ToHashSet(StringComparer.Ordinal);
        if (spec.AmiFamily is { } family)
        {
            foreach (var (alias, expected, message) in new[]
                     {
                         ("al2", AmiFamily.AL2, "if set, amiFamily must be 'AL2' or 'Custom' when using an AL2 alias"),
                         ("al2023", AmiFamily.AL2023, "if set, amiFamily must be 'AL2023' or 'Custom' when using an AL2023 alias"),
                         ("bottlerocket", AmiFamily.Bottlerocket, "if set, amiFamily must be 'Bottlerocket' or 'Custom' when using a Bottlerocket alias"),
                         ("windows2019", AmiFamily.Windows2019, "if set, amiFamily must be 'Windows2019' or 'Custom' when using a Windows2019 alias"),
                         ("windows2022", AmiFamily.Windows2022, "if set, amiFamily must be 'Windows2022' or 'Custom' when using a Windows2022 alias"),
                         ("windows2025", AmiFamily.Windows2025, "if set, amiFamily must be 'Windows2025' or 'Custom' when using a Windows2025 alias"),
                     })
            {
                if (aliasFamilies.Contains(alias) && family != AmiFamily.Custom && family != expected)
                {
                    Rule(context, "spec", "object", message);
                }
            }
        }

        if (!terms.Any(t => t.Alias is not null) && spec.AmiFamily is null)
        {
            Rule(context, "spec", "object", "must specify amiFamily if amiSelectorTerms does not contain an alias");
        }

        const string path = "spec.amiSelectorTerms";
        if (terms.Any(t => t.Tags is null && t.Id is null && t.Name is null && t.Alias is null && t.SsmParameter is null))
        {
            Rule(context, path, "array", "expected at least one, got none, ['tags', 'id', 'name', 'alias', 'ssmParameter']");
        }

        if (terms.Any(t => t.Id is not null && (t.Alias is not null || t.Tags is not null || t.Name is not null || t.Owner is not null)))
        {
            Rule(context, path, "array", "'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms");
        }

        if (terms.Any(t => t.Alias is not null && (t.Id is not null || t.Tags is not null || t.Name is not null || t.Owner is not null)))
        {
            Rule(context, path, "array", "'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms");
        }

        if (terms.Any(t => t.Alias is not null) && terms.Count != 1)
        {
            Rule(context, path, "array", "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms");
        }

        for (var i = 0; i < terms.Count; i++)
        {
            if (terms[i].Alias is { } alias)
            {
                var parts = alias.Split('@');
                if (!AliasFormat.IsMatch(alias))
                {
                    Rule(context, $"{path}[{i}].alias", "string", "'alias' is improperly formatted, must match the format 'family@version'");
                }

                if (!AliasFamilies.Contains(parts[0], StringComparer.Ordinal))
                {
                    Rule(context, $"{path}[{i}].alias", "string", "family is not supported, must be one of the following: 'al2', 'al2023', 'bottlerocket', 'windows2019', 'windows2022', 'windows2025'");
                }

                if (WindowsFamilies.Contains(parts[0], StringComparer.Ordinal) && !(parts.Length > 1 && parts[1] == "latest"))
                {
                    Rule(context, $"{path}[{i}].alias", "string", "windows families may only specify version 'latest'");
                }
            }

            SelectorTags(context, $"{path}[{i}].tags", terms[i].Tags);
        }
    }

    private static void ValidateSelectors(ValidationContext<EC2NodeClass> context, EC2NodeClassSpec spec)
    {
        var subnets = spec.SubnetSelectorTerms;
        if (subnets is not null)
        {
            const string path = "spec.subnetSelectorTerms";
            if (subnets.Count == 0)
            {
                Rule(context, path, "array", "subnetSelectorTerms cannot be empty");
            }

            if (!subnets.All(t => t.Tags is not null || t.Id is not null))
            {
                Rule(context, path, "array", "expected at least one, got none, ['tags', 'id']");
            }

            // Upstream's rule reads "all", not "exists": it only fires when every term mixes id and tags.
            if (subnets.Count > 0 && subnets.All(t => t.Id is not null && t.Tags is not null))
            {
                Rule(context, path, "array", "'id' is mutually exclusive, cannot be set with a combination of other fields in a subnet selector term");
            }

            for (var i = 0; i < subnets.Count; i++)
            {
                SelectorTags(context, $"{path}[{i}].tags", subnets[i].Tags);
            }
        }

        var groups = spec.SecurityGroupSelectorTerms;
        if (groups is not null)
        {
            const string path = "spec.securityGroupSelectorTerms";
            if (groups.Count == 0)
            {
                Rule(context, path, "array", "securityGroupSelectorTerms cannot be empty");
            }

            if (!groups.All(t => t.Tags is not null || t.Id is not null || t.Name is not null))
            {
                Rule(context, path, "array", "expected at least one, got none, ['tags', 'id', 'name']");
            }

            if (groups.Count > 0 && groups.All(t => t.Id is not null && (t.Tags is not null || t.Name is not null)))
            {
                Rule(context, path, "array", "'id' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term");
            }

            if (groups.Count > 0 && groups.All(t => t.Name is not null && (t.Tags is not null || t.Id is not null)))
            {
                Rule(context, path, "array", "'name' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term");
            }

            for (var i = 0; i < groups.Count; i++)
            {
                SelectorTags(context, $"{path}[{i}].tags", groups[i].Tags);
            }
        }

        var reservations = spec.CapacityReservationSelectorTerms;
        if (reservations is not null)
        {
            const string path = "spec.capacityReservationSelectorTerms";
            if (!reservations.All(t => t.Tags is not null || t.Id is not null || t.InstanceMatchCriteria is not null))
            {
                Rule(context, path, "array", "expected at least one, got none, ['tags', 'id', 'instanceMatchCriteria']");
            }

            if (reservations.Count > 0 && reservations.All(t => t.Id is not null && (t.Tags is not null || t.OwnerId is not null || t.InstanceMatchCriteria is not null)))
            {
                Rule(context, path, "array", "'id' is mutually exclusive, cannot be set along with other fields in a capacity reservation selector term");
            }

            for (var i = 0; i < reservations.Count; i++)
            {
                SelectorTags(context, $"{path}[{i}].tags", reservations[i].Tags);
            }
        }
    }

    private static void SelectorTags(ValidationContext<EC2NodeClass> context, string path, Dictionary<string, string>? tags)
    {
        if (tags is not null && tags.Any(t => t.Key.Length == 0 || t.Value.Length == 0))
        {
            Rule(context, path, "object", "empty tag keys or values aren't supported");
        }
    }

    private static void ValidateTags(ValidationContext<EC2NodeClass> context, Dictionary<string, string>? tags)
    {
        if (tags is null)
        {
            return;
        }

        const string path = "spec.tags";
        var keys = tags.Keys.ToList();
        foreach (var (failed, message) in new[]
                 {
                     (keys.Any(k => k.Length == 0), "empty tag keys aren't supported"),
                     (keys.Contains("eks:eks-cluster-name"), "tag contains a restricted tag matching eks:eks-cluster-name"),
                     (keys.Any(k => k.StartsWith("kubernetes.io/cluster", StringComparison.Ordinal)), "tag contains a restricted tag matching kubernetes.io/cluster/"),
                     (keys.Contains("karpenter.sh/nodepool"), "tag contains a restricted tag matching karpenter.sh/nodepool"),
                     (keys.Contains("karpenter.sh/nodeclaim"), "tag contains a restricted tag matching karpenter.sh/nodeclaim"),
                     (keys.Contains("karpenter.k8s.aws/ec2nodeclass"), "tag contains a restricted tag matching karpenter.k8s.aws/ec2nodeclass"),
                 })
        {
            if (failed)
            {
                Rule(context, path, "object", message);
            }
        }

        // AWS refuses to create tags whose keys start with "aws:" (its own prefix); CEL does not know.
        foreach (var key in keys.Where(k => k.StartsWith("aws:", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
        {
            Invalid(context, $"{path}[{key}]", key, "tag keys starting with \"aws:\" are reserved by AWS and cannot be set");
        }
    }

    private static void ValidateKubelet(ValidationContext<EC2NodeClass> context, KubeletConfiguration kubelet)
    {
        const string path = "spec.kubelet";
        if (kubelet.ImageGCHighThresholdPercent is { } high && kubelet.ImageGCLowThresholdPercent is { } low && high <= low)
        {
            Rule(context, path, "object", "imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent");
        }

        if (kubelet.EvictionSoft is { } soft && !soft.Keys.All(k => kubelet.EvictionSoftGracePeriod?.ContainsKey(k) == true))
        {
            Rule(context, path, "object", "evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod");
        }

        if (kubelet.EvictionSoftGracePeriod is { } grace && !grace.Keys.All(k => kubelet.EvictionSoft?.ContainsKey(k) == true))
        {
            Rule(context, path, "object", "evictionSoftGracePeriod OwnerKey does not have a matching evictionSoft");
        }

        foreach (var (name, map) in new[] { ("evictionHard", kubelet.EvictionHard), ("evictionSoft", kubelet.EvictionSoft), ("evictionSoftGracePeriod", kubelet.EvictionSoftGracePeriod) })
        {
            if (map is not null && !map.Keys.All(k => KubeletConfiguration.EvictionSignalNames.Contains(k)))
            {
                Rule(context, $"{path}.{name}", "object", $"valid keys for {name} are {KubeletConfiguration.EvictionSignals}");
            }
        }

        foreach (var (name, map) in new[] { ("systemReserved", kubelet.SystemReserved), ("kubeReserved", kubelet.KubeReserved) })
        {
            if (map is null)
            {
                continue;
            }

            if (!map.Keys.All(k => KubeletConfiguration.ReservedResourceNames.Contains(k)))
            {
                Rule(context, $"{path}.{name}", "object", $"valid keys for {name} are {KubeletConfiguration.ReservedResources}");
            }

            if (map.Values.Any(v => v.StartsWith('-')))
            {
                Rule(context, $"{path}.{name}", "object", $"{name} value cannot be a negative resource quantity");
            }
        }

        foreach (var (signal, period) in kubelet.EvictionSoftGracePeriod ?? [])
        {
            if (!GoDuration.TryParse(period, out _, out var error))
            {
                Invalid(context, $"{path}.evictionSoftGracePeriod[{signal}]", period, $"must be a duration such as 30s or 1m30s: {error}");
            }
        }
    }

    private static void ValidateLaunchOptions(ValidationContext<EC2NodeClass> context, EC2NodeClassSpec spec)
    {
        if (spec.BlockDeviceMappings is { } mappings)
        {
            if (mappings.Count(m => m.RootVolume == true) > 1)
            {
                Rule(context, "spec.blockDeviceMappings", "array", "must have only one blockDeviceMappings with rootVolume");
            }

            for (var i = 0; i < mappings.Count; i++)
            {
                if (mappings[i].Ebs is not { } ebs)
                {
                    continue;
                }

                if (ebs.SnapshotId is null && ebs.VolumeSize is null)
                {
                    Rule(context, $"spec.blockDeviceMappings[{i}].ebs", "object", "snapshotID or volumeSize must be defined");
                }

                if (ebs.VolumeInitializationRate is not null && string.IsNullOrEmpty(ebs.SnapshotId))
                {
                    Rule(context, $"spec.blockDeviceMappings[{i}].ebs", "object", "snapshotID must be set when volumeInitializationRate is set");
                }
            }
        }

        if (spec.NetworkInterfaces is { } interfaces)
        {
            const string path = "spec.networkInterfaces";
            if (interfaces.Count > 0 && !interfaces.Any(x => x.DeviceIndex == 0 && x.NetworkCardIndex == 0 && x.InterfaceType == InterfaceType.Interface))
            {
                Rule(context, path, "array", "networkInterfaces must include a primary interface with interfaceType='interface'");
            }

            if (!interfaces.All(x =>
                    interfaces.Count(y => x.NetworkCardIndex == y.NetworkCardIndex && x.DeviceIndex == y.DeviceIndex) == 1
                    && (x.InterfaceType != InterfaceType.EfaOnly || interfaces.Count(y => x.NetworkCardIndex == y.NetworkCardIndex && y.InterfaceType == InterfaceType.EfaOnly) == 1)))
            {
                Rule(context, path, "array", "networkInterfaces must not have duplicate networkCardIndex and deviceIndex pairs, and can have at most one efa device per network card");
            }
        }

        if (spec.PlacementGroupSelector is { } placement)
        {
            if (placement.Name is null && placement.Id is null)
            {
                Rule(context, "spec.placementGroupSelector", "object", "expected at least one, got none, ['name', 'id']");
            }

            if (placement.Name is not null && placement.Id is not null)
            {
                Rule(context, "spec.placementGroupSelector", "object", "'name' and 'id' are mutually exclusive");
            }
        }

        if (spec.ConnectionTracking is { TcpEstablishedTimeout: null, UdpStreamTimeout: null, UdpTimeout: null })
        {
            Rule(context, "spec.connectionTracking", "object", "at least one of tcpEstablishedTimeout, udpStreamTimeout, or udpTimeout must be set");
        }
    }
}
