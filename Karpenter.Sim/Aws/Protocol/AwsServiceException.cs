namespace Karpenter.Sim.Aws.Protocol;

/// <summary>
/// An error the emulator answers with, in the calling service's wire shape (EC2 XML, IAM XML, JSON <c>__type</c>).
/// <paramref name="code"/> is the real AWS error code; <paramref name="statusCode"/> the real HTTP status.
/// </summary>
internal sealed class AwsServiceException(string code, string message, int statusCode = 400, bool senderFault = true)
    : Exception(message)
{
    public string Code { get; } = code;

    public int StatusCode { get; } = statusCode;

    /// <summary>Whether the fault is the caller's (IAM and SQS report <c>Sender</c> or <c>Receiver</c>).</summary>
    public bool SenderFault { get; } = senderFault;

    /// <summary>For SQS JSON errors: the legacy query code sent in <c>x-amzn-query-error</c>.</summary>
    public string? QueryErrorCode { get; init; }

    public static AwsServiceException InvalidParameterValue(string message) => new("InvalidParameterValue", message);

    public static AwsServiceException MissingParameter(string name) =>
        new("MissingParameter", $"The request must contain the parameter {name}");
}
