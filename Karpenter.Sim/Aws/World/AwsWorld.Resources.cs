namespace Karpenter.Sim.Aws.World;

/// <summary>Levers on the network, images and parameters, for scenarios (drift, exhausted subnets, new AMIs).</summary>
public sealed partial class AwsWorld
{
    /// <summary>
    /// Publishes an image as AWS or the account owner would, and points <paramref name="ssmParameter"/> at it if
    /// given (for example the <c>…/recommended/image_id</c> path, which is how a new EKS AMI release appears).
    /// </summary>
    /// <returns>The new image id.</returns>
    public string PublishImage(
        string name, string architecture, string? ssmParameter = null, IReadOnlyDictionary<string, string>? tags = null,
        bool ownedByAmazon = true, string? platform = null) => Locked(() =>
    {
        if (architecture is not ("x86_64" or "arm64"))
        {
            throw new ArgumentException($"Architecture must be x86_64 or arm64, not '{architecture}'.", nameof(architecture));
        }

        if (ImageList.Any(i => i.Name == name))
        {
            throw new ArgumentException($"An image named '{name}' already exists.", nameof(name));
        }

        var image = AddImageInternal(name, architecture, ownedByAmazon ? EksAmiOwner : AccountId, ownedByAmazon ? "amazon" : null, Now, name,
            platform, isPublic: ownedByAmazon);
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            image.TagMap[key] = value;
        }

        if (ssmParameter is not null)
        {
            PutParameterInternal(ssmParameter, image.Id, "aws:ec2:image");
        }

        return image.Id;
    });

    /// <summary>Deprecates an image from <paramref name="at"/> on (DescribeImages hides it unless deprecated images are asked for).</summary>
    public void DeprecateImage(string imageId, DateTimeOffset at) => Locked(() =>
    {
        var image = ImageList.FirstOrDefault(i => i.Id == imageId) ?? throw new ArgumentException($"No image '{imageId}'.", nameof(imageId));
        image.DeprecationTime = at;
    });

    /// <summary>Sets an SSM parameter, including the public <c>/aws/service/…</c> ones clients cannot write.</summary>
    public void SetParameter(string name, string value) => Locked(() => PutParameterInternal(name, value, value.StartsWith("ami-", StringComparison.Ordinal) ? "aws:ec2:image" : "text"));

    /// <summary>Adds a subnet to the VPC in <paramref name="zone"/> (a CIDR inside 10.0.0.0/16 that no other subnet uses).</summary>
    /// <returns>The new subnet id.</returns>
    public string AddSubnet(string zone, string cidrBlock, IReadOnlyDictionary<string, string>? tags = null) => Locked(() =>
    {
        var z = ZoneList.FirstOrDefault(x => x.Name == zone) ?? throw new ArgumentException($"No zone '{zone}' in {Region}.", nameof(zone));
        if (SubnetList.Any(s => s.CidrBlock == cidrBlock))
        {
            throw new ArgumentException($"A subnet with CIDR {cidrBlock} already exists.", nameof(cidrBlock));
        }

        var subnet = new Subnet(NewId("subnet"), MainVpc, z, cidrBlock);
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            subnet.TagMap[key] = value;
        }

        SubnetList.Add(subnet);
        return subnet.Id;
    });

    /// <summary>Adds a security group to the VPC.</summary>
    /// <returns>The new group id.</returns>
    public string AddSecurityGroup(string name, IReadOnlyDictionary<string, string>? tags = null) => Locked(() =>
    {
        var group = new SecurityGroup(NewId("sg"), name, name, MainVpc);
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            group.TagMap[key] = value;
        }

        SecurityGroupList.Add(group);
        return group.Id;
    });
}
