using System.Xml.Linq;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.World;
using static Karpenter.Sim.Aws.Protocol.Xml;

namespace Karpenter.Sim.Aws.Ec2;

/// <summary>Instances and tags: describe (filters, pagination), status, terminate, create/delete/describe tags.</summary>
internal sealed partial class Ec2Api
{
    private const int MaxTagsPerResource = 50;

    private List<Ec2Instance> FindInstances(List<string> ids)
    {
        ValidatedIds(ids, "i", "InvalidInstanceID.Malformed");
        var missing = ids.Where(id => !World.InstancesById.ContainsKey(id)).Distinct().ToList();
        if (missing.Count == 1)
        {
            throw new AwsServiceException("InvalidInstanceID.NotFound", $"The instance ID '{missing[0]}' does not exist");
        }

        if (missing.Count > 1)
        {
            throw new AwsServiceException("InvalidInstanceID.NotFound", $"The instance IDs '{string.Join(", ", missing)}' do not exist");
        }

        return ids.Distinct().Select(id => World.InstancesById[id]).ToList();
    }

    private XElement DescribeInstances(ApiRequest r)
    {
        var q = r.Query;
        var ids = q.List("InstanceId");
        if (ids.Count > 0 && q.Has("MaxResults"))
        {
            throw new AwsServiceException("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
        }

        IEnumerable<Ec2Instance> instances = ids.Count > 0 ? FindInstances(ids) : World.InstanceList;
        var matched = Filtering.Apply(instances, q.Filters()).ToList();
        var (page, next) = Paging.Page(matched, q, "DescribeInstances", 5, 1000);
        return Response("DescribeInstances",
            Set("reservationSet", page.GroupBy(i => i.ReservationId).Select(g => Node("item",
                E("reservationId", g.Key), E("ownerId", World.AccountId), new XElement("groupSet"),
                Set("instancesSet", g.Select(InstanceXml))))),
            E("nextToken", next));
    }

    private XElement InstanceXml(Ec2Instance i) => Node("item",
        E("instanceId", i.Id),
        E("imageId", i.ImageId),
        Node("instanceState", E("code", (int)i.State), E("name", Ec2Instance.StateName(i.State))),
        E("privateDnsName", i.PrivateDnsName(World.Region)),
        E("dnsName", ""),
        E("reason", i.StateTransitionReason),
        E("amiLaunchIndex", 0),
        new XElement("productCodes"),
        E("instanceType", i.Type.Name),
        E("launchTime", i.LaunchTime),
        Node("placement", E("availabilityZone", i.Zone), E("availabilityZoneId", i.Subnet.Zone.ZoneId), E("groupName", ""), E("tenancy", "default")),
        E("platform", i.Image?.Platform),
        Node("monitoring", E("state", i.Template?.MonitoringEnabled == true ? "enabled" : "disabled")),
        i.State == InstanceState.Terminated ? null : E("subnetId", i.Subnet.Id),
        i.State == InstanceState.Terminated ? null : E("vpcId", i.Subnet.Vpc.Id),
        i.State == InstanceState.Terminated ? null : E("privateIpAddress", i.PrivateIp),
        E("sourceDestCheck", true),
        Set("groupSet", i.Groups.Select(g => Node("item", E("groupId", g.Id), E("groupName", g.Name)))),
        i.StateReasonCode is not null ? Node("stateReason", E("code", i.StateReasonCode), E("message", i.StateReasonMessage)) : null,
        E("architecture", i.Type.Architecture),
        E("rootDeviceType", "ebs"),
        E("rootDeviceName", i.Image?.RootDeviceName ?? "/dev/xvda"),
        Set("blockDeviceMapping", i.State == InstanceState.Terminated ? [] : [Node("item", E("deviceName", i.Image?.RootDeviceName ?? "/dev/xvda"),
            Node("ebs", E("volumeId", "vol-" + i.Id[2..]), E("status", "attached"), E("attachTime", i.LaunchTime), E("deleteOnTermination", true)))]),
        E("virtualizationType", "hvm"),
        E("clientToken", i.ClientToken ?? ""),
        i.CapacityType == CapacityTypes.Spot ? E("instanceLifecycle", "spot") : null,
        E("spotInstanceRequestId", i.SpotRequestId),
        i.Tags.Count > 0 ? TagSet(i.Tags) : null,
        E("hypervisor", i.Type.Hypervisor.Length == 0 ? "nitro" : i.Type.Hypervisor),
        i.State == InstanceState.Terminated ? new XElement("networkInterfaceSet") : Set("networkInterfaceSet", [Node("item",
            E("networkInterfaceId", i.NetworkInterfaceId), E("subnetId", i.Subnet.Id), E("vpcId", i.Subnet.Vpc.Id), E("description", ""),
            E("ownerId", World.AccountId), E("status", "in-use"), E("privateIpAddress", i.PrivateIp), E("privateDnsName", i.PrivateDnsName(World.Region)),
            E("sourceDestCheck", true), Set("groupSet", i.Groups.Select(g => Node("item", E("groupId", g.Id), E("groupName", g.Name)))),
            Node("attachment", E("attachmentId", "eni-attach-" + i.NetworkInterfaceId[4..]), E("deviceIndex", 0), E("networkCardIndex", 0),
                E("status", "attached"), E("attachTime", i.LaunchTime), E("deleteOnTermination", true)),
            Set("privateIpAddressesSet", [Node("item", E("privateIpAddress", i.PrivateIp), E("privateDnsName", i.PrivateDnsName(World.Region)), E("primary", true))]),
            new XElement("ipv6AddressesSet"), E("interfaceType", "interface"))]),
        i.ProfileArn is not null ? Node("iamInstanceProfile", E("arn", i.ProfileArn), E("id", i.ProfileId)) : null,
        E("ebsOptimized", i.Type.EbsBaselineMbps > 0),
        E("enaSupport", true),
        Node("cpuOptions", E("coreCount", Math.Max(1, i.Type.VCpus / (i.Type.CpuManufacturer == "aws" ? 1 : 2))), E("threadsPerCore", i.Type.CpuManufacturer == "aws" ? 1 : 2)),
        Node("capacityReservationSpecification", E("capacityReservationPreference", "open")),
        Node("hibernationOptions", E("configured", false)),
        Node("metadataOptions",
            E("state", i.State == InstanceState.Pending ? "pending" : "applied"),
            E("httpTokens", i.Template?.MetadataOptions.GetValueOrDefault("HttpTokens") ?? "required"),
            E("httpPutResponseHopLimit", i.Template?.MetadataOptions.GetValueOrDefault("HttpPutResponseHopLimit") ?? "2"),
            E("httpEndpoint", i.Template?.MetadataOptions.GetValueOrDefault("HttpEndpoint") ?? "enabled"),
            E("httpProtocolIpv6", i.Template?.MetadataOptions.GetValueOrDefault("HttpProtocolIpv6") ?? "disabled"),
            E("instanceMetadataTags", i.Template?.MetadataOptions.GetValueOrDefault("InstanceMetadataTags") ?? "disabled")),
        Node("enclaveOptions", E("enabled", false)),
        E("platformDetails", i.Image?.Platform == "windows" ? "Windows" : "Linux/UNIX"),
        E("usageOperation", i.Image?.Platform == "windows" ? "RunInstances:0002" : "RunInstances"),
        E("usageOperationUpdateTime", i.LaunchTime),
        Node("privateDnsNameOptions", E("hostnameType", "ip-name"), E("enableResourceNameDnsARecord", false), E("enableResourceNameDnsAAAARecord", false)),
        Node("maintenanceOptions", E("autoRecovery", "default")),
        E("currentInstanceBootMode", i.Type.Architecture == "arm64" ? "uefi" : "legacy-bios"));

    private XElement DescribeInstanceStatus(ApiRequest r)
    {
        var q = r.Query;
        var ids = q.List("InstanceId");
        var includeAll = q.Bool("IncludeAllInstances");
        IEnumerable<Ec2Instance> instances = ids.Count > 0 ? FindInstances(ids) : World.InstanceList;
        instances = instances.Where(i => includeAll ? i.State != InstanceState.Terminated : i.State == InstanceState.Running);
        var (page, next) = Paging.Page(instances.ToList(), q, "DescribeInstanceStatus", 5, 1000);
        return Response("DescribeInstanceStatus", Set("instanceStatusSet", page.Select(i => Node("item",
            E("instanceId", i.Id), E("availabilityZone", i.Zone), E("availabilityZoneId", i.Subnet.Zone.ZoneId),
            Node("instanceState", E("code", (int)i.State), E("name", Ec2Instance.StateName(i.State))),
            Node("systemStatus", E("status", i.State == InstanceState.Running ? "ok" : "not-applicable"),
                Set("details", [Node("item", E("name", "reachability"), E("status", i.State == InstanceState.Running ? "passed" : "initializing"))])),
            Node("instanceStatus", E("status", i.State == InstanceState.Running ? "ok" : "not-applicable"),
                Set("details", [Node("item", E("name", "reachability"), E("status", i.State == InstanceState.Running ? "passed" : "initializing"))])),
            Node("attachedEbsStatus", E("status", "ok"))))), E("nextToken", next));
    }

    private XElement TerminateInstances(ApiRequest r)
    {
        var ids = r.Query.List("InstanceId");
        if (ids.Count == 0)
        {
            throw AwsServiceException.MissingParameter("InstanceId");
        }

        if (ids.Count > 1000)
        {
            throw AwsServiceException.InvalidParameterValue("You can terminate at most 1000 instances in one request.");
        }

        var instances = FindInstances(ids);
        var changes = new List<XElement>();
        foreach (var instance in instances)
        {
            var previous = instance.State;
            World.BeginShutdown(instance, "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown");
            changes.Add(Node("item", E("instanceId", instance.Id),
                Node("currentState", E("code", (int)instance.State), E("name", Ec2Instance.StateName(instance.State))),
                Node("previousState", E("code", (int)previous), E("name", Ec2Instance.StateName(previous)))));
        }

        return Response("TerminateInstances", Set("instancesSet", changes));
    }

    private TaggedResource FindTaggable(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        var prefix = dash > 0 ? id[..dash] : id;
        TaggedResource? found = prefix switch
        {
            "i" => World.InstancesById.GetValueOrDefault(id),
            "subnet" => World.SubnetList.FirstOrDefault(s => s.Id == id),
            "sg" => World.SecurityGroupList.FirstOrDefault(g => g.Id == id),
            "ami" => World.ImageList.FirstOrDefault(i => i.Id == id),
            "lt" => World.LaunchTemplatesById.GetValueOrDefault(id),
            "vpc" => World.MainVpc.Id == id ? World.MainVpc : null,
            _ => throw new AwsServiceException("InvalidID", $"The ID '{id}' is not valid"),
        };
        return found ?? throw (prefix switch
        {
            "i" => new AwsServiceException("InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist"),
            "subnet" => new AwsServiceException("InvalidSubnetID.NotFound", $"The subnet ID '{id}' does not exist"),
            "sg" => new AwsServiceException("InvalidGroup.NotFound", $"The security group '{id}' does not exist"),
            "ami" => new AwsServiceException("InvalidAMIID.NotFound", $"The image id '[{id}]' does not exist"),
            "lt" => new AwsServiceException("InvalidLaunchTemplateId.NotFound", $"The specified launch template, with template ID {id}, does not exist."),
            _ => new AwsServiceException("InvalidVpcID.NotFound", $"The vpc ID '{id}' does not exist"),
        });
    }

    private XElement CreateTags(ApiRequest r)
    {
        var q = r.Query;
        var ids = q.List("ResourceId");
        if (ids.Count == 0)
        {
            throw AwsServiceException.MissingParameter("ResourceId");
        }

        var tags = q.Tags("Tag");
        if (tags.Count == 0)
        {
            throw AwsServiceException.MissingParameter("Tag");
        }

        foreach (var (key, value) in tags)
        {
            ValidateTag(key, value);
        }

        var resources = ids.Select(FindTaggable).ToList();
        foreach (var resource in resources)
        {
            if (resource.TagMap.Keys.Union(tags.Select(t => t.Key)).Count() > MaxTagsPerResource)
            {
                throw new AwsServiceException("TagLimitExceeded", $"The maximum number of Tags for a resource has been reached. (resource '{resource.Id}')");
            }
        }

        foreach (var resource in resources)
        {
            foreach (var (key, value) in tags)
            {
                resource.TagMap[key] = value;
            }
        }

        return Response("CreateTags", E("return", true));
    }

    private XElement DeleteTags(ApiRequest r)
    {
        var q = r.Query;
        var ids = q.List("ResourceId");
        if (ids.Count == 0)
        {
            throw AwsServiceException.MissingParameter("ResourceId");
        }

        var tags = q.Structs("Tag").Where(s => s["Key"] is not null).Select(s => (Key: s["Key"]!, Value: s["Value"])).ToList();
        foreach (var resource in ids.Select(FindTaggable).ToList())
        {
            if (tags.Count == 0)
            {
                resource.TagMap.Clear();
                continue;
            }

            foreach (var (key, value) in tags)
            {
                if (resource.TagMap.TryGetValue(key, out var current) && (value is null || value == current))
                {
                    resource.TagMap.Remove(key);
                }
            }
        }

        return Response("DeleteTags", E("return", true));
    }

    private sealed record TagView(string ResourceId, string ResourceType, string Key, string Value) : IFilterable
    {
        public IReadOnlyDictionary<string, string> Tags { get; } = new Dictionary<string, string>();

        public IEnumerable<string>? FilterValues(string name) => name switch
        {
            "resource-id" => [ResourceId],
            "resource-type" => [ResourceType],
            "key" => [Key],
            "value" => [Value],
            _ => null,
        };
    }

    private XElement DescribeTags(ApiRequest r)
    {
        var q = r.Query;
        IEnumerable<(TaggedResource Resource, string Type)> resources =
            World.InstanceList.Select(i => ((TaggedResource)i, "instance"))
                .Concat(World.SubnetList.Select(s => ((TaggedResource)s, "subnet")))
                .Concat(World.SecurityGroupList.Select(g => ((TaggedResource)g, "security-group")))
                .Concat(World.ImageList.Select(i => ((TaggedResource)i, "image")))
                .Concat(World.LaunchTemplatesById.Values.Select(t => ((TaggedResource)t, "launch-template")))
                .Append((World.MainVpc, "vpc"));
        var rows = resources.SelectMany(x => x.Resource.Tags.Select(t => new TagView(x.Resource.Id, x.Type, t.Key, t.Value))).ToList();
        var matched = Filtering.Apply(rows, q.Filters()).ToList();
        var (page, next) = Paging.Page(matched, q, "DescribeTags", 5, 1000);
        return Response("DescribeTags", Set("tagSet", page.Select(t => Node("item",
            E("resourceId", t.ResourceId), E("resourceType", t.ResourceType), E("key", t.Key), E("value", t.Value)))), E("nextToken", next));
    }
}
