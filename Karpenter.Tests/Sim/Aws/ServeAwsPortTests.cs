using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Karpenter.Sim.Commands;
using Karpenter.Tests.Support;

namespace Karpenter.Tests.Sim.Aws;

/// <summary><c>karpenter-sim serve --aws-port</c> starts the AWS emulator beside the Kubernetes API and says how to reach it.</summary>
public sealed partial class ServeAwsPortTests
{
    [GeneratedRegex(@"AWS emulator listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();

    [Fact]
    public async Task Serve_with_aws_port_prints_the_endpoint_and_credentials_that_the_SDK_can_use()
    {
        var output = new CapturingWriter();
        var root = new RootCommand { ServeCommand.Create(new AwsServeComponent()) };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var run = root.Parse(["serve", "--port", "0", "--aws-port", "0"]).InvokeAsync(new InvocationConfiguration { Output = output }, stop.Token);

        // The endpoint and the credentials are printed one after the other: wait for both, not just the first.
        const string Credentials = "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1";
        string? url = null;
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while ((url is null || !output.Text.Contains(Credentials, StringComparison.Ordinal)) && !run.IsCompleted && !limit.IsCancellationRequested)
        {
            url = Listening().Match(output.Text) is { Success: true } m ? m.Groups[1].Value : null;
            await Task.Delay(10);
        }

        try
        {
            Assert.True(url is not null, $"serve printed no AWS endpoint:\n{output.Text}");
            Assert.Contains(Credentials, output.Text, StringComparison.Ordinal);

            using var ec2 = new AmazonEC2Client(new BasicAWSCredentials("test", "test"), new AmazonEC2Config { ServiceURL = url, AuthenticationRegion = "us-east-1" });
            var zones = await ec2.DescribeAvailabilityZonesAsync(new DescribeAvailabilityZonesRequest());
            Assert.Equal(3, zones.AvailabilityZones.Count);
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await run);
        }
    }

    [Fact]
    public void Without_aws_port_serve_offers_the_option_but_starts_no_emulator()
    {
        var serve = ServeCommand.Create(new AwsServeComponent());
        Assert.Contains(serve.Options, o => o.Name == "--aws-port");
        Assert.Empty(serve.Parse("serve").Errors);
    }
}
