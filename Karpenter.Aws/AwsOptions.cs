using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws;

/// <summary>
/// The AWS provider's settings, under upstream Karpenter's environment-variable names (CLUSTER_NAME, INTERRUPTION_QUEUE, …)
/// plus the AWS SDK's own endpoint and credential names, so that the same variables configure it against AWS or an emulator.
/// Validated once at start-up by <see cref="AwsOptionsValidator"/>.
/// </summary>
public sealed class AwsOptions
{
    /// <summary><c>CLUSTER_NAME</c> (required): tags, launch template names and instance-profile paths are keyed on it.</summary>
    public string ClusterName { get; set; } = "";

    /// <summary><c>CLUSTER_ENDPOINT</c> (required): the API server URL written into user data. Upstream discovers it through EKS
    /// DescribeCluster; without the EKS SDK it must be given.</summary>
    public string ClusterEndpoint { get; set; } = "";

    /// <summary><c>CLUSTER_CA_BUNDLE</c>: base64 of the cluster CA PEM, written into user data.</summary>
    public string? ClusterCaBundle { get; set; }

    /// <summary><c>CLUSTER_CIDR</c>: the Service CIDR. AL2023 (nodeadm) refuses to bootstrap without it, so an AL2023 NodeClass is
    /// not ready while it is unknown.</summary>
    public string? ClusterCidr { get; set; }

    /// <summary><c>CLUSTER_DNS_IP</c>: the kube-dns Service IP. When empty, the tenth address of <see cref="ClusterCidr"/> is used
    /// (the EKS convention, 10.100.0.0/16 → 10.100.0.10).</summary>
    public string? ClusterDnsIp { get; set; }

    /// <summary><c>KUBERNETES_VERSION</c>: the control plane's minor version (e.g. <c>1.33</c>), used in the AMI alias SSM paths.</summary>
    public string KubernetesVersion { get; set; } = "1.33";

    /// <summary><c>INTERRUPTION_QUEUE</c>: the SQS queue name receiving EventBridge interruption messages; empty disables interruption handling.</summary>
    public string? InterruptionQueue { get; set; }

    /// <summary><c>AWS_REGION</c> (or <c>AWS_DEFAULT_REGION</c>).</summary>
    public string Region { get; set; } = "";

    /// <summary><c>AWS_ENDPOINT_URL</c>: one endpoint for every service (an emulator). Service-specific ones win.</summary>
    public string? EndpointUrl { get; set; }

    /// <summary><c>AWS_ENDPOINT_URL_EC2</c>.</summary>
    public string? Ec2EndpointUrl { get; set; }

    /// <summary><c>AWS_ENDPOINT_URL_SSM</c>.</summary>
    public string? SsmEndpointUrl { get; set; }

    /// <summary><c>AWS_ENDPOINT_URL_SQS</c>.</summary>
    public string? SqsEndpointUrl { get; set; }

    /// <summary><c>AWS_ENDPOINT_URL_IAM</c>.</summary>
    public string? IamEndpointUrl { get; set; }

    /// <summary><c>AWS_ENDPOINT_URL_PRICING</c>.</summary>
    public string? PricingEndpointUrl { get; set; }

    /// <summary><c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>/<c>AWS_SESSION_TOKEN</c>: explicit credentials. When absent, the
    /// SDK's default chain (environment, IRSA web identity, profile, Pod Identity, IMDS) is used.</summary>
    public string? AccessKeyId { get; set; }

    public string? SecretAccessKey { get; set; }

    public string? SessionToken { get; set; }

    /// <summary><c>AWS_MAX_ATTEMPTS</c>: attempts per SDK call in the Standard retry mode (first try included).</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary><c>VM_MEMORY_OVERHEAD_PERCENT</c>: the fraction of memory the hypervisor keeps, subtracted from capacity.</summary>
    public double VmMemoryOverheadPercent { get; set; } = 0.075;

    /// <summary><c>RESERVED_ENIS</c>: ENIs kept out of the VPC CNI's pod-density formula (custom networking).</summary>
    public int ReservedEnis { get; set; }

    /// <summary><c>ISOLATED_VPC</c>: no route to the public Pricing API; the embedded on-demand table is used.</summary>
    public bool IsolatedVpc { get; set; }

    /// <summary><c>DISABLE_DRY_RUN</c>: skip the DryRun authorization checks.</summary>
    public bool DisableDryRun { get; set; }

    /// <summary><c>AMI_REFRESH_INTERVAL</c> (minimum 1m).</summary>
    public TimeSpan AmiRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary><c>SUBNET_REFRESH_INTERVAL</c>.</summary>
    public TimeSpan SubnetRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The IAM signing region and endpoint follow the partition of <see cref="Region"/>.</summary>
    internal string Partition => Region.StartsWith("cn-", StringComparison.Ordinal) ? "aws-cn"
        : Region.StartsWith("us-gov-", StringComparison.Ordinal) ? "aws-us-gov" : "aws";

