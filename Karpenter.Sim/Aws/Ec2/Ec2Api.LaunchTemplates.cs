using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.World;
using static Karpenter.Sim.Aws.Protocol.Xml;

namespace Karpenter.Sim.Aws.Ec2;

/// <summary>Launch templates: create, describe (with the real not-found errors), versions, delete.</summary>
internal sealed partial class Ec2Api
{
    private const int MaxUserDataBytes = 16384;

    [GeneratedRegex(@"^[a-zA-Z0-9\(\)\.\-/_]{3,128}$")]
    private static partial Regex LaunchTemplateNamePattern();

    private XElement CreateLaunchTemplate(ApiRequest r)
    {
        var q = r.Query;
        var name = q.Required("LaunchTemplateName");
        if (!LaunchTemplateNamePattern().IsMatch(name))
        {
            throw new AwsServiceException("InvalidLaunchTemplateName.MalformedException",
                "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'");
        }

        if (World.LaunchTemplatesByName.ContainsKey(name))
        {
            throw new AwsServiceException("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.");
        }

        if (!q.HasPrefix("LaunchTemplateData"))
        {
            throw AwsServiceException.MissingParameter("LaunchTemplateData");
        }

        var data = ParseTemplateData(q.Struct("LaunchTemplateData"));
        var template = new LaunchTemplate
        {
            Id = World.NewId("lt"),
            Name = name,
            CreateTime = World.Now,
            CreatedBy = $"arn:aws:iam::{World.AccountId}:root",
        };
        template.Versions.Add(data);
        foreach (var (key, value) in TagsFor(q, "launch-template"))
        {
            template.TagMap[key] = value;
        }

        World.LaunchTemplatesById[template.Id] = template;
        World.LaunchTemplatesByName[template.Name] = template;
        return Response("CreateLaunchTemplate", LaunchTemplateXml(template, "launchTemplate"));
    }

