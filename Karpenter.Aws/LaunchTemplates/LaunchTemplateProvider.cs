using System.Globalization;
using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using Karpenter.Aws.Amis;
using Karpenter.Aws.InstanceProfiles;
using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Aws.NodeClasses;
using Karpenter.Aws.Sdk;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using AmiFamily = Karpenter.Aws.Amis.AmiFamily;
using CoreInstanceType = Karpenter.Core.CloudProvider.InstanceType;

namespace Karpenter.Aws.LaunchTemplates;

/// <summary>A launch template the fleet can use: its name, its image, and the instance types it is for.</summary>
public sealed record ResolvedLaunchTemplate(string Name, string ImageId, IReadOnlyList<CoreInstanceType> InstanceTypes);

/// <summary>
/// Launch templates (upstream <c>pkg/providers/launchtemplate</c>): one per distinct content (AMI, user data, groups,
/// profile, block devices, metadata options, tags), named <c>karpenter.k8s.aws/&lt;hash of the content&gt;</c>, so a
/// template never changes once created. Found through DescribeLaunchTemplates (creating it on
/// <c>InvalidLaunchTemplateName.NotFoundException</c>), cached for a minute from its last use; a template unused for a
/// minute is deleted by <see cref="CleanupAsync"/>, and <see cref="DeleteAllAsync"/> removes a NodeClass's templates.
/// </summary>
public sealed partial class LaunchTemplateProvider(IAmazonEC2 ec2, TimeProvider time, IOptions<AwsOptions> options,
    ILogger<LaunchTemplateProvider> logger) : IDisposable
{
    public const string NamePrefix = "karpenter.k8s.aws/";

    /// <summary>How long a template stays cached (and alive) after its last use (upstream <c>DefaultTTL</c>).</summary>
    public static readonly TimeSpan CacheTtl = TimeSpan.FromMinutes(1);

    private readonly TtlCache<string, string> _cache = new(time, CacheTtl);
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly AwsOptions _options = options.Value;
    private int _hydrated;

    /// <summary>
    /// The launch templates for a launch: the instance types grouped by the AMI of the NodeClass's status that fits them and
    /// by max pods (written into the user data), one template per group, created when missing.
    /// </summary>
    public async Task<IReadOnlyList<ResolvedLaunchTemplate>> EnsureAllAsync(EC2NodeClass nodeClass, NodeClaim nodeClaim,
        IReadOnlyList<CoreInstanceType> instanceTypes, string capacityType, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        ArgumentNullException.ThrowIfNull(nodeClaim);
        ArgumentNullException.ThrowIfNull(instanceTypes);
        var amis = NodeClassInputs.Amis(nodeClass);
        var result = new List<ResolvedLaunchTemplate>();
        foreach (var (imageId, types) in AmiProvider.MapToInstanceTypes(amis, instanceTypes, t => t.Requirements))
        {
            foreach (var group in types.GroupBy(t => t.Capacity.Pods).OrderBy(g => g.Key))
            {
                var request = Build(nodeClass, nodeClaim, imageId, (int)group.Key, capacityType, tags);
                var name = await EnsureAsync(request, cancellationToken);
                result.Add(new ResolvedLaunchTemplate(name, imageId, [.. group]));
            }
        }
        return result;
    }

    /// <summary>Forgets a template (CreateFleet said it does not exist), so the next launch describes or creates it again.</summary>
    public void Invalidate(string name) => _cache.Remove(name);

    /// <summary>The CreateLaunchTemplate request for one group of instance types, named by the hash of its content.</summary>
    internal CreateLaunchTemplateRequest Build(EC2NodeClass nodeClass, NodeClaim nodeClaim, string imageId, int maxPods, string capacityType,
        IReadOnlyDictionary<string, string> tags)
    {
        var family = NodeClassInputs.Family(nodeClass);
        var data = new RequestLaunchTemplateData
        {
            ImageId = imageId,
            UserData = Convert.ToBase64String(Encoding.UTF8.GetBytes(RenderUserData(nodeClass, nodeClaim, family, maxPods, capacityType))),
            IamInstanceProfile = string.IsNullOrEmpty(nodeClass.Status.InstanceProfile)
                ? null
                : new LaunchTemplateIamInstanceProfileSpecificationRequest { Name = nodeClass.Status.InstanceProfile },
            BlockDeviceMappings = [.. BlockDevices(nodeClass, family)],
            MetadataOptions = Metadata(nodeClass.Spec.MetadataOptions),
            Monitoring = new LaunchTemplatesMonitoringRequest { Enabled = nodeClass.Spec.DetailedMonitoring == true },
            TagSpecifications = [.. TagSpecificationsForData(capacityType, tags)],
        };
        var groups = (nodeClass.Status.SecurityGroups ?? []).Select(g => g.Id).Order(StringComparer.Ordinal).ToList();
        if (nodeClass.Spec.AssociatePublicIpAddress is { } publicIp)
        {
            data.NetworkInterfaces =
            [
                new LaunchTemplateInstanceNetworkInterfaceSpecificationRequest
                {
                    DeviceIndex = 0,
                    AssociatePublicIpAddress = publicIp,
                    Groups = groups,
                },
            ];
        }
        else
        {
            data.SecurityGroupIds = groups;
        }
        var request = new CreateLaunchTemplateRequest
        {
            LaunchTemplateData = data,
            TagSpecifications = [new TagSpecification { ResourceType = ResourceType.LaunchTemplate, Tags = Tags(tags) }],
        };
        request.LaunchTemplateName = NamePrefix + Hash(request).ToString(CultureInfo.InvariantCulture);
        return request;
    }

    /// <summary>The user data of a NodeClaim's launch (AL2023 nodeadm, AL2 bootstrap, Bottlerocket TOML, Windows, or Custom as given).</summary>
    internal string RenderUserData(EC2NodeClass nodeClass, NodeClaim nodeClaim, AmiFamily family, int maxPods, string capacityType)
    {
        var kubelet = NodeClassInputs.Kubelet(nodeClass, _options);
        if (kubelet.MaxPods is null && maxPods > 0)
        {
            kubelet = kubelet with { MaxPods = maxPods };
        }
        var labels = new SortedDictionary<string, string>(nodeClaim.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [Labels.CapacityType] = capacityType,
        };
        if (family.ManagesBootstrap)
        {
            labels[Labels.DoNotSyncTaints] = "true";
        }
        var taints = (nodeClaim.Spec.Taints ?? []).Concat(nodeClaim.Spec.StartupTaints ?? [])
            .Select(t => new NodeTaint(t.Key, t.Value, t.Effect)).ToList();
        return family.UserData.Render(new BootstrapOptions
        {
            ClusterName = _options.ClusterName,
            ClusterEndpoint = _options.ClusterEndpoint,
            ClusterCidr = _options.ClusterCidr,
            CaBundle = _options.ClusterCaBundle,
            Kubelet = kubelet,
            Taints = taints,
            Labels = labels,
            CustomUserData = nodeClass.Spec.UserData,
            InstanceStorePolicy = NodeClassInputs.InstanceStorePolicy(nodeClass),
        });
    }

    private async Task<string> EnsureAsync(CreateLaunchTemplateRequest request, CancellationToken cancellationToken)
    {
        var name = request.LaunchTemplateName;
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_cache.TryGet(name, out _, refresh: true))
            {
                return name;
            }
            string id;
            try
            {
                var described = await ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { LaunchTemplateNames = [name] }, cancellationToken);
                id = (described.LaunchTemplates ?? []).Single().LaunchTemplateId;
            }
            catch (Amazon.EC2.AmazonEC2Exception e) when (e.ErrorCode == "InvalidLaunchTemplateName.NotFoundException")
            {
                try
                {
                    id = (await ec2.CreateLaunchTemplateAsync(request, cancellationToken)).LaunchTemplate.LaunchTemplateId;
                    LogCreated(logger, name, request.LaunchTemplateData.ImageId);
                }
                catch (Amazon.EC2.AmazonEC2Exception exists) when (exists.ErrorCode == "InvalidLaunchTemplateName.AlreadyExistsException")
                {
                    // Another replica (or a crashed run) made it between the describe and the create.
                    var again = await ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { LaunchTemplateNames = [name] }, cancellationToken);
                    id = (again.LaunchTemplates ?? []).Single().LaunchTemplateId;
                }
            }
            _cache.Set(name, id);
            return name;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Deletes the templates unused for a minute (upstream's cache eviction). The first run after start loads every template
    /// tagged for this cluster into the cache, so templates left by an earlier run expire and are deleted too.
    /// </summary>
    public async Task CleanupAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _hydrated, 1) == 0)
        {
            var request = new DescribeLaunchTemplatesRequest
            {
                Filters = [Ec2Filters.Of("tag:eks:eks-cluster-name", _options.ClusterName)],
                MaxResults = 200,
            };
            try
            {
                await foreach (var lt in ec2.Paginators.DescribeLaunchTemplates(request).LaunchTemplates.WithCancellation(cancellationToken))
                {
                    if (!_cache.TryGet(lt.LaunchTemplateName, out _))
                    {
                        _cache.Set(lt.LaunchTemplateName, lt.LaunchTemplateId);
                    }
                }
            }
            catch
            {
                Interlocked.Exchange(ref _hydrated, 0);
                throw;
            }
        }
        foreach (var (name, id) in _cache.RemoveExpired())
        {
            await _lock.WaitAsync(cancellationToken);
            try
            {
                if (_cache.TryGet(name, out _))
                {
                    continue; // used again meanwhile
                }
                await ec2.DeleteLaunchTemplateAsync(new DeleteLaunchTemplateRequest { LaunchTemplateId = id }, cancellationToken);
                LogDeleted(logger, name);
            }
            catch (Amazon.Runtime.AmazonServiceException e) when (AwsErrors.IsNotFound(e))
            {
                // Already gone.
            }
            finally
            {
                _lock.Release();
            }
        }
    }

    /// <summary>Deletes every template of a NodeClass in this cluster (the NodeClass is being deleted).</summary>
    public async Task DeleteAllAsync(string nodeClassName, CancellationToken cancellationToken)
    {
        var request = new DescribeLaunchTemplatesRequest
        {
            Filters = [Ec2Filters.Of("tag:eks:eks-cluster-name", _options.ClusterName), Ec2Filters.Of($"tag:{Labels.Ec2NodeClass}", nodeClassName)],
            MaxResults = 200,
        };
        var names = new List<string>();
        await foreach (var lt in ec2.Paginators.DescribeLaunchTemplates(request).LaunchTemplates.WithCancellation(cancellationToken))
        {
            names.Add(lt.LaunchTemplateName);
        }
        foreach (var name in names)
        {
            _cache.Remove(name);
            try
            {
                await ec2.DeleteLaunchTemplateAsync(new DeleteLaunchTemplateRequest { LaunchTemplateName = name }, cancellationToken);
                LogDeleted(logger, name);
            }
            catch (Amazon.Runtime.AmazonServiceException e) when (AwsErrors.IsNotFound(e))
            {
                // Already gone.
            }
        }
    }

    private static IEnumerable<LaunchTemplateBlockDeviceMappingRequest> BlockDevices(EC2NodeClass nodeClass, AmiFamily family)
    {
        var mappings = nodeClass.Spec.BlockDeviceMappings is { Count: > 0 } given ? given : NodeClassInputs.DefaultBlockDevices(family);
        foreach (var m in mappings)
        {
            var ebs = m.Ebs;
            yield return new LaunchTemplateBlockDeviceMappingRequest
            {
                DeviceName = m.DeviceName,
                Ebs = ebs is null ? null : new LaunchTemplateEbsBlockDeviceRequest
                {
                    DeleteOnTermination = ebs.DeleteOnTermination,
                    Encrypted = ebs.Encrypted,
                    Iops = ebs.Iops is { } iops ? (int)iops : null,
                    Throughput = ebs.Throughput is { } throughput ? (int)throughput : null,
                    KmsKeyId = ebs.KmsKeyId,
                    SnapshotId = ebs.SnapshotId,
                    VolumeInitializationRate = ebs.VolumeInitializationRate,
                    // EBS sizes are whole GiB, rounded up as upstream does.
                    VolumeSize = NodeClassInputs.VolumeBytes(ebs.VolumeSize) is { } bytes ? (int)((bytes + (1L << 30) - 1) >> 30) : null,
                    VolumeType = ebs.VolumeType is { } type ? Amazon.EC2.VolumeType.FindValue(type.ToString().ToLowerInvariant()) : null,
                },
            };
        }
    }

    private static LaunchTemplateInstanceMetadataOptionsRequest Metadata(MetadataOptions? given) => new()
    {
        HttpEndpoint = LaunchTemplateInstanceMetadataEndpointState.FindValue(given?.HttpEndpoint == EnabledState.Disabled ? "disabled" : "enabled"),
        HttpProtocolIpv6 = LaunchTemplateInstanceMetadataProtocolIpv6.FindValue(given?.HttpProtocolIpv6 == EnabledState.Enabled ? "enabled" : "disabled"),
        HttpPutResponseHopLimit = (int)(given?.HttpPutResponseHopLimit ?? 1),
        HttpTokens = LaunchTemplateHttpTokensState.FindValue(given?.HttpTokens == HttpTokens.Optional ? "optional" : "required"),
        InstanceMetadataTags = LaunchTemplateInstanceMetadataTagsState.Disabled,
    };

    private static IEnumerable<LaunchTemplateTagSpecificationRequest> TagSpecificationsForData(string capacityType, IReadOnlyDictionary<string, string> tags)
    {
        yield return new LaunchTemplateTagSpecificationRequest { ResourceType = ResourceType.NetworkInterface, Tags = Tags(tags) };
        if (capacityType == CapacityTypes.Spot)
        {
            yield return new LaunchTemplateTagSpecificationRequest { ResourceType = ResourceType.SpotInstancesRequest, Tags = Tags(tags) };
        }
    }

    internal static List<Tag> Tags(IReadOnlyDictionary<string, string> tags) =>
        [.. tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new Tag(t.Key, t.Value))];

    /// <summary>FNV-1a over a canonical text of everything the template contains (so equal content means equal names).</summary>
    internal static ulong Hash(CreateLaunchTemplateRequest request)
    {
        var d = request.LaunchTemplateData;
        var sb = new StringBuilder();
        sb.Append("image=").Append(d.ImageId).Append('\n')
            .Append("userdata=").Append(d.UserData).Append('\n')
            .Append("profile=").Append(d.IamInstanceProfile?.Name).Append('\n')
            .Append("groups=").AppendJoin(',', d.SecurityGroupIds ?? []).Append('\n')
            .Append("monitoring=").Append(d.Monitoring?.Enabled).Append('\n');
        foreach (var nic in d.NetworkInterfaces ?? [])
        {
            sb.Append("nic=").Append(nic.DeviceIndex).Append(',').Append(nic.AssociatePublicIpAddress).Append(',').AppendJoin(',', nic.Groups ?? []).Append('\n');
        }
        foreach (var b in d.BlockDeviceMappings ?? [])
        {
            var e = b.Ebs;
            sb.Append("bdm=").Append(b.DeviceName).Append(',').Append(e?.VolumeSize).Append(',').Append(e?.VolumeType?.Value).Append(',')
                .Append(e?.Encrypted).Append(',').Append(e?.DeleteOnTermination).Append(',').Append(e?.Iops).Append(',').Append(e?.Throughput)
                .Append(',').Append(e?.KmsKeyId).Append(',').Append(e?.SnapshotId).Append(',').Append(e?.VolumeInitializationRate).Append('\n');
        }
        var m = d.MetadataOptions;
        sb.Append("metadata=").Append(m?.HttpEndpoint?.Value).Append(',').Append(m?.HttpProtocolIpv6?.Value).Append(',')
            .Append(m?.HttpPutResponseHopLimit).Append(',').Append(m?.HttpTokens?.Value).Append(',').Append(m?.InstanceMetadataTags?.Value).Append('\n');
        foreach (var spec in d.TagSpecifications ?? [])
        {
            sb.Append("datatags=").Append(spec.ResourceType?.Value).Append(':');
            foreach (var tag in spec.Tags ?? [])
            {
                sb.Append(tag.Key).Append('=').Append(tag.Value).Append(';');
            }
            sb.Append('\n');
        }
        foreach (var spec in request.TagSpecifications ?? [])
        {
            sb.Append("tags=").Append(spec.ResourceType?.Value).Append(':');
            foreach (var tag in spec.Tags ?? [])
            {
                sb.Append(tag.Key).Append('=').Append(tag.Value).Append(';');
            }
        }
        return InstanceProfileProvider.Fnv64(sb.ToString());
    }

    public void Dispose() => _lock.Dispose();

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "created launch template {LaunchTemplate} for image {ImageId}")]
    private static partial void LogCreated(ILogger logger, string launchTemplate, string imageId);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "deleted launch template {LaunchTemplate}")]
    private static partial void LogDeleted(ILogger logger, string launchTemplate);
}