    /// <summary>The kube-dns IP: <see cref="ClusterDnsIp"/>, else the tenth address of the Service CIDR, else null.</summary>
    public string? ResolveClusterDnsIp()
    {
        if (!string.IsNullOrWhiteSpace(ClusterDnsIp))
        {
            return ClusterDnsIp.Trim();
        }
        if (string.IsNullOrWhiteSpace(ClusterCidr) || !IPNetwork.TryParse(ClusterCidr.Trim(), out var network))
        {
            return null;
        }
        var bytes = network.BaseAddress.GetAddressBytes();
        // .10 for IPv4; ::a for IPv6, as EKS assigns kube-dns.
        bytes[^1] = (byte)(bytes[^1] + 10);
        return new IPAddress(bytes).ToString();
    }

    /// <summary>Reads the settings from configuration keys named exactly as the environment variables above.</summary>
    public void Bind(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ClusterName = Get(configuration, "CLUSTER_NAME") ?? ClusterName;
        ClusterEndpoint = Get(configuration, "CLUSTER_ENDPOINT") ?? ClusterEndpoint;
        ClusterCaBundle = Get(configuration, "CLUSTER_CA_BUNDLE") ?? ClusterCaBundle;
        ClusterCidr = Get(configuration, "CLUSTER_CIDR") ?? ClusterCidr;
        ClusterDnsIp = Get(configuration, "CLUSTER_DNS_IP") ?? ClusterDnsIp;
        KubernetesVersion = Get(configuration, "KUBERNETES_VERSION") ?? KubernetesVersion;
        InterruptionQueue = Get(configuration, "INTERRUPTION_QUEUE") ?? InterruptionQueue;
        Region = Get(configuration, "AWS_REGION") ?? Get(configuration, "AWS_DEFAULT_REGION") ?? Region;
        EndpointUrl = Get(configuration, "AWS_ENDPOINT_URL") ?? EndpointUrl;
        Ec2EndpointUrl = Get(configuration, "AWS_ENDPOINT_URL_EC2") ?? Ec2EndpointUrl;
        SsmEndpointUrl = Get(configuration, "AWS_ENDPOINT_URL_SSM") ?? SsmEndpointUrl;
        SqsEndpointUrl = Get(configuration, "AWS_ENDPOINT_URL_SQS") ?? SqsEndpointUrl;
        IamEndpointUrl = Get(configuration, "AWS_ENDPOINT_URL_IAM") ?? IamEndpointUrl;
        PricingEndpointUrl = Get(configuration, "AWS_ENDPOINT_URL_PRICING") ?? PricingEndpointUrl;
        AccessKeyId = Get(configuration, "AWS_ACCESS_KEY_ID") ?? AccessKeyId;
        SecretAccessKey = Get(configuration, "AWS_SECRET_ACCESS_KEY") ?? SecretAccessKey;
        SessionToken = Get(configuration, "AWS_SESSION_TOKEN") ?? SessionToken;
        MaxAttempts = GetParsed(configuration, "AWS_MAX_ATTEMPTS", MaxAttempts, s => int.Parse(s, CultureInfo.InvariantCulture));
        VmMemoryOverheadPercent = GetParsed(configuration, "VM_MEMORY_OVERHEAD_PERCENT", VmMemoryOverheadPercent,
            s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));
        ReservedEnis = GetParsed(configuration, "RESERVED_ENIS", ReservedEnis, s => int.Parse(s, CultureInfo.InvariantCulture));
        IsolatedVpc = GetParsed(configuration, "ISOLATED_VPC", IsolatedVpc, bool.Parse);
        DisableDryRun = GetParsed(configuration, "DISABLE_DRY_RUN", DisableDryRun, bool.Parse);
        AmiRefreshInterval = GetParsed(configuration, "AMI_REFRESH_INTERVAL", AmiRefreshInterval, Karpenter.Entities.GoDuration.Parse);
        SubnetRefreshInterval = GetParsed(configuration, "SUBNET_REFRESH_INTERVAL", SubnetRefreshInterval, Karpenter.Entities.GoDuration.Parse);
    }

    private static string? Get(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    private static T GetParsed<T>(IConfiguration configuration, string key, T fallback, Func<string, T> parse)
    {
        var value = Get(configuration, key);
        if (value is null)
        {
            return fallback;
        }
        try
        {
            return parse(value);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new OptionsValidationException(key, typeof(AwsOptions), [$"{key}={value} is not a valid {typeof(T).Name}: {e.Message}"]);
        }
    }
}

