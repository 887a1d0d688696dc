using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.SimpleSystemsManagement;
using Amazon.SQS;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.Sdk;

/// <summary>
/// The AWS clients the provider uses, built once from <see cref="AwsOptions"/>: the SDK's EC2, SSM and SQS clients, and
/// <see cref="AwsSignedClient"/>s for IAM and the Pricing API (whose SDK packages are not available). Every client uses
/// the Standard retry mode with <see cref="AwsOptions.MaxAttempts"/> attempts and takes the endpoint override of the settings,
/// signing with <see cref="AwsOptions.Region"/> as the SigV4 scope (an emulator routes on it).
/// </summary>
public sealed class AwsClients : IDisposable
{
    public AwsClients(IOptions<AwsOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        Options = o;
        Credentials = ResolveCredentials(o);
        Ec2 = new AmazonEC2Client(Credentials, Configure(new AmazonEC2Config(), o, o.Ec2EndpointUrl ?? o.EndpointUrl));
        Ssm = new AmazonSimpleSystemsManagementClient(Credentials,
            Configure(new AmazonSimpleSystemsManagementConfig(), o, o.SsmEndpointUrl ?? o.EndpointUrl));
        Sqs = new AmazonSQSClient(Credentials, Configure(new AmazonSQSConfig(), o, o.SqsEndpointUrl ?? o.EndpointUrl));
        var (iamUrl, iamRegion) = IamEndpoint(o);
        Iam = new AwsSignedClient(Credentials, "iam", iamRegion, new Uri(iamUrl), o.MaxAttempts, timeProvider);
        var (pricingUrl, pricingRegion) = PricingEndpoint(o);
        Pricing = new AwsSignedClient(Credentials, "pricing", pricingRegion, new Uri(pricingUrl), o.MaxAttempts, timeProvider);
    }

    public AwsOptions Options { get; }

    public AWSCredentials Credentials { get; }

    public IAmazonEC2 Ec2 { get; }

    public IAmazonSimpleSystemsManagement Ssm { get; }

    public IAmazonSQS Sqs { get; }

    /// <summary>IAM Query API (<c>Version=2010-05-08</c>), signed for service <c>iam</c>.</summary>
    public AwsSignedClient Iam { get; }

    /// <summary>Pricing JSON API (<c>AWSPriceListService</c>), signed for service <c>pricing</c>.</summary>
    public AwsSignedClient Pricing { get; }

    internal static T Configure<T>(T config, AwsOptions options, string? serviceUrl) where T : ClientConfig
    {
        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = Math.Max(0, options.MaxAttempts - 1);
        config.ThrottleRetries = true;
        if (!string.IsNullOrEmpty(serviceUrl))
        {
            // RegionEndpoint would override ServiceURL; AuthenticationRegion sets the SigV4 scope instead.
            config.ServiceURL = serviceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        return config;
    }

    internal static AWSCredentials ResolveCredentials(AwsOptions options)
    {
        if (!string.IsNullOrEmpty(options.AccessKeyId) && !string.IsNullOrEmpty(options.SecretAccessKey))
        {
            return string.IsNullOrEmpty(options.SessionToken)
                ? new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey)
                : new SessionAWSCredentials(options.AccessKeyId, options.SecretAccessKey, options.SessionToken);
        }
        // Environment, IRSA (web identity, through AWSSDK.SecurityToken), profile, Pod Identity, IMDS: resolved lazily
        // and refreshed by the SDK.
        return DefaultAWSCredentialsIdentityResolver.GetCredentials();
    }

    internal static (string Url, string SigningRegion) IamEndpoint(AwsOptions options)
    {
        var (url, region) = options.Partition switch
        {
            "aws-cn" => ("https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1"),
            "aws-us-gov" => ("https://iam.us-gov.amazonaws.com", "us-gov-west-1"),
            _ => ("https://iam.amazonaws.com", "us-east-1"),
        };
        var overridden = options.IamEndpointUrl ?? options.EndpointUrl;
        // An emulator routes on the credential scope, so sign with the cluster's region there.
        return overridden is { Length: > 0 } ? (overridden, region) : (url, region);
    }

    internal static (string Url, string SigningRegion) PricingEndpoint(AwsOptions options)
    {
        // The Pricing API is served from a few regions only; upstream picks by the region's prefix.
        var region = options.Region switch
        {
            var r when r.StartsWith("ap-", StringComparison.Ordinal) => "ap-south-1",
            var r when r.StartsWith("cn-", StringComparison.Ordinal) => "cn-northwest-1",
            var r when r.StartsWith("eu-", StringComparison.Ordinal) => "eu-central-1",
            _ => "us-east-1",
        };
        var url = region.StartsWith("cn-", StringComparison.Ordinal)
            ? $"https://api.pricing.{region}.amazonaws.com.cn"
            : $"https://api.pricing.{region}.amazonaws.com";
        var overridden = options.PricingEndpointUrl ?? options.EndpointUrl;
        return overridden is { Length: > 0 } ? (overridden, region) : (url, region);
    }

    public void Dispose()
    {
        Ec2.Dispose();
        Ssm.Dispose();
        Sqs.Dispose();
        Iam.Dispose();
        Pricing.Dispose();
    }
}
