using Karpenter.Aws;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Karpenter.Tests.Aws;

/// <summary>The provider's settings: upstream's variable names, and start-up validation that names what is wrong.</summary>
public sealed class AwsOptionsTests
{
    private static AwsOptions Bind(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();
        var options = new AwsOptions();
        options.Bind(configuration);
        return options;
    }

    private static IReadOnlyList<string> Failures(AwsOptions options) =>
        new AwsOptionsValidator().Validate(null, options) is { Failed: true } result ? [.. result.Failures] : [];

    [Fact]
    public void Settings_are_read_under_upstreams_environment_names()
    {
        var o = Bind(("CLUSTER_NAME", "prod"), ("CLUSTER_ENDPOINT", "https://api.prod"), ("AWS_REGION", "eu-west-1"),
            ("INTERRUPTION_QUEUE", "prod-q"), ("VM_MEMORY_OVERHEAD_PERCENT", "0.05"), ("RESERVED_ENIS", "1"),
            ("AMI_REFRESH_INTERVAL", "5m"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"), ("CLUSTER_CIDR", "10.100.0.0/16"));
        Assert.Equal("prod", o.ClusterName);
        Assert.Equal("eu-west-1", o.Region);
        Assert.Equal("prod-q", o.InterruptionQueue);
        Assert.Equal(0.05, o.VmMemoryOverheadPercent);
        Assert.Equal(1, o.ReservedEnis);
        Assert.Equal(TimeSpan.FromMinutes(5), o.AmiRefreshInterval);
        Assert.Equal("10.100.0.10", o.ResolveClusterDnsIp());
        Assert.Empty(Failures(o));
    }

    [Fact]
    public void Missing_and_malformed_settings_are_each_named()
    {
        var failures = Failures(Bind(("AWS_REGION", "nowhere"), ("CLUSTER_ENDPOINT", "not-a-url"), ("VM_MEMORY_OVERHEAD_PERCENT", "1.5"),
            ("AWS_ACCESS_KEY_ID", "AKIA")));
        Assert.Contains(failures, f => f.StartsWith("CLUSTER_NAME is required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("CLUSTER_ENDPOINT 'not-a-url'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("AWS_REGION 'nowhere'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("VM_MEMORY_OVERHEAD_PERCENT", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", StringComparison.Ordinal));
    }

    [Fact]
    public void A_value_that_does_not_parse_names_the_variable()
    {
        var e = Assert.Throws<OptionsValidationException>(() => Bind(("RESERVED_ENIS", "two")));
        Assert.Contains("RESERVED_ENIS=two", e.Message, StringComparison.Ordinal);
    }
}
