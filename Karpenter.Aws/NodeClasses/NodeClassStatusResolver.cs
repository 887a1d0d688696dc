using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using k8s.Models;
using Karpenter.Aws.Amis;
using Karpenter.Aws.InstanceProfiles;
using Karpenter.Aws.LaunchTemplates;
using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Aws.SecurityGroups;
using Karpenter.Aws.Subnets;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.NodeClasses;

/// <summary>
/// Resolves an EC2NodeClass's selectors into its status and sets its conditions (upstream
/// <c>pkg/controllers/nodeclass/status</c>): subnets (most free addresses first), security groups, AMIs (with the
/// requirements each is for), the instance profile (created for a <c>role</c>), and validation (reserved tags, user data that
/// can be rendered, and a DryRun CreateFleet proving the controller may launch). Every failure names itself in the
/// condition's reason and message, so <c>Ready</c> explains why nothing launches from this NodeClass.
/// </summary>
public sealed class NodeClassStatusResolver(SubnetProvider subnets, SecurityGroupProvider securityGroups, AmiProvider amis,
    InstanceProfileProvider profiles, LaunchTemplateProvider launchTemplates, IAmazonEC2 ec2, TimeProvider time, IOptions<AwsOptions> options)
{
    /// <summary>Ready is True when all of these are.</summary>
    public static ConditionSet Conditions { get; } = new(ConditionTypes.Ready, ConditionTypes.AmisReady, ConditionTypes.SubnetsReady,
        ConditionTypes.SecurityGroupsReady, ConditionTypes.InstanceProfileReady, ConditionTypes.ValidationSucceeded);

    /// <summary>A validation result stays valid this long for the same resolved status (upstream caches 30 minutes).</summary>
    public static readonly TimeSpan ValidationCacheTtl = TimeSpan.FromMinutes(30);

    private readonly TtlCache<string, (string Reason, string Message)?> _validations = new(time, ValidationCacheTtl);
    private readonly AwsOptions _options = options.Value;

    /// <summary>Resolves everything into <paramref name="nodeClass"/>'s status; returns when to resolve again.</summary>
    public async Task<TimeSpan> ResolveAsync(EC2NodeClass nodeClass, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        nodeClass.Status ??= new EC2NodeClassStatus();
        var conditions = nodeClass.Status.Conditions ??= [];
        var generation = nodeClass.Metadata.Generation;
        Conditions.Initialize(conditions, generation, time.GetUtcNow());
        var requeue = new List<TimeSpan>
        {
            await ResolveSubnetsAsync(nodeClass, cancellationToken),
            await ResolveSecurityGroupsAsync(nodeClass, cancellationToken),
            await ResolveAmisAsync(nodeClass, cancellationToken),
            await ResolveInstanceProfileAsync(nodeClass, cancellationToken),
            await ValidateAsync(nodeClass, cancellationToken),
        };
        Conditions.RecomputeRoot(conditions, generation, time.GetUtcNow());
        return requeue.Min();
    }

    private async Task<TimeSpan> ResolveSubnetsAsync(EC2NodeClass nodeClass, CancellationToken cancellationToken)
    {
        try
        {
            var found = await subnets.ListAsync(NodeClassInputs.SubnetTerms(nodeClass), cancellationToken);
            if (found.Count == 0)
            {
                nodeClass.Status.Subnets = null;
                SetFalse(nodeClass, ConditionTypes.SubnetsReady, "SubnetsNotFound",
                    "SubnetSelector did not match any Subnets: " + Describe(NodeClassInputs.SubnetTerms(nodeClass).Select(t => Term(("id", t.Id), t.Tags))));
                return _options.SubnetRefreshInterval;
            }
            nodeClass.Status.Subnets = [.. found
                .OrderByDescending(s => s.AvailableIpAddressCount).ThenBy(s => s.Id, StringComparer.Ordinal)
                .Select(s => new SubnetStatus { Id = s.Id, Zone = s.Zone, ZoneId = s.ZoneId })];
            SetTrue(nodeClass, ConditionTypes.SubnetsReady);
            return _options.SubnetRefreshInterval;
        }
        catch (Exception e) when (IsAwsFailure(e))
        {
            return Failed(nodeClass, ConditionTypes.SubnetsReady, "resolving subnets", e);
        }
    }

    private async Task<TimeSpan> ResolveSecurityGroupsAsync(EC2NodeClass nodeClass, CancellationToken cancellationToken)
    {
        try
        {
            var found = await securityGroups.ListAsync(NodeClassInputs.SecurityGroupTerms(nodeClass), cancellationToken);
            if (found.Count == 0)
            {
                nodeClass.Status.SecurityGroups = null;
                SetFalse(nodeClass, ConditionTypes.SecurityGroupsReady, "SecurityGroupsNotFound", "SecurityGroupSelector did not match any SecurityGroups: "
                    + Describe(NodeClassInputs.SecurityGroupTerms(nodeClass).Select(t => Term(("id", t.Id), t.Tags, ("name", t.Name)))));
                return TimeSpan.FromMinutes(5);
            }
            nodeClass.Status.SecurityGroups = [.. found.OrderBy(g => g.Id, StringComparer.Ordinal).Select(g => new SecurityGroupStatus { Id = g.Id, Name = g.Name })];
            SetTrue(nodeClass, ConditionTypes.SecurityGroupsReady);
            return TimeSpan.FromMinutes(5);
        }
        catch (Exception e) when (IsAwsFailure(e))
        {
            return Failed(nodeClass, ConditionTypes.SecurityGroupsReady, "resolving security groups", e);
        }
    }

    private async Task<TimeSpan> ResolveAmisAsync(EC2NodeClass nodeClass, CancellationToken cancellationToken)
    {
        try
        {
            var found = await amis.ListAsync(NodeClassInputs.AmiTerms(nodeClass), cancellationToken);
            if (found.Count == 0)
            {
                nodeClass.Status.Amis = null;
                SetFalse(nodeClass, ConditionTypes.AmisReady, "AMINotFound", "AMISelector did not match any AMIs: "
                    + Describe(NodeClassInputs.AmiTerms(nodeClass).Select(t => Term(("alias", t.Alias), t.Tags, ("id", t.Id), ("name", t.Name), ("owner", t.Owner), ("ssmParameter", t.SsmParameter)))));
                return TimeSpan.FromMinutes(1);
            }
            nodeClass.Status.Amis = [.. found.Select(a => new AmiStatus
            {
                Id = a.Id,
                Name = a.Name,
                Deprecated = a.Deprecated ? true : null,
                Requirements = [.. a.Requirements.ToNodeSelectorRequirements()
                    .OrderBy(r => r.Key.Length).ThenBy(r => r.Key, StringComparer.Ordinal)
                    .Select(r => new AmiRequirement { Key = r.Key, Operator = r.OperatorProperty, Values = r.Values?.ToList() })],
            })];
            SetTrue(nodeClass, ConditionTypes.AmisReady);
            return TimeSpan.FromMinutes(5);
        }
        catch (AmiResolutionException e)
        {
            nodeClass.Status.Amis = null;
            SetFalse(nodeClass, ConditionTypes.AmisReady, e.Reason, e.Message);
            return TimeSpan.FromMinutes(1);
        }
        catch (Exception e) when (IsAwsFailure(e))
        {
            return Failed(nodeClass, ConditionTypes.AmisReady, "resolving AMIs", e);
        }
    }

    private async Task<TimeSpan> ResolveInstanceProfileAsync(EC2NodeClass nodeClass, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(nodeClass.Spec.Role))
        {
            nodeClass.Status.InstanceProfile = nodeClass.Spec.InstanceProfile;
            SetTrue(nodeClass, ConditionTypes.InstanceProfileReady);
            return TimeSpan.FromMinutes(5);
        }
        try
        {
            nodeClass.Status.InstanceProfile = await profiles.EnsureAsync(nodeClass.Metadata.Name, nodeClass.Metadata.Uid ?? "", nodeClass.Spec.Role,
                nodeClass.Spec.Tags, cancellationToken);
            SetTrue(nodeClass, ConditionTypes.InstanceProfileReady);
            return TimeSpan.FromMinutes(5);
        }
        catch (RoleNotFoundException e)
        {
            SetFalse(nodeClass, ConditionTypes.InstanceProfileReady, "RoleNotFound", e.Message);
            return TimeSpan.FromMinutes(1);
        }
        catch (Exception e) when (IsAwsFailure(e))
        {
            return Failed(nodeClass, ConditionTypes.InstanceProfileReady, "creating the instance profile", e);
        }
    }

    /// <summary>Upstream's validation: dependencies, reserved tags, then authorization through a DryRun CreateFleet; plus the user data.</summary>
    private async Task<TimeSpan> ValidateAsync(EC2NodeClass nodeClass, CancellationToken cancellationToken)
    {
        var conditions = nodeClass.Status.Conditions!;
        string[] dependencies = [ConditionTypes.AmisReady, ConditionTypes.InstanceProfileReady, ConditionTypes.SecurityGroupsReady, ConditionTypes.SubnetsReady];
        const string awaiting = "Awaiting AMI, Instance Profile, Security Group, and Subnet resolution";
        if (dependencies.Any(d => ConditionList.IsFalse(conditions, d)))
        {
            SetFalse(nodeClass, ConditionTypes.ValidationSucceeded, "DependenciesNotReady", awaiting);
            return TimeSpan.FromMinutes(1);
        }
        if (dependencies.Any(d => !ConditionList.IsTrue(conditions, d)))
        {
            Conditions.SetUnknown(conditions, ConditionTypes.ValidationSucceeded, "DependenciesNotReady", awaiting, nodeClass.Metadata.Generation, time.GetUtcNow());
            return TimeSpan.FromMinutes(1);
        }
        if (AwsTags.FindRestricted(nodeClass.Spec.Tags) is { } restricted)
        {
            SetFalse(nodeClass, ConditionTypes.ValidationSucceeded, "TagValidationFailed",
                $"\"{restricted}\" tag does not pass tag validation requirements: the key is reserved for Karpenter");
            return TimeSpan.FromMinutes(10);
        }
        if (UserDataProblem(nodeClass) is { } problem)
        {
            SetFalse(nodeClass, ConditionTypes.ValidationSucceeded, "UserDataInvalid", problem);
            return TimeSpan.FromMinutes(10);
        }
        if (_options.DisableDryRun)
        {
            SetTrue(nodeClass, ConditionTypes.ValidationSucceeded);
            return TimeSpan.FromMinutes(10);
        }
        var key = ValidationKey(nodeClass);
        if (!_validations.TryGet(key, out var failure))
        {
            try
            {
                failure = await DryRunCreateFleetAsync(nodeClass, cancellationToken);
            }
            catch (Exception e) when (IsAwsFailure(e))
            {
                return Failed(nodeClass, ConditionTypes.ValidationSucceeded, "validating ec2:CreateFleet authorization", e);
            }
            _validations.Set(key, failure);
        }
        if (failure is { } f)
        {
            SetFalse(nodeClass, ConditionTypes.ValidationSucceeded, f.Reason, f.Message);
        }
        else
        {
            SetTrue(nodeClass, ConditionTypes.ValidationSucceeded);
        }
        return TimeSpan.FromMinutes(10);
    }

    /// <summary>Null when EC2 answers the DryRun with <c>DryRunOperation</c>; the reason when it answers <c>UnauthorizedOperation</c>.</summary>
    private async Task<(string Reason, string Message)?> DryRunCreateFleetAsync(EC2NodeClass nodeClass, CancellationToken cancellationToken)
    {
        var tags = AwsTags.ForLaunch(nodeClass, null, _options.ClusterName);
        var request = new CreateFleetRequest
        {
            DryRun = true,
            Type = FleetType.Instant,
            Context = nodeClass.Spec.Context,
            TargetCapacitySpecification = new TargetCapacitySpecificationRequest { DefaultTargetCapacityType = DefaultTargetCapacityType.OnDemand, TotalTargetCapacity = 1 },
            OnDemandOptions = new OnDemandOptionsRequest { AllocationStrategy = FleetOnDemandAllocationStrategy.LowestPrice },
            LaunchTemplateConfigs =
            [
                new FleetLaunchTemplateConfigRequest
                {
                    LaunchTemplateSpecification = new FleetLaunchTemplateSpecificationRequest { LaunchTemplateName = "mock-lt-name", Version = "1" },
                    Overrides = [new FleetLaunchTemplateOverridesRequest { InstanceType = Amazon.EC2.InstanceType.T3Micro, SubnetId = nodeClass.Status.Subnets![0].Id }],
                },
            ],
            TagSpecifications = [new TagSpecification { ResourceType = ResourceType.Instance, Tags = LaunchTemplateProvider.Tags(tags) }],
        };
        try
        {
            await ec2.CreateFleetAsync(request, cancellationToken);
            return ("CreateFleetAuthCheckFailed", "ec2:CreateFleet with DryRun launched instead of answering DryRunOperation");
        }
        catch (AmazonServiceException e) when (AwsErrors.IsDryRunSuccess(e))
        {
            return null;
        }
        catch (AmazonServiceException e) when (AwsErrors.IsUnauthorized(e))
        {
            return ("CreateFleetAuthCheckFailed", $"Controller isn't authorized to call ec2:CreateFleet: {e.Message}");
        }
    }

    /// <summary>Why the NodeClass's user data cannot be rendered (malformed custom user data, no cluster CIDR for AL2023), or null.</summary>
    private string? UserDataProblem(EC2NodeClass nodeClass)
    {
        var probe = new NodeClaim { Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>() }, Spec = new NodeClaimSpec() };
        try
        {
            launchTemplates.RenderUserData(nodeClass, probe, NodeClassInputs.Family(nodeClass), 110, CapacityTypes.OnDemand);
            return null;
        }
        catch (UserDataException e)
        {
            return $"the user data of this EC2NodeClass cannot be rendered: {e.Message}";
        }
    }

    /// <summary>Selector terms as a user wrote them, for a condition message: <c>[{tags: {k: v}}, {id: subnet-1}]</c>.</summary>
    private static string Describe(IEnumerable<string> terms) => "[" + string.Join(", ", terms) + "]";

    private static string Term((string Key, string? Value) first, IReadOnlyDictionary<string, string>? tags, params (string Key, string? Value)[] rest)
    {
        var parts = new[] { first }.Concat(rest).Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Key}: {p.Value}").ToList();
        if (tags is { Count: > 0 })
        {
            parts.Add("tags: {" + string.Join(", ", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}: {t.Value}")) + "}");
        }
        return "{" + string.Join(", ", parts) + "}";
    }

    private static string ValidationKey(EC2NodeClass nodeClass)
    {
        var s = nodeClass.Status;
        var sb = new StringBuilder(nodeClass.Metadata.Name).Append('|').Append(s.InstanceProfile).Append('|');
        sb.AppendJoin(',', (s.Subnets ?? []).Select(x => x.Id)).Append('|').AppendJoin(',', (s.SecurityGroups ?? []).Select(x => x.Id)).Append('|')
            .AppendJoin(',', (s.Amis ?? []).Select(x => x.Id)).Append('|').Append(nodeClass.Spec.Context).Append('|')
            .AppendJoin(',', (nodeClass.Spec.Tags ?? []).OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));
        return sb.ToString();
    }

    /// <summary>A failure talking to AWS: the condition goes False with a reason naming the cause, except throttling, which is retried.</summary>
    private TimeSpan Failed(EC2NodeClass nodeClass, string condition, string what, Exception e)
    {
        if (AwsErrors.IsThrottling(e))
        {
            throw new InvalidOperationException($"{what}: AWS is throttling requests", e);
        }
        var (reason, message) = AwsErrors.Describe(what, e);
        SetFalse(nodeClass, condition, reason, message);
        return TimeSpan.FromMinutes(1);
    }

    private static bool IsAwsFailure(Exception e) => e is AmazonServiceException or AmazonClientException or HttpRequestException
        || (e is TaskCanceledException && e.InnerException is TimeoutException);

    private void SetTrue(EC2NodeClass nodeClass, string type) =>
        Conditions.SetTrue(nodeClass.Status.Conditions!, type, nodeClass.Metadata.Generation, time.GetUtcNow());

    private void SetFalse(EC2NodeClass nodeClass, string type, string reason, string message) =>
        Conditions.SetFalse(nodeClass.Status.Conditions!, type, reason, message, nodeClass.Metadata.Generation, time.GetUtcNow());
}
