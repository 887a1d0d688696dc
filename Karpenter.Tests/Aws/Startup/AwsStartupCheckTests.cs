using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.Startup;
using Karpenter.Sim.Aws.World;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Karpenter.Tests.Aws.Startup;

/// <summary>The start-up check: one DryRun call proves credentials, endpoint and permission, and a failure says which.</summary>
public sealed class AwsStartupCheckTests
{
    private static AwsStartupCheck Check(AwsProviderHarness h) => ActivatorUtilities.CreateInstance<AwsStartupCheck>(h.Services);

    [Fact]
    public async Task Good_credentials_pass_the_DryRun_call_and_load_the_catalog_before_the_runtime_starts()
    {
        await using var h = await AwsProviderHarness.StartAsync();

        await Check(h).StartAsync(default);

        Assert.NotEmpty(h.Get<InstanceTypeProvider>().Infos);
        // The check is registered ahead of the runtime's hosted services (informers, controllers).
        Assert.Equal(typeof(AwsStartupCheck), h.Descriptors.First(d => d.ServiceType == typeof(IHostedService)).ImplementationType);
    }

    [Theory]
    [InlineData(CredentialProblem.Expired, "RequestExpired")]
    [InlineData(CredentialProblem.Unrecognized, "AuthFailure")]
    public async Task Refused_credentials_stop_start_up_with_a_message_naming_them(CredentialProblem problem, string code)
    {
        await using var h = await AwsProviderHarness.StartAsync();
        h.Emulator.Faults.RejectCredentials(problem);

        var e = await Assert.ThrowsAsync<AwsStartupException>(() => Check(h).StartAsync(default));

        Assert.Contains("refused the credentials", e.Message, StringComparison.Ordinal);
        Assert.Contains(code, e.Message, StringComparison.Ordinal);
        Assert.Contains("AWS_ACCESS_KEY_ID", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_endpoint_stops_start_up_with_a_message_naming_it()
    {
        await using var h = await AwsProviderHarness.StartAsync(provider: o =>
        {
            o.EndpointUrl = "http://127.0.0.1:9";
            o.MaxAttempts = 1;
        });

        var e = await Assert.ThrowsAsync<AwsStartupException>(() => Check(h).CheckAsync(default));

        Assert.Contains("cannot be reached", e.Message, StringComparison.Ordinal);
        Assert.Contains("AWS_ENDPOINT_URL", e.Message, StringComparison.Ordinal);
    }
}
