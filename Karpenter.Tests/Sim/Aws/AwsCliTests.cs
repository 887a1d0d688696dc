using System.Diagnostics;
using System.Text.Json;
using Karpenter.Sim.Aws.World;
using Karpenter.Tests.Support;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>
/// The emulator driven by a client we did not write: the <c>aws</c> command line (botocore), which parses EC2's
/// XML and SSM's JSON on its own.
/// </summary>
public sealed class AwsCliTests
{
    [RequiresToolFact("aws")]
    public async Task The_aws_command_line_describes_launches_and_terminates()
    {
        await using var h = await EmulatorHarness.StartAsync();

        var types = await AwsAsync(h, "ec2", "describe-instance-types", "--instance-types", "m5.large", "c6g.xlarge");
        var byName = types.GetProperty("InstanceTypes").EnumerateArray().ToDictionary(t => t.GetProperty("InstanceType").GetString()!);
        Assert.Equal(2, byName["m5.large"].GetProperty("VCpuInfo").GetProperty("DefaultVCpus").GetInt32());
        Assert.Equal(8192, byName["c6g.xlarge"].GetProperty("MemoryInfo").GetProperty("SizeInMiB").GetInt32());
        Assert.Equal("arm64", byName["c6g.xlarge"].GetProperty("ProcessorInfo").GetProperty("SupportedArchitectures")[0].GetString());

        var subnets = await AwsAsync(h, "ec2", "describe-subnets", "--filters", "Name=tag:karpenter.sh/discovery,Values=test-cluster");
        var subnet = subnets.GetProperty("Subnets").EnumerateArray().First(s => s.GetProperty("AvailabilityZone").GetString() == "us-east-1b");
        Assert.Equal(8187, subnet.GetProperty("AvailableIpAddressCount").GetInt32());

        var image = (await h.Ssm.GetParameterAsync(new Amazon.SimpleSystemsManagement.Model.GetParameterRequest
        {
            Name = "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/image_id",
        })).Parameter.Value;
        var userData = Convert.ToBase64String("#!/bin/bash\necho cli"u8.ToArray());
        await AwsAsync(h, "ec2", "create-launch-template", "--launch-template-name", "cli-template",
            "--launch-template-data", JsonSerializer.Serialize(new { ImageId = image, UserData = userData }));

        var fleet = await AwsAsync(h, "ec2", "create-fleet", "--type", "instant",
            "--target-capacity-specification", "TotalTargetCapacity=1,DefaultTargetCapacityType=spot",
            "--spot-options", "AllocationStrategy=price-capacity-optimized",
            "--launch-template-configs", JsonSerializer.Serialize(new[]
            {
                new
                {
                    LaunchTemplateSpecification = new { LaunchTemplateName = "cli-template", Version = "$Latest" },
                    Overrides = new[] { new { InstanceType = "m5.large", SubnetId = subnet.GetProperty("SubnetId").GetString() } },
                },
            }));
        var id = fleet.GetProperty("Instances")[0].GetProperty("InstanceIds")[0].GetString()!;
        Assert.Equal("us-east-1b", h.Emulator.World.FindInstance(id)!.AvailabilityZone);
        Assert.Equal("#!/bin/bash\necho cli", h.Emulator.World.FindInstance(id)!.UserData);

        var described = await AwsAsync(h, "ec2", "describe-instances", "--instance-ids", id);
        var instance = described.GetProperty("Reservations")[0].GetProperty("Instances")[0];
        Assert.Equal("pending", instance.GetProperty("State").GetProperty("Name").GetString());
        Assert.Equal("spot", instance.GetProperty("InstanceLifecycle").GetString());

        var terminated = await AwsAsync(h, "ec2", "terminate-instances", "--instance-ids", id);
        Assert.Equal("shutting-down", terminated.GetProperty("TerminatingInstances")[0].GetProperty("CurrentState").GetProperty("Name").GetString());
        Assert.Equal(InstanceState.ShuttingDown, h.Emulator.World.FindInstance(id)!.State);

        var missing = await RunAsync(h, "ec2", "describe-instances", "--instance-ids", "i-0000000000000000a");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("InvalidInstanceID.NotFound", missing.Error, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> AwsAsync(EmulatorHarness h, params string[] args)
    {
        var (exitCode, output, error) = await RunAsync(h, args);
        Assert.True(exitCode == 0, $"aws {string.Join(' ', args)} failed ({exitCode}): {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(EmulatorHarness h, params string[] args)
    {
        var start = new ProcessStartInfo("aws");
        foreach (var arg in args.Concat(["--endpoint-url", h.Emulator.ServiceUrl.ToString(), "--output", "json"]))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = h.Emulator.AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = h.Emulator.SecretAccessKey;
        start.Environment["AWS_DEFAULT_REGION"] = h.Emulator.Region;
        start.Environment["AWS_CONFIG_FILE"] = "/dev/null";
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null";
        start.Environment["AWS_MAX_ATTEMPTS"] = "1";
        start.Environment.Remove("AWS_PROFILE");
        return await ToolProcess.RunAsync(start);
    }
}
