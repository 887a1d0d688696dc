using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Karpenter.Aws.InstanceTypes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.Startup;

/// <summary>The AWS account cannot be used: the message says what is missing (credentials, a permission, the endpoint).</summary>
public sealed class AwsStartupException : Exception
{
    public AwsStartupException()
    {
    }

    public AwsStartupException(string message)
        : base(message)
    {
    }

    public AwsStartupException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// Start-up (upstream <c>pkg/operator/operator.go</c>): checks connectivity, credentials and permission once with a DryRun
/// <c>DescribeInstanceTypes</c> (skipped with <c>DISABLE_DRY_RUN</c>), then loads the instance-type catalog and offerings
/// before controllers run. A failure stops the process with a message naming what is missing.
/// </summary>
public sealed partial class AwsStartupCheck(IAmazonEC2 ec2, InstanceTypeProvider instanceTypes, IOptions<AwsOptions> options,
    ILogger<AwsStartupCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await CheckAsync(cancellationToken);
        try
        {
            await instanceTypes.RefreshAsync(cancellationToken);
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            var (_, message) = AwsErrors.Describe("loading the instance-type catalog (ec2:DescribeInstanceTypes, ec2:DescribeInstanceTypeOfferings)", e);
            throw new AwsStartupException(message, e);
        }
        LogReady(logger, instanceTypes.Infos.Count, options.Value.Region);
    }

    /// <summary>The DryRun check alone: throws <see cref="AwsStartupException"/> saying what is wrong.</summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        if (options.Value.DisableDryRun)
        {
            return;
        }
        try
        {
            await ec2.DescribeInstanceTypesAsync(new DescribeInstanceTypesRequest { DryRun = true }, cancellationToken);
            throw new AwsStartupException("ec2:DescribeInstanceTypes with DryRun=true succeeded instead of answering DryRunOperation: the endpoint is not EC2");
        }
        catch (AmazonServiceException e) when (AwsErrors.IsDryRunSuccess(e))
        {
            // Credentials accepted and the permission is there.
        }
        catch (AmazonServiceException e) when (AwsErrors.IsUnauthorized(e))
        {
            throw new AwsStartupException($"the controller's AWS identity is missing the permission ec2:DescribeInstanceTypes ({e.ErrorCode}): {e.Message}", e);
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            var (_, message) = AwsErrors.Describe("checking EC2 connectivity with a DryRun ec2:DescribeInstanceTypes", e);
            throw new AwsStartupException(message, e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "AWS ready: {InstanceTypes} instance types in {Region}")]
    private static partial void LogReady(ILogger logger, int instanceTypes, string region);
}
