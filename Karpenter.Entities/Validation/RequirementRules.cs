using System.Globalization;
using FluentValidation;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Entities;

namespace Karpenter.Entities.Validation;

/// <summary>The rules on node selector requirements that NodePools and NodeClaims share, CEL and runtime alike.</summary>
internal static class RequirementRules
{
    private static readonly string[] CapacityTypeValues = [CapacityTypes.OnDemand, CapacityTypes.Reserved, CapacityTypes.Spot];

    /// <summary>The list's CEL rules, then each key's, then the runtime checks upstream's controller makes.</summary>
    public static void Validate<TEntity, TRequirement>(ValidationContext<TEntity> context, string path, IReadOnlyList<TRequirement>? requirements, bool nodePoolKeyAllowed)
        where TRequirement : NodeSelectorRequirementWithMinValues
    {
        if (requirements is null)
        {
            return;
        }

        if (requirements.Any(r => r.Operator == "In" && (r.Values?.Count ?? 0) == 0))
        {
            Failures.Add(context, FieldError.Rule(path, "array", CelRules.InNeedsValuesMessage));
        }

        if (requirements.Any(r => r.Operator is "Gt" or "Lt" or "Gte" or "Lte" && !(r.Values is [var single] && IsNonNegativeCelInt(single))))
        {
            Failures.Add(context, FieldError.Rule(path, "array", CelRules.ComparisonNeedsOneIntegerMessage));
        }

        if (requirements.Any(r => r.Operator == "In" && r.MinValues is { } min && (r.Values?.Count ?? 0) < min))
        {
            Failures.Add(context, FieldError.Rule(path, "array", CelRules.MinValuesWithinValuesMessage));
        }

        for (var i = 0; i < requirements.Count; i++)
        {
            var requirement = requirements[i];
            var keyPath = $"{path}[{i}].key";
            var key = requirement.Key ?? string.Empty;
            foreach (var message in KeyRuleFailures(key, nodePoolKeyAllowed))
            {
                Failures.Add(context, FieldError.Rule(keyPath, "string", message));
            }

            if (RestrictedLabels.Check(key) is { } restricted && !(nodePoolKeyAllowed && RestrictedLabels.Normalize(key) == Labels.NodePool))
            {
                Failures.Add(context, FieldError.Invalid(keyPath, key, restricted));
            }

            if (RestrictedLabels.Normalize(key) == Labels.CapacityType && requirement.Operator is "In" or "NotIn")
            {
                var unknown = (requirement.Values ?? []).Where(v => !CapacityTypeValues.Contains(v, StringComparer.Ordinal)).ToList();
                if (unknown.Count > 0)
                {
                    context.AddFailure(new FluentValidation.Results.ValidationFailure(
                        $"{path}[{i}].values",
                        $"{path}[{i}].values: capacity types {string.Join(", ", unknown.Select(FieldError.GoQuote))} are not known and will be ignored; known capacity types are \"on-demand\", \"reserved\", \"spot\"")
                    {
                        Severity = Severity.Warning,
                    });
                }
            }
        }
    }

    /// <summary>The messages of the CEL rules on a requirement key that <paramref name="key"/> fails, in the CRD's order.</summary>
    public static IEnumerable<string> KeyRuleFailures(string key, bool nodePoolKeyAllowed)
    {
        if (!(key is Labels.CapacityType or Labels.NodePool) && Domain(key).EndsWith(Labels.KarpenterGroup, StringComparison.Ordinal))
        {
            yield return CelRules.KarpenterDomainMessage;
        }

        if (!nodePoolKeyAllowed && key == Labels.NodePool)
        {
            yield return CelRules.NodePoolMessage;
        }

        if (key == Labels.Hostname)
        {
            yield return CelRules.HostnameMessage;
        }

        if (Domain(key).EndsWith(Labels.AwsGroup, StringComparison.Ordinal) && !AwsDomainAllowed.Contains(key))
        {
            yield return CelRules.AwsDomainMessage;
        }
    }

    /// <summary>CEL's <c>find("^([^/]+)")</c>: everything before the first slash (the whole key without one).</summary>
    public static string Domain(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? key : key[..slash];
    }

    /// <summary>CEL's <c>int(s) &gt;= 0</c>: a base-10 integer with an optional sign, within 64 bits.</summary>
    public static bool IsNonNegativeCelInt(string? value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= 0;

    /// <summary>The <c>karpenter.k8s.aws</c> labels the CRD's CEL rules let users constrain.</summary>
    public static readonly IReadOnlySet<string> AwsDomainAllowed = new HashSet<string>(StringComparer.Ordinal)
    {
        Labels.InstanceTenancy, Labels.CapacityReservationType, Labels.CapacityReservationId, Labels.CapacityReservationInterruptible,
        Labels.Ec2NodeClass, Labels.InstanceEncryptionInTransitSupported, Labels.NitroSandbox, Labels.InstanceCategory,
        Labels.InstanceHypervisor, Labels.InstanceFamily, Labels.InstanceGeneration, Labels.InstanceLocalNvme, Labels.InstanceSize,
        Labels.InstanceCpu, Labels.InstanceCpuManufacturer, Labels.InstanceCpuSustainedClockSpeedMhz, Labels.InstanceMemory,
        Labels.InstanceEbsBandwidth, Labels.InstanceNetworkBandwidth, Labels.InstanceGpuName, Labels.InstanceGpuManufacturer,
        Labels.InstanceGpuCount, Labels.InstanceGpuMemory, Labels.InstanceAcceleratorName, Labels.InstanceAcceleratorManufacturer,
        Labels.InstanceAcceleratorCount, Labels.InstanceCapabilityFlex, Labels.PlacementGroupId, Labels.PlacementGroupPartition,
    };

}
