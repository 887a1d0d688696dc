using System.Text.Json.Nodes;

namespace Karpenter.Sim.Aws.Protocol;

/// <summary>One decoded request: the action and either Query parameters or a JSON body.</summary>
internal sealed record ApiRequest(string Service, string Action, QueryParameters Query, JsonObject? Json, string RequestId, string BaseUrl);

/// <summary>What to answer on the wire.</summary>
internal sealed record ApiResponse(int StatusCode, string ContentType, string Body)
{
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One emulated service: decodes its actions and renders its errors in its own wire shape.</summary>
internal interface IAwsApi
{
    /// <summary>The SigV4 service name (<c>ec2</c>, <c>ssm</c>, <c>sqs</c>, <c>iam</c>, <c>pricing</c>).</summary>
    string Service { get; }

    Task<ApiResponse> InvokeAsync(ApiRequest request, CancellationToken cancellationToken);

    ApiResponse Error(AwsServiceException error, string requestId);
}