/// <summary>Start-up validation of <see cref="AwsOptions"/>: every failure names the setting and says what is expected.</summary>
public sealed class AwsOptionsValidator : IValidateOptions<AwsOptions>
{
    public ValidateOptionsResult Validate(string? name, AwsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ClusterName))
        {
            failures.Add("CLUSTER_NAME is required: the name of the cluster whose nodes this operator launches.");
        }
        else if (options.ClusterName.Length > 100)
        {
            failures.Add($"CLUSTER_NAME '{options.ClusterName}' is longer than 100 characters.");
        }
        if (string.IsNullOrWhiteSpace(options.ClusterEndpoint))
        {
            failures.Add("CLUSTER_ENDPOINT is required: the API server URL nodes register with (e.g. https://ABC.gr7.us-west-2.eks.amazonaws.com).");
        }
        else if (!Uri.TryCreate(options.ClusterEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("https" or "http"))
        {
            failures.Add($"CLUSTER_ENDPOINT '{options.ClusterEndpoint}' is not an absolute http(s) URL.");
        }
        if (string.IsNullOrWhiteSpace(options.Region))
        {
            failures.Add("AWS_REGION is required (e.g. us-west-2).");
        }
        else if (!System.Text.RegularExpressions.Regex.IsMatch(options.Region, "^[a-z]{2}(-[a-z]+)+-[0-9]+$"))
        {
            failures.Add($"AWS_REGION '{options.Region}' is not a region name like us-west-2.");
        }
        if (options.ClusterCaBundle is { Length: > 0 } ca && !IsBase64(ca))
        {
            failures.Add("CLUSTER_CA_BUNDLE must be the base64 encoding of the cluster CA certificate (PEM).");
        }
        if (options.ClusterCidr is { Length: > 0 } cidr && !IPNetwork.TryParse(cidr, out _))
        {
            failures.Add($"CLUSTER_CIDR '{cidr}' is not a CIDR like 10.100.0.0/16.");
        }
        if (options.ClusterDnsIp is { Length: > 0 } dns && !IPAddress.TryParse(dns, out _))
        {
            failures.Add($"CLUSTER_DNS_IP '{dns}' is not an IP address.");
        }
        if (!System.Text.RegularExpressions.Regex.IsMatch(options.KubernetesVersion ?? "", "^1\\.[0-9]+$"))
        {
            failures.Add($"KUBERNETES_VERSION '{options.KubernetesVersion}' must be a minor version like 1.33.");
        }
        foreach (var (key, url) in new[]
        {
            ("AWS_ENDPOINT_URL", options.EndpointUrl), ("AWS_ENDPOINT_URL_EC2", options.Ec2EndpointUrl),
            ("AWS_ENDPOINT_URL_SSM", options.SsmEndpointUrl), ("AWS_ENDPOINT_URL_SQS", options.SqsEndpointUrl),
            ("AWS_ENDPOINT_URL_IAM", options.IamEndpointUrl), ("AWS_ENDPOINT_URL_PRICING", options.PricingEndpointUrl),
        })
        {
            if (url is { Length: > 0 } && (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("https" or "http")))
            {
                failures.Add($"{key} '{url}' is not an absolute http(s) URL.");
            }
        }
        if (string.IsNullOrEmpty(options.AccessKeyId) != string.IsNullOrEmpty(options.SecretAccessKey))
        {
            failures.Add("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be given together (or neither, to use the default credential chain).");
        }
        if (options.MaxAttempts is < 1 or > 20)
        {
            failures.Add($"AWS_MAX_ATTEMPTS {options.MaxAttempts} must be between 1 and 20.");
        }
        if (options.VmMemoryOverheadPercent is < 0 or >= 1 || double.IsNaN(options.VmMemoryOverheadPercent))
        {
            failures.Add($"VM_MEMORY_OVERHEAD_PERCENT {options.VmMemoryOverheadPercent} must be a fraction in [0, 1), e.g. 0.075.");
        }
        if (options.ReservedEnis < 0)
        {
            failures.Add($"RESERVED_ENIS {options.ReservedEnis} must not be negative.");
        }
        if (options.AmiRefreshInterval < TimeSpan.FromMinutes(1))
        {
            failures.Add($"AMI_REFRESH_INTERVAL {options.AmiRefreshInterval} must be at least 1m.");
        }
        if (options.SubnetRefreshInterval <= TimeSpan.Zero)
        {
            failures.Add($"SUBNET_REFRESH_INTERVAL {options.SubnetRefreshInterval} must be positive.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsBase64(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value.Trim(), buffer, out _);
    }
}
