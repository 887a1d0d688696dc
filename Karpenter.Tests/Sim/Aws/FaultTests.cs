using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement.Model;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>Injected faults as the SDK's Standard retry mode and Karpenter's garbage collection meet them.</summary>
public sealed class FaultTests
{
    [Fact]
    public async Task Throttling_twice_is_retried_by_the_SDK_and_the_third_attempt_succeeds()
    {
        await using var h = await EmulatorHarness.StartAsync();
        h.Emulator.Faults.Throttle("DescribeSubnets", count: 2);

        var subnets = (await h.Ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest())).Subnets;

        Assert.Equal(6, subnets.Count);
        Assert.Equal(3, h.Emulator.Faults.CallCount("DescribeSubnets"));
    }

    [Fact]
    public async Task Throttling_beyond_the_retry_budget_surfaces_RequestLimitExceeded()
    {
        await using var h = await EmulatorHarness.StartAsync();
        h.Emulator.Faults.Throttle("DescribeInstances");

        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest()));

        Assert.Equal("RequestLimitExceeded", error.ErrorCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal(3, h.Emulator.Faults.CallCount("DescribeInstances"));
    }

    [Fact]
    public async Task A_throttling_window_applies_only_within_its_times_on_the_clock()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var t0 = h.Clock.GetUtcNow();
        h.Emulator.Faults.Throttle("GetParameter", from: t0.AddMinutes(1), until: t0.AddMinutes(2));
        var request = new GetParameterRequest { Name = "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/image_id" };

        await h.Ssm.GetParameterAsync(request);
        h.Clock.Advance(TimeSpan.FromSeconds(61));
        var error = await Assert.ThrowsAsync<Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementException>(() => h.Ssm.GetParameterAsync(request));
        Assert.Equal("ThrottlingException", error.ErrorCode);
        h.Clock.Advance(TimeSpan.FromSeconds(60));
        await h.Ssm.GetParameterAsync(request);
    }

    [Fact]
    public async Task A_fraction_of_calls_fails_with_server_errors()
    {
        await using var h = await EmulatorHarness.StartAsync(o => o.Seed = 7);
        h.Emulator.Faults.FailRequests("DescribeImages", statusCode: 503, fraction: 0.5);
        var ec2 = h.Ec2WithRetries(0);
        var failures = 0;
        for (var i = 0; i < 20; i++)
        {
            try
            {
                await ec2.DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"] });
            }
            catch (AmazonEC2Exception e) when (e.ErrorCode == "Unavailable")
            {
                failures++;
            }
        }

        Assert.InRange(failures, 4, 16);
        Assert.Equal(20, h.Emulator.Faults.CallCount("DescribeImages"));
    }

    [Fact]
    public async Task A_launch_that_fails_after_creating_the_instance_leaks_it_for_garbage_collection()
    {
        await using var h = await EmulatorHarness.StartAsync();
        h.Emulator.Faults.FailLaunchesAfterCreation(1);

        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.LaunchAsync("on-demand", "m5.large"));
        Assert.Equal("InternalError", error.ErrorCode);

        // The SDK retried with the same client token and got the same answer: one instance, not three.
        Assert.Equal(3, h.Emulator.Faults.CallCount("CreateFleet"));
        var leaked = Assert.Single(h.Emulator.World.Instances());
        var listed = await h.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = [new Filter("tag-key", ["karpenter.sh/nodepool"])] });
        Assert.Equal(leaked.InstanceId, Assert.Single(Assert.Single(listed.Reservations).Instances).InstanceId);

        Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances);
    }

    [Fact]
    public async Task A_client_token_reused_with_other_parameters_is_IdempotentParameterMismatch()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var template = await h.EnsureTemplateAsync("x86_64");
        CreateFleetRequest Request(string type) => new()
        {
            ClientToken = "token-1",
            Type = FleetType.Instant,
            TargetCapacitySpecification = new TargetCapacitySpecificationRequest { DefaultTargetCapacityType = "on-demand", TotalTargetCapacity = 1 },
            LaunchTemplateConfigs = [new FleetLaunchTemplateConfigRequest
            {
                LaunchTemplateSpecification = new FleetLaunchTemplateSpecificationRequest { LaunchTemplateName = template, Version = "$Latest" },
                Overrides = [new FleetLaunchTemplateOverridesRequest { InstanceType = type, AvailabilityZone = "us-east-1a" }],
            }],
        };

        var first = await h.Ec2.CreateFleetAsync(Request("m5.large"));
        var repeat = await h.Ec2.CreateFleetAsync(Request("m5.large"));
        Assert.Equal(first.FleetId, repeat.FleetId);
        Assert.Single(h.Emulator.World.Instances());

        var mismatch = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.CreateFleetAsync(Request("c5.large")));
        Assert.Equal("IdempotentParameterMismatch", mismatch.ErrorCode);
    }

    [Fact]
    public async Task Failed_boots_go_from_pending_to_terminated()
    {
        await using var h = await EmulatorHarness.StartAsync();
        h.Emulator.World.FailNextBoots(1);
        var id = Assert.Single(Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances).InstanceIds);

        h.Clock.Advance(TimeSpan.FromSeconds(10));
        var instance = Assert.Single(Assert.Single((await h.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [id] })).Reservations).Instances);
        Assert.Equal(InstanceStateName.ShuttingDown, instance.State.Name);
        Assert.Equal("Server.InternalError", instance.StateReason.Code);
    }

    [Fact]
    public async Task Rejected_credentials_answer_each_service_with_its_own_error_until_cleared()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var ec2 = h.Ec2WithRetries(0);
        h.Emulator.Faults.RejectCredentials(Karpenter.Sim.Aws.World.CredentialProblem.Expired);

        var expired = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest()));
        Assert.Equal("RequestExpired", expired.ErrorCode);
        var ssm = await Assert.ThrowsAsync<Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementException>(() =>
            h.Ssm.GetParameterAsync(new GetParameterRequest { Name = "/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_id" }));
        Assert.Equal("ExpiredTokenException", ssm.ErrorCode);
        var (status, iam) = await h.IamAsync(("Action", "GetInstanceProfile"), ("InstanceProfileName", "x"));
        Assert.Equal(403, status);
        Assert.Contains("ExpiredToken", iam.ToString(), StringComparison.Ordinal);

        h.Emulator.Faults.RejectCredentials(Karpenter.Sim.Aws.World.CredentialProblem.Unrecognized);
        var unknown = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest()));
        Assert.Equal("AuthFailure", unknown.ErrorCode);

        h.Emulator.Faults.Clear();
        Assert.Equal(6, (await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest())).Subnets.Count);
    }
}
