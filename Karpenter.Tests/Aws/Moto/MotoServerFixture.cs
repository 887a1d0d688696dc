using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Karpenter.Aws;
using Karpenter.Aws.Sdk;
using Microsoft.Extensions.Options;

namespace Karpenter.Tests.Aws.Moto;

/// <summary>
/// <c>moto_server</c> (moto 5.2), an AWS emulator we did not write, started once for the tests of the "Moto" collection on a
/// free loopback port and reset (<c>POST /moto-api/reset</c>) before each test. When the tool is absent the tests skip and
/// say so. Requests are signed with fake credentials in us-east-1, the region moto routes on.
/// </summary>
public sealed class MotoServerFixture : IAsyncLifetime, IDisposable
{
    public const string Region = "us-east-1";

    /// <summary>
    /// The images moto serves instead of its 1,000-odd stock AMIs (loading those takes ~10 s after every reset): EKS-style
    /// names, both architectures, two releases of one of them, all owned by Amazon. No creation dates: moto 5.2 parses the
    /// dates of a MOTO_AMIS_PATH file in place and then fails (500) on the next reset, so every image gets the load time.
    /// </summary>
    public static readonly (string Id, string Name, string Arch)[] Images =
    [
        ("ami-0a1023e0000000001", "amazon-eks-node-al2023-x86_64-standard-1.33-v20260101", "x86_64"),
        ("ami-0a1023e0000000002", "amazon-eks-node-al2023-x86_64-standard-1.33-v20260201", "x86_64"),
        ("ami-0a1023a0000000003", "amazon-eks-node-al2023-arm64-standard-1.33-v20260201", "arm64"),
        ("ami-0a1023e0000000004", "amazon-eks-node-al2023-x86_64-nvidia-1.33-v20260201", "x86_64"),
        ("ami-0b0771e0000000005", "bottlerocket-aws-k8s-1.33-x86_64-v1.40.0", "x86_64"),
    ];

    private Process? _process;
    private string? _amisPath;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Why the moto tests cannot run, or null when moto_server is up.</summary>
    public string? Unavailable { get; private set; }

    public Uri Endpoint { get; private set; } = new("http://127.0.0.1:1");

    public async Task InitializeAsync()
    {
        var executable = FindOnPath("moto_server");
        if (executable is null)
        {
            Unavailable = "moto_server is not on PATH (pip install \"moto[server]\" to run these tests)";
            return;
        }
        var port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo(executable, ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _amisPath = Path.Combine(Path.GetTempPath(), $"karpenter-moto-amis-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_amisPath, System.Text.Json.JsonSerializer.Serialize(Images.Select(i => new Dictionary<string, object>
        {
            ["ami_id"] = i.Id,
            ["name"] = i.Name,
            ["architecture"] = i.Arch,
            ["state"] = "available",
            ["public"] = true,
            ["owner_id"] = "137112412989",
            ["image_location"] = "amazon/" + i.Name,
            ["root_device_type"] = "ebs",
            ["root_device_name"] = "/dev/xvda",
            ["description"] = "test image",
            ["image_type"] = "machine",
            ["virtualization_type"] = "hvm",
            ["hypervisor"] = "xen",
            ["sriov"] = "simple",
        })));
        start.Environment["MOTO_AMIS_PATH"] = _amisPath;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                Unavailable = $"moto_server exited with code {_process.ExitCode} at start-up";
                return;
            }
            try
            {
                using var response = await _http.GetAsync(new Uri(Endpoint, "/moto-api/"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(200);
        }
        Unavailable = "moto_server did not answer within 60 s";
    }

    /// <summary>Wipes moto's state so that each test starts from moto's default VPC, subnets and AMIs.</summary>
    public async Task ResetAsync()
    {
        Skip.If(Unavailable is not null, Unavailable);
        using var response = await _http.PostAsync(new Uri(Endpoint, "/moto-api/reset"), null);
        response.EnsureSuccessStatusCode();
    }

    public AwsOptions Options(Action<AwsOptions>? configure = null)
    {
        var options = new AwsOptions
        {
            ClusterName = "test-cluster",
            ClusterEndpoint = "https://test-cluster.example",
            ClusterCidr = "10.100.0.0/16",
            Region = Region,
            EndpointUrl = Endpoint.ToString().TrimEnd('/'),
            AccessKeyId = "test",
            SecretAccessKey = "test",
            MaxAttempts = 2,
        };
        configure?.Invoke(options);
        return options;
    }

    public AwsClients Clients(TimeProvider? time = null, Action<AwsOptions>? configure = null) =>
        new(Microsoft.Extensions.Options.Options.Create(Options(configure)), time ?? TimeProvider.System);

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        _process = null;
        if (_amisPath is not null && File.Exists(_amisPath))
        {
            File.Delete(_amisPath);
        }
        _http.Dispose();
    }

    internal static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class MotoTests : ICollectionFixture<MotoServerFixture>
{
    public const string Name = "Moto";
}
