using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>
/// The same SDK calls against our emulator and against <c>moto_server</c>, for the wire behaviours Karpenter
/// depends on and moto implements (environment-notes.md lists what it does not: SSM's public AMI parameters,
/// CreateFleet errors and strategies, Pricing, faults). Where moto and AWS differ, the test says so.
/// </summary>
public sealed class MotoConformanceTests(MotoServerFixture moto) : IClassFixture<MotoServerFixture>
{
    private static T Configure<T>(T config, Uri url)
        where T : ClientConfig
    {
        config.ServiceURL = url.ToString();
        config.AuthenticationRegion = "us-east-1";
        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = 0;
        return config;
    }

    private async Task CheckBothAsync(Func<AmazonEC2Client, AmazonSQSClient, Task> check)
    {
        Assert.True(moto.ServiceUrl is not null, moto.Problem);
        await using var h = await EmulatorHarness.StartAsync();
        foreach (var url in new[] { h.Emulator.ServiceUrl, moto.ServiceUrl! })
        {
            var credentials = new BasicAWSCredentials("test", "test");
            using var ec2 = new AmazonEC2Client(credentials, Configure(new AmazonEC2Config(), url));
            using var sqs = new AmazonSQSClient(credentials, Configure(new AmazonSQSConfig(), url));
            await check(ec2, sqs);
        }
    }

    [RequiresToolFact("moto_server")]
    public Task A_missing_launch_template_name_is_an_error_on_both() => CheckBothAsync(async (ec2, _) =>
    {
        // Both answer a missing *name* with the error. For a missing *id*, moto returns an empty list where EC2
        // answers InvalidLaunchTemplateId.NotFound (environment-notes.md), so ids are not compared here.
        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() =>
            ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { LaunchTemplateNames = ["karpenter.k8s.aws/absent"] }));
        Assert.Equal("InvalidLaunchTemplateName.NotFoundException", error.ErrorCode);
    });

    [RequiresToolFact("moto_server")]
    public Task Unknown_instances_and_dry_runs_answer_the_same_codes() => CheckBothAsync(async (ec2, _) =>
    {
        var missing = await Assert.ThrowsAsync<AmazonEC2Exception>(() =>
            ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = ["i-0123456789abcdef0"] }));
        Assert.Equal("InvalidInstanceID.NotFound", missing.ErrorCode);

        var dryRun = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest { DryRun = true }));
        Assert.Equal("DryRunOperation", dryRun.ErrorCode);
    });

    [RequiresToolFact("moto_server")]
    public Task Subnet_tag_filters_select_the_tagged_subnet() => CheckBothAsync(async (ec2, _) =>
    {
        var first = (await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest())).Subnets[0];
        await ec2.CreateTagsAsync(new CreateTagsRequest { Resources = [first.SubnetId], Tags = [new Tag("conformance", "yes")] });

        var byValue = (await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest { Filters = [new Filter("tag:conformance", ["y*"])] })).Subnets;
        var byKey = (await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest { Filters = [new Filter("tag-key", ["conformance"])] })).Subnets;
        Assert.Equal(first.SubnetId, Assert.Single(byValue).SubnetId);
        Assert.Equal(first.SubnetId, Assert.Single(byKey).SubnetId);
        Assert.True(first.AvailableIpAddressCount > 0);
    });

    [RequiresToolFact("moto_server")]
    public Task A_fleet_launches_from_a_template_and_the_instance_carries_its_image_and_tags() => CheckBothAsync(async (ec2, _) =>
    {
        var image = (await ec2.DescribeImagesAsync(new DescribeImagesRequest { Owners = ["amazon"], Filters = [new Filter("architecture", ["x86_64"])] }))
            .Images.OrderBy(i => i.ImageId, StringComparer.Ordinal).First();
        var subnet = (await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest())).Subnets.OrderBy(s => s.AvailabilityZone, StringComparer.Ordinal).First();
        await ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
        {
            LaunchTemplateName = "conformance",
            LaunchTemplateData = new RequestLaunchTemplateData { ImageId = image.ImageId },
        });

        // moto launches the first override and never fills errorSet; ours applies the strategy (FleetTests).
        var fleet = await ec2.CreateFleetAsync(new CreateFleetRequest
        {
            Type = FleetType.Instant,
            TargetCapacitySpecification = new TargetCapacitySpecificationRequest { DefaultTargetCapacityType = "on-demand", TotalTargetCapacity = 1 },
            LaunchTemplateConfigs = [new FleetLaunchTemplateConfigRequest
            {
                LaunchTemplateSpecification = new FleetLaunchTemplateSpecificationRequest { LaunchTemplateName = "conformance", Version = "$Latest" },
                Overrides = [new FleetLaunchTemplateOverridesRequest { InstanceType = "m5.large", SubnetId = subnet.SubnetId }],
            }],
            TagSpecifications = [new TagSpecification { ResourceType = Amazon.EC2.ResourceType.Instance, Tags = [new Tag("karpenter.sh/nodepool", "default")] }],
        });
        var id = Assert.Single(Assert.Single(fleet.Instances).InstanceIds);

        var instance = Assert.Single(Assert.Single((await ec2.DescribeInstancesAsync(new DescribeInstancesRequest
        {
            Filters = [new Filter("tag-key", ["karpenter.sh/nodepool"]), new Filter("instance-id", [id])],
        })).Reservations).Instances);
        Assert.Equal((image.ImageId, "m5.large", subnet.AvailabilityZone), (instance.ImageId, instance.InstanceType.Value, instance.Placement.AvailabilityZone));

        await ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [id] });
    });

    [RequiresToolFact("moto_server")]
    public Task Queues_round_trip_messages_with_a_body_MD5_the_SDK_verifies() => CheckBothAsync(async (_, sqs) =>
    {
        await Assert.ThrowsAsync<QueueDoesNotExistException>(() => sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = "absent-queue" }));
        var url = (await sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = "conformance" })).QueueUrl;
        await sqs.SendMessageAsync(new SendMessageRequest { QueueUrl = url, MessageBody = "{\"detail-type\":\"EC2 Spot Instance Interruption Warning\"}" });
        var message = Assert.Single((await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = url, MaxNumberOfMessages = 10, WaitTimeSeconds = 1 })).Messages);
        Assert.Contains("Interruption", message.Body, StringComparison.Ordinal);
        await sqs.DeleteMessageAsync(new DeleteMessageRequest { QueueUrl = url, ReceiptHandle = message.ReceiptHandle });
    });
}
