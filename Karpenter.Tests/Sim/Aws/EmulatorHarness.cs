using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Amazon;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Amazon.SimpleSystemsManagement;
using Amazon.SQS;
using Karpenter.Sim.Aws;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>
/// An emulator on a fake clock with real SDK clients pointed at it (Standard retries, as the provider uses),
/// plus signed raw HTTP for IAM and Pricing, which have no SDK package here.
/// </summary>
public sealed class EmulatorHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly List<IDisposable> _disposables = [];

    private EmulatorHarness(AwsEmulator emulator, FakeTimeProvider clock)
    {
        Emulator = emulator;
        Clock = clock;
        var credentials = new BasicAWSCredentials(emulator.AccessKeyId, emulator.SecretAccessKey);
        Ec2 = Track(new AmazonEC2Client(credentials, Config(new AmazonEC2Config())));
        Ssm = Track(new AmazonSimpleSystemsManagementClient(credentials, Config(new AmazonSimpleSystemsManagementConfig())));
        Sqs = Track(new AmazonSQSClient(credentials, Config(new AmazonSQSConfig())));
        Iam = Track(new HttpClient(new SigV4SigningHandler(credentials, RegionEndpoint.USEast1, "iam", new HttpClientHandler())) { BaseAddress = emulator.ServiceUrl });
        Pricing = Track(new HttpClient(new SigV4SigningHandler(credentials, RegionEndpoint.USEast1, "pricing", new HttpClientHandler())) { BaseAddress = emulator.ServiceUrl });
    }

    public AwsEmulator Emulator { get; }

    public FakeTimeProvider Clock { get; }

    public AmazonEC2Client Ec2 { get; }

    public AmazonSimpleSystemsManagementClient Ssm { get; }

    public AmazonSQSClient Sqs { get; }

    public HttpClient Iam { get; }

    public HttpClient Pricing { get; }

    public static async Task<EmulatorHarness> StartAsync(Action<AwsEmulatorOptions>? configure = null)
    {
        var clock = new FakeTimeProvider(Epoch);
        var options = new AwsEmulatorOptions { TimeProvider = clock, ClusterName = "test-cluster" };
        configure?.Invoke(options);
        var emulator = await AwsEmulator.StartAsync(options);
        return new EmulatorHarness(emulator, clock);
    }

    /// <summary>An EC2 client with its own retry budget (0 shows every injected fault without backoff waits).</summary>
    public AmazonEC2Client Ec2WithRetries(int maxErrorRetry) =>
        Track(new AmazonEC2Client(new BasicAWSCredentials(Emulator.AccessKeyId, Emulator.SecretAccessKey), Config(new AmazonEC2Config(), maxErrorRetry)));

    private T Config<T>(T config, int maxErrorRetry = 2)
        where T : ClientConfig
    {
        config.ServiceURL = Emulator.ServiceUrl.ToString();
        config.AuthenticationRegion = Emulator.Region;
        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = maxErrorRetry;
        return config;
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    /// <summary>Sends an IAM Query request and returns the status and the parsed XML.</summary>
    public async Task<(int Status, XElement Xml)> IamAsync(params (string Key, string Value)[] parameters)
    {
        var body = string.Join("&", parameters.Append(("Version", "2010-05-08")).Select(p => Uri.EscapeDataString(p.Item1) + "=" + Uri.EscapeDataString(p.Item2)));
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded") { CharSet = "utf-8" };
        using var response = await Iam.PostAsync(new Uri("/", UriKind.Relative), content);
        return ((int)response.StatusCode, XElement.Parse(await response.Content.ReadAsStringAsync()));
    }

    /// <summary>Launches instances through CreateFleet with every type × discovered subnet as overrides.</summary>
    public async Task<CreateFleetResponse> LaunchAsync(string capacityType, params string[] instanceTypes) =>
        await LaunchAsync(capacityType, 1, instanceTypes);

    public async Task<CreateFleetResponse> LaunchAsync(string capacityType, int count, params string[] instanceTypes)
    {
        var template = await EnsureTemplateAsync("x86_64");
        var subnets = (await Ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest
        {
            Filters = [new Filter("tag:karpenter.sh/discovery", ["test-cluster"])],
        })).Subnets;
        return await Ec2.CreateFleetAsync(new CreateFleetRequest
        {
            Type = FleetType.Instant,
            TargetCapacitySpecification = new TargetCapacitySpecificationRequest { DefaultTargetCapacityType = capacityType, TotalTargetCapacity = count },
            SpotOptions = new SpotOptionsRequest { AllocationStrategy = SpotAllocationStrategy.PriceCapacityOptimized },
            OnDemandOptions = new OnDemandOptionsRequest { AllocationStrategy = FleetOnDemandAllocationStrategy.LowestPrice },
            LaunchTemplateConfigs =
            [
                new FleetLaunchTemplateConfigRequest
                {
                    LaunchTemplateSpecification = new FleetLaunchTemplateSpecificationRequest { LaunchTemplateName = template, Version = "$Latest" },
                    Overrides = instanceTypes.SelectMany(t => subnets.Select(s => new FleetLaunchTemplateOverridesRequest
                    {
                        InstanceType = t, SubnetId = s.SubnetId, AvailabilityZone = s.AvailabilityZone,
                    })).ToList(),
                },
            ],
            TagSpecifications =
            [
                new TagSpecification { ResourceType = Amazon.EC2.ResourceType.Instance, Tags = [new Tag("karpenter.sh/nodepool", "default"), new Tag("eks:eks-cluster-name", "test-cluster")] },
            ],
        });
    }

    public const string UserData = "#!/bin/bash\necho hello";

    /// <summary>Creates (once) a launch template with the AL2023 image of the architecture and known user data.</summary>
    public async Task<string> EnsureTemplateAsync(string architecture)
    {
        var name = $"karpenter.k8s.aws/test-{architecture}";
        var existing = await Ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { Filters = [new Filter("launch-template-name", [name])] });
        if (existing.LaunchTemplates is { Count: > 0 })
        {
            return name;
        }

        var image = await Ssm.GetParameterAsync(new Amazon.SimpleSystemsManagement.Model.GetParameterRequest
        {
            Name = $"/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/{architecture}/standard/recommended/image_id",
        });
        await Ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
        {
            LaunchTemplateName = name,
            LaunchTemplateData = new RequestLaunchTemplateData
            {
                ImageId = image.Parameter.Value,
                UserData = Convert.ToBase64String(Encoding.UTF8.GetBytes(UserData)),
                IamInstanceProfile = new LaunchTemplateIamInstanceProfileSpecificationRequest { Name = "KarpenterNodeInstanceProfile-test-cluster" },
            },
        });
        return name;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        await Emulator.DisposeAsync();
    }
}