    private static Dictionary<string, string> TagsFor(QueryParameters q, string resourceType)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in q.Structs("TagSpecification"))
        {
            if (spec["ResourceType"] == resourceType)
            {
                foreach (var (key, value) in spec.Tags("Tag"))
                {
                    ValidateTag(key, value);
                    tags[key] = value;
                }
            }
        }

        return tags;
    }

    private static void ValidateTag(string key, string value)
    {
        if (key.Length is 0 or > 128)
        {
            throw AwsServiceException.InvalidParameterValue($"Tag key '{key}' must be between 1 and 128 characters.");
        }

        if (value.Length > 256)
        {
            throw AwsServiceException.InvalidParameterValue($"Tag value for key '{key}' exceeds 256 characters.");
        }

        if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
        {
            throw AwsServiceException.InvalidParameterValue($"Tag keys starting with 'aws:' are reserved for internal use");
        }
    }

    private static LaunchTemplateData ParseTemplateData(QueryParameters d)
    {
        var userData = d["UserData"];
        if (userData is not null)
        {
            ValidateUserData(userData);
        }

        var nic = d.Structs("NetworkInterface").FirstOrDefault(n => n["DeviceIndex"] is null or "0");
        var tagSpecs = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var spec in d.Structs("TagSpecification"))
        {
            var type = spec["ResourceType"] ?? "";
            if (!tagSpecs.TryGetValue(type, out var tags))
            {
                tagSpecs[type] = tags = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            foreach (var (key, value) in spec.Tags("Tag"))
            {
                tags[key] = value;
            }
        }

        var metadata = d.Struct("MetadataOptions");
        return new LaunchTemplateData
        {
            ImageId = d["ImageId"],
            InstanceType = d["InstanceType"],
            UserData = userData,
            IamInstanceProfileName = d["IamInstanceProfile.Name"],
            IamInstanceProfileArn = d["IamInstanceProfile.Arn"],
            SecurityGroupIds = d.List("SecurityGroupId"),
            SecurityGroupNames = d.List("SecurityGroup"),
            NetworkInterfaceSubnetId = nic?["SubnetId"],
            NetworkInterfaceGroups = nic?.List("SecurityGroupId") ?? [],
            AssociatePublicIpAddress = nic?["AssociatePublicIpAddress"] is { } pub ? pub == "true" : null,
            BlockDevices = d.Structs("BlockDeviceMapping").Select(b => new BlockDevice(
                b["DeviceName"] ?? "", b.Int("Ebs.VolumeSize"), b["Ebs.VolumeType"], b["Ebs.Encrypted"] is { } e ? e == "true" : null,
                b.Int("Ebs.Iops"), b.Int("Ebs.Throughput"), b["Ebs.DeleteOnTermination"] is { } del ? del == "true" : null, b["Ebs.KmsKeyId"])).ToList(),
            MetadataOptions = metadata.Values.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            MonitoringEnabled = d["Monitoring.Enabled"] is { } m ? m == "true" : null,
            MarketType = d["InstanceMarketOptions.MarketType"],
            TagSpecifications = tagSpecs,
        };
    }

    internal static void ValidateUserData(string userData)
    {
        byte[] decoded;
        try
        {
            decoded = Convert.FromBase64String(userData);
        }
        catch (FormatException)
        {
            throw new AwsServiceException("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.");
        }

        if (decoded.Length > MaxUserDataBytes)
        {
            throw new AwsServiceException("InvalidUserData.Malformed", $"User data is limited to {MaxUserDataBytes} bytes");
        }
    }

    private static XElement LaunchTemplateXml(LaunchTemplate t, string element) => Node(element,
        E("launchTemplateId", t.Id),
        E("launchTemplateName", t.Name),
        E("createTime", t.CreateTime),
        E("createdBy", t.CreatedBy),
        E("defaultVersionNumber", t.DefaultVersion),
        E("latestVersionNumber", t.LatestVersion),
        t.Tags.Count > 0 ? TagSet(t.Tags) : null);

    /// <summary>Finds templates by id or name with EC2's errors for the missing ones.</summary>
    private List<LaunchTemplate> FindTemplates(List<string> ids, List<string> names)
    {
        var found = new List<LaunchTemplate>();
        foreach (var id in ids)
        {
            if (!id.StartsWith("lt-", StringComparison.Ordinal))
            {
                throw new AwsServiceException("InvalidLaunchTemplateId.Malformed", $"The specified ID for the launch template, {id}, is not valid. Launch template IDs must begin with 'lt-' followed by 17 characters.");
            }

            found.Add(World.LaunchTemplatesById.TryGetValue(id, out var t)
                ? t
                : throw new AwsServiceException("InvalidLaunchTemplateId.NotFound", $"The specified launch template, with template ID {id}, does not exist."));
        }

        foreach (var name in names)
        {
            found.Add(World.LaunchTemplatesByName.TryGetValue(name, out var t)
                ? t
                : throw new AwsServiceException("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist."));
        }

        return found;
    }

    private XElement DescribeLaunchTemplates(ApiRequest r)
    {
        var q = r.Query;
        var ids = q.List("LaunchTemplateId");
        var names = q.List("LaunchTemplateName");
        if ((ids.Count > 0 || names.Count > 0) && q.Has("MaxResults"))
        {
            throw new AwsServiceException("InvalidParameterCombination", "The parameter LaunchTemplateIds or LaunchTemplateNames cannot be used with the parameter MaxResults");
        }

        IEnumerable<LaunchTemplate> templates = ids.Count > 0 || names.Count > 0
            ? FindTemplates(ids, names).Distinct()
            : World.LaunchTemplatesById.Values.OrderBy(t => t.CreateTime).ThenBy(t => t.Id, StringComparer.Ordinal);
        var matched = Filtering.Apply(templates, q.Filters()).ToList();
        var (page, next) = Paging.Page(matched, q, "DescribeLaunchTemplates", 1, 200);
        return Response("DescribeLaunchTemplates", Set("launchTemplates", page.Select(t => LaunchTemplateXml(t, "item"))), E("nextToken", next));
    }

    private XElement DeleteLaunchTemplate(ApiRequest r)
    {
        var q = r.Query;
        var id = q["LaunchTemplateId"];
        var name = q["LaunchTemplateName"];
        if (id is null && name is null)
        {
            throw new AwsServiceException("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId");
        }

        var template = FindTemplates(id is null ? [] : [id], name is null || id is not null ? [] : [name])[0];
        World.LaunchTemplatesById.Remove(template.Id);
        World.LaunchTemplatesByName.Remove(template.Name);
        return Response("DeleteLaunchTemplate", LaunchTemplateXml(template, "launchTemplate"));
    }

    private XElement DescribeLaunchTemplateVersions(ApiRequest r)
    {
        var q = r.Query;
        var id = q["LaunchTemplateId"];
        var name = q["LaunchTemplateName"];
        if (id is null && name is null)
        {
            throw new AwsServiceException("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId");
        }

        var template = FindTemplates(id is null ? [] : [id], name is null || id is not null ? [] : [name])[0];
        var requested = q.List("LaunchTemplateVersion");
        var versions = new List<int>();
        if (requested.Count == 0)
        {
            versions.AddRange(Enumerable.Range(1, template.LatestVersion));
        }
        else
        {
            foreach (var v in requested)
            {
                var data = template.Version(v)
                    ?? throw new AwsServiceException("InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {v} for template {template.Id}");
                versions.Add(template.Versions.IndexOf(data) + 1);
            }
        }

        var (page, next) = Paging.Page(versions, q, "DescribeLaunchTemplateVersions", 1, 200);
        return Response("DescribeLaunchTemplateVersions", Set("launchTemplateVersionSet", page.Select(v => Node("item",
            E("launchTemplateId", template.Id), E("launchTemplateName", template.Name), E("versionNumber", v),
            E("createTime", template.CreateTime), E("createdBy", template.CreatedBy), E("defaultVersion", v == template.DefaultVersion),
            TemplateDataXml(template.Versions[v - 1])))), E("nextToken", next));
    }

    private static XElement TemplateDataXml(LaunchTemplateData d) => Node("launchTemplateData",
        E("imageId", d.ImageId),
        E("instanceType", d.InstanceType),
        E("userData", d.UserData),
        d.IamInstanceProfileName is not null || d.IamInstanceProfileArn is not null
            ? Node("iamInstanceProfile", E("arn", d.IamInstanceProfileArn), E("name", d.IamInstanceProfileName))
            : null,
        d.SecurityGroupIds.Count > 0 ? ValueSet("securityGroupIdSet", d.SecurityGroupIds) : null,
        d.SecurityGroupNames.Count > 0 ? ValueSet("securityGroupSet", d.SecurityGroupNames) : null,
        d.NetworkInterfaceSubnetId is not null || d.NetworkInterfaceGroups.Count > 0 || d.AssociatePublicIpAddress is not null
            ? Set("networkInterfaceSet", [Node("item", E("associatePublicIpAddress", d.AssociatePublicIpAddress), E("deviceIndex", 0),
                ValueSet("groupSet", d.NetworkInterfaceGroups), E("subnetId", d.NetworkInterfaceSubnetId))])
            : null,
        d.BlockDevices.Count > 0
            ? Set("blockDeviceMappingSet", d.BlockDevices.Select(b => Node("item", E("deviceName", b.DeviceName),
                Node("ebs", E("encrypted", b.Encrypted), E("deleteOnTermination", b.DeleteOnTermination), E("iops", b.Iops), E("kmsKeyId", b.KmsKeyId),
                    E("volumeSize", b.VolumeSize), E("volumeType", b.VolumeType), E("throughput", b.Throughput)))))
            : null,
        d.MetadataOptions.Count > 0
            ? Node("metadataOptions", d.MetadataOptions.Select(kv => new XElement(char.ToLowerInvariant(kv.Key[0]) + kv.Key[1..], kv.Value)))
            : null,
        d.MonitoringEnabled is { } monitoring ? Node("monitoring", E("enabled", monitoring)) : null,
        d.MarketType is not null ? Node("instanceMarketOptions", E("marketType", d.MarketType)) : null,
        d.TagSpecifications.Count > 0
            ? Set("tagSpecificationSet", d.TagSpecifications.Select(s => Node("item", E("resourceType", s.Key), TagSet(s.Value))))
            : null);

    private static string VersionText(int version) => version.ToString(CultureInfo.InvariantCulture);
}
