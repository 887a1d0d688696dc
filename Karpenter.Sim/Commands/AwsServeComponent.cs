using System.CommandLine;
using Karpenter.Sim.Aws;

namespace Karpenter.Sim.Commands;

/// <summary>
/// <c>serve --aws-port 4566</c>: also serves the AWS emulator (EC2, SSM, SQS, IAM, Pricing) on that loopback port
/// and prints the endpoint and the credentials to use with the SDK or the <c>aws</c> command line.
/// </summary>
internal sealed class AwsServeComponent : IServeComponent
{
    private readonly Option<int?> _port = new("--aws-port")
    {
        Description = "Also serve the AWS emulator (EC2, SSM, SQS, IAM, Pricing) on this 127.0.0.1 port, e.g. 4566 (0 picks a free one).",
    };

    private readonly Option<string> _region = new("--aws-region")
    {
        Description = "The region the AWS emulator plays (with --aws-port).",
        DefaultValueFactory = _ => "us-east-1",
    };

    private readonly Option<FileInfo?> _catalog = new("--aws-instance-types")
    {
        Description = "A full instance-type catalog file ({\"instance_types\":[…]}) instead of the embedded one (with --aws-port).",
    };

    public void AddOptions(Command command)
    {
        command.Options.Add(_port);
        command.Options.Add(_region);
        command.Options.Add(_catalog);
    }

    public async Task<IAsyncDisposable?> StartAsync(ParseResult parseResult, ServeContext context, CancellationToken ct)
    {
        if (parseResult.GetValue(_port) is not { } port)
        {
            return null;
        }

        var options = new AwsEmulatorOptions
        {
            Port = port,
            Region = parseResult.GetValue(_region) ?? "us-east-1",
            InstanceTypeCatalogPath = parseResult.GetValue(_catalog)?.FullName,
        };
        AwsEmulator emulator;
        try
        {
            emulator = await AwsEmulator.StartAsync(options, ct);
        }
        catch (Exception e) when (e is IOException or ArgumentException or FormatException or System.Text.Json.JsonException)
        {
            throw new IOException($"karpenter-sim serve: could not start the AWS emulator on port {port}: {e.Message}", e);
        }

        var url = emulator.ServiceUrl.ToString().TrimEnd('/');
        var output = context.Out;
        await output.WriteLineAsync($"AWS emulator listening on {url} (region {emulator.Region}, account {emulator.AccountId}, {emulator.World.Catalog.Types.Count} instance types)");
        await output.WriteLineAsync($"  credentials: AWS_ACCESS_KEY_ID={emulator.AccessKeyId} AWS_SECRET_ACCESS_KEY={emulator.SecretAccessKey} AWS_DEFAULT_REGION={emulator.Region}");
        await output.WriteLineAsync($"  aws cli:     aws --endpoint-url {url} ec2 describe-instance-types --query 'InstanceTypes[].InstanceType'");
        await output.WriteLineAsync($"  .NET SDK:    new AmazonEC2Config {{ ServiceURL = \"{url}\", AuthenticationRegion = \"{emulator.Region}\" }}");
        return emulator;
    }
}
