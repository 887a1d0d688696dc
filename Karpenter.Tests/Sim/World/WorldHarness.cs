using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using k8s.Models;
using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Sim.World;

namespace Karpenter.Tests.Sim.World;

/// <summary>
/// A <see cref="SimulatedWorld"/> on a fast accelerated clock with real AWS SDK clients pointed at its emulator, and the
/// expectations the simulated-cluster tests are written in. Launches go through a launch template (as Karpenter's
/// do), with user data rendered by the provider's own renderers, so the kubelet reads what Karpenter writes.
/// </summary>
public sealed class WorldHarness : IAsyncDisposable
{
    /// <summary>How long (real time) an expectation may take on a loaded two-core machine.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);

    private readonly List<IDisposable> _disposables = [];
    private int _templates;

    private WorldHarness(SimulatedWorld world)
    {
        World = world;
        var credentials = new BasicAWSCredentials(world.AwsAccessKeyId, world.AwsSecretAccessKey);
        Ec2 = Track(new AmazonEC2Client(credentials, new AmazonEC2Config { ServiceURL = world.AwsEndpoint.ToString(), AuthenticationRegion = world.AwsRegion }));
        Ssm = Track(new AmazonSimpleSystemsManagementClient(credentials, new AmazonSimpleSystemsManagementConfig { ServiceURL = world.AwsEndpoint.ToString(), AuthenticationRegion = world.AwsRegion }));
    }

    public SimulatedWorld World { get; }

    public AmazonEC2Client Ec2 { get; }

    public AmazonSimpleSystemsManagementClient Ssm { get; }

    /// <summary>A world at 40× (a 10 s boot takes a quarter of a real second), without CRDs unless asked.</summary>
    public static async Task<WorldHarness> StartAsync(Action<SimulatedWorldOptions>? configure = null)
    {
        var options = new SimulatedWorldOptions { Speed = 40, InstallCrds = false, StartTime = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero) };
        configure?.Invoke(options);
        return new WorldHarness(await SimulatedWorld.StartAsync(options));
    }

    /// <summary>The bootstrap settings Karpenter would render for this world.</summary>
    public BootstrapOptions Bootstrap(IReadOnlyDictionary<string, string>? labels = null, IReadOnlyList<NodeTaint>? taints = null, KubeletSettings? kubelet = null) => new()
    {
        ClusterName = World.ClusterName,
        ClusterEndpoint = World.ClusterEndpoint,
        ClusterCidr = World.ServiceCidr,
        CaBundle = World.ClusterCaBundle,
        Kubelet = kubelet ?? new KubeletSettings { ClusterDns = [World.ClusterDnsIp] },
        Labels = labels ?? new Dictionary<string, string>
        {
            ["karpenter.sh/nodepool"] = "default",
            ["karpenter.sh/capacity-type"] = "on-demand",
            ["karpenter.k8s.aws/ec2nodeclass"] = "default",
        },
        Taints = taints ?? [],
    };

    /// <summary>The image id an SSM parameter of the world names.</summary>
    public async Task<string> ImageAsync(string parameter) =>
        (await Ssm.GetParameterAsync(new GetParameterRequest { Name = parameter })).Parameter.Value;

    /// <summary>Launches one on-demand instance from a new launch template; returns its id.</summary>
    public async Task<string> LaunchAsync(string instanceType, string imageParameter, string userData, List<LaunchTemplateBlockDeviceMappingRequest>? blockDevices = null, string? zone = null)
    {
        var name = $"karpenter.k8s.aws/test-{Interlocked.Increment(ref _templates)}";
        await Ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
        {
            LaunchTemplateName = name,
            LaunchTemplateData = new RequestLaunchTemplateData
            {
                ImageId = await ImageAsync(imageParameter),
                UserData = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(userData)),
                IamInstanceProfile = new LaunchTemplateIamInstanceProfileSpecificationRequest { Name = $"KarpenterNodeInstanceProfile-{World.ClusterName}" },
                BlockDeviceMappings = blockDevices,
            },
        });
        var subnets = (await Ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest
        {
            Filters = [new Filter("tag:karpenter.sh/discovery", [World.ClusterName])],
        })).Subnets.OrderBy(s => s.AvailabilityZone, StringComparer.Ordinal).ToList();
        var subnet = zone is null ? subnets[0] : subnets.First(s => s.AvailabilityZone == zone);
        var launched = await Ec2.RunInstancesAsync(new RunInstancesRequest
        {
            MinCount = 1,
            MaxCount = 1,
            InstanceType = instanceType,
            SubnetId = subnet.SubnetId,
            LaunchTemplate = new LaunchTemplateSpecification { LaunchTemplateName = name },
        });
        return launched.Reservation.Instances[0].InstanceId;
    }

    /// <summary>Launches an AL2023 (x86_64) on-demand instance with Karpenter's nodeadm user data for <paramref name="bootstrap"/>.</summary>
    public Task<string> LaunchAl2023Async(string instanceType, BootstrapOptions? bootstrap = null, string? zone = null) =>
        LaunchAsync(instanceType, $"/aws/service/eks/optimized-ami/{World.KubernetesVersion}/amazon-linux-2023/x86_64/standard/recommended/image_id", new NodeadmUserData().Render(bootstrap ?? Bootstrap()), zone: zone);

    /// <summary>The Node of an instance, once it exists.</summary>
    public V1Node? NodeOf(string instanceId) =>
        World.Nodes().FirstOrDefault(n => n.Spec?.ProviderID?.EndsWith("/" + instanceId, StringComparison.Ordinal) == true);

    /// <summary>Waits until the instance's Node is Ready with the kubelet's and controllers' transient taints gone.</summary>
    public async Task<V1Node> ExpectNodeReadyAsync(string instanceId)
    {
        await World.UntilAsync(_ => NodeOf(instanceId) is { } n && IsReady(n), Patience, $"the node of {instanceId} to be Ready");
        return NodeOf(instanceId)!;
    }

    /// <summary>Waits for several nodes to be Ready.</summary>
    public async Task<IReadOnlyList<V1Node>> ExpectNodesReadyAsync(IEnumerable<string> instanceIds)
    {
        var ids = instanceIds.ToList();
        await World.UntilAsync(_ => ids.All(id => NodeOf(id) is { } n && IsReady(n)), Patience, $"the nodes of {string.Join(", ", ids)} to be Ready");
        return [.. ids.Select(id => NodeOf(id)!)];
    }

    /// <summary>
    /// Waits until the instance's Node is Ready, then removes <c>karpenter.sh/unregistered</c> as Karpenter's
    /// registration does (these tests run the cluster without the operator), and waits until the cache shows it gone.
    /// </summary>
    public async Task<V1Node> ExpectNodeRegisteredAsync(string instanceId)
    {
        var node = await ExpectNodeReadyAsync(instanceId);
        var original = KubeObjects.DeepClone(node);
        var modified = KubeObjects.DeepClone(node);
        modified.Spec.Taints = [.. node.Spec.Taints.Where(t => t.Key != Taints.UnregisteredKey)];
        await World.Client.PatchFromAsync(original, modified);
        await World.UntilAsync(_ => NodeOf(instanceId) is { } n && n.Spec.Taints?.Any(t => t.Key == Taints.UnregisteredKey) != true, Patience, $"the node of {instanceId} to lose the unregistered taint");
        return NodeOf(instanceId)!;
    }

    public static bool IsReady(V1Node node) =>
        node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true &&
        node.Spec?.Taints?.Any(t => t.Key is "node.kubernetes.io/not-ready" or "node.cloudprovider.kubernetes.io/uninitialized") != true;

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        await World.DisposeAsync();
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }
}
