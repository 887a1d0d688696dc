using System.Net.Sockets;
using Amazon.Runtime;

namespace Karpenter.Aws;

/// <summary>
/// How the provider classifies AWS errors (upstream <c>pkg/errors/errors.go</c>): not-found codes, the fleet errors that
/// mean "no capacity in this pool", throttling, and the credential and connectivity failures that make a NodeClass not
/// ready with a reason a user can act on.
/// </summary>
public static class AwsErrors
{
    /// <summary>Per-override CreateFleet error codes that mean the pool cannot take the launch now (upstream <c>unfulfillableCapacityErrorCodes</c>).</summary>
    public static readonly IReadOnlySet<string> UnfulfillableCapacityCodes = new HashSet<string>(StringComparer.Ordinal)
    {
        "InsufficientInstanceCapacity", "MaxSpotInstanceCountExceeded", "VcpuLimitExceeded", "UnfulfillableCapacity",
        "Unsupported", "InsufficientFreeAddressesInSubnet", "MaxFleetCountExceeded", "ReservationCapacityExceeded",
    };

    private static readonly HashSet<string> NotFoundCodes = new(StringComparer.Ordinal)
    {
        "InvalidInstanceID.NotFound", "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound",
        "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "NoSuchEntity", "ParameterNotFound",
    };

    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "RequestLimitExceeded", "Throttling", "ThrottlingException", "RequestThrottled", "TooManyRequestsException",
        "RequestThrottledException", "EC2ThrottledException",
    };

    private static readonly HashSet<string> CredentialCodes = new(StringComparer.Ordinal)
    {
        "ExpiredToken", "ExpiredTokenException", "RequestExpired", "AuthFailure", "InvalidClientTokenId",
        "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch", "IncompleteSignature",
        "MissingAuthenticationToken", "MissingAuthenticationTokenException",
    };

    private static readonly HashSet<string> UnauthorizedCodes = new(StringComparer.Ordinal)
    {
        "UnauthorizedOperation", "AccessDenied", "AccessDeniedException",
    };

    public static bool IsNotFound(Exception? e) => e is AmazonServiceException { ErrorCode: { } code } && NotFoundCodes.Contains(code);

    public static bool IsLaunchTemplateNotFound(Exception? e) =>
        e is AmazonServiceException { ErrorCode: "InvalidLaunchTemplateName.NotFoundException" or "InvalidLaunchTemplateId.NotFound" };

    public static bool IsUnfulfillableCapacity(string? code) => code is not null && UnfulfillableCapacityCodes.Contains(code);

    public static bool IsThrottling(Exception? e) => e is AmazonServiceException { ErrorCode: { } code } && ThrottlingCodes.Contains(code);

    public static bool IsDryRunSuccess(Exception? e) => e is AmazonServiceException { ErrorCode: "DryRunOperation" };

    public static bool IsUnauthorized(Exception? e) => e is AmazonServiceException { ErrorCode: { } code } && UnauthorizedCodes.Contains(code);

    /// <summary>The credentials were refused (expired, unknown, badly signed), or none could be found.</summary>
    public static bool IsCredentials(Exception? e) =>
        e is AmazonServiceException { ErrorCode: { } code } && CredentialCodes.Contains(code)
        || e is AmazonClientException && e.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase)
        || e?.InnerException is { } inner && inner != e && IsCredentials(inner);

    /// <summary>The endpoint could not be reached at all (DNS, refused connection, TLS, timeout), after the SDK's retries.</summary>
    public static bool IsUnreachable(Exception? e) => e switch
    {
        null => false,
        HttpRequestException or SocketException => true,
        AmazonServiceException { ErrorCode: not null } => false,
        TaskCanceledException { InnerException: TimeoutException } => true,
        _ => IsUnreachable(e.InnerException),
    };

    /// <summary>
    /// A condition reason and message for an AWS failure: <c>AWSCredentialsInvalid</c>, <c>AWSEndpointUnreachable</c>,
    /// <c>Unauthorized</c>, <c>Throttled</c>, or <c>AWSError</c> with the service's code and message.
    /// </summary>
    public static (string Reason, string Message) Describe(string what, Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (IsCredentials(e))
        {
            return ("AWSCredentialsInvalid", $"{what}: AWS refused the credentials ({Code(e)}): {Innermost(e).Message}. Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN or the pod's IAM role.");
        }
        if (IsUnreachable(e))
        {
            return ("AWSEndpointUnreachable", $"{what}: the AWS endpoint cannot be reached: {Innermost(e).Message}. Check AWS_REGION, AWS_ENDPOINT_URL and the network path.");
        }
        if (IsUnauthorized(e))
        {
            return ("Unauthorized", $"{what}: the controller is not authorized ({Code(e)}): {e.Message}");
        }
        if (IsThrottling(e))
        {
            return ("Throttled", $"{what}: AWS is throttling requests ({Code(e)}); retrying");
        }
        return ("AWSError", $"{what}: {Code(e)}: {e.Message}");
    }

    private static string Code(Exception e) => e is AmazonServiceException { ErrorCode: { } code } ? code
        : e.InnerException is AmazonServiceException { ErrorCode: { } inner } ? inner : e.GetType().Name;

    private static Exception Innermost(Exception e)
    {
        // Keep the service's own message when there is one; otherwise the transport's.
        if (e is AmazonServiceException { ErrorCode: not null })
        {
            return e;
        }
        while (e.InnerException is { } inner)
        {
            e = inner;
        }
        return e;
    }
}
