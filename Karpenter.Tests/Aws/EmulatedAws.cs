using Karpenter.Aws;
using Karpenter.Aws.Sdk;
using Karpenter.Sim.Aws;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Aws;

/// <summary>
/// Our AWS emulator (Karpenter.Sim.Aws) on a free loopback port with its own clock, and the provider's SDK clients pointed
/// at it: the real wire protocols, faults on demand. One per test; disposing stops it.
/// </summary>
internal sealed class EmulatedAws : IAsyncDisposable
{
    public const string ClusterName = "test-cluster";

    private EmulatedAws(AwsEmulator emulator, FakeTimeProvider time, AwsOptions options)
    {
        Emulator = emulator;
        Time = time;
        Options = options;
        Clients = new AwsClients(Microsoft.Extensions.Options.Options.Create(options), time);
    }

    public AwsEmulator Emulator { get; }

    public FakeTimeProvider Time { get; }

    public AwsOptions Options { get; }

    public AwsClients Clients { get; }

    public static async Task<EmulatedAws> StartAsync(Action<AwsEmulatorOptions>? emulator = null, Action<AwsOptions>? provider = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var emulatorOptions = new AwsEmulatorOptions { ClusterName = ClusterName, TimeProvider = time };
        emulator?.Invoke(emulatorOptions);
        var started = await AwsEmulator.StartAsync(emulatorOptions);
        var options = new AwsOptions
        {
            ClusterName = ClusterName,
            ClusterEndpoint = "https://test-cluster.example",
            ClusterCidr = "10.100.0.0/16",
            ClusterCaBundle = "Y2EtYnVuZGxlCg==",
            Region = started.Region,
            EndpointUrl = started.ServiceUrl.ToString().TrimEnd('/'),
            AccessKeyId = started.AccessKeyId,
            SecretAccessKey = started.SecretAccessKey,
            MaxAttempts = 3,
        };
        provider?.Invoke(options);
        return new EmulatedAws(started, time, options);
    }

    public Microsoft.Extensions.Options.IOptions<AwsOptions> OptionsWrapper => Microsoft.Extensions.Options.Options.Create(Options);

    public async ValueTask DisposeAsync()
    {
        Clients.Dispose();
        await Emulator.DisposeAsync();
    }
}
