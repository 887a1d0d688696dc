using System.Xml.Linq;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.World;
using static Karpenter.Sim.Aws.Protocol.Xml;

namespace Karpenter.Sim.Aws.Ec2;

/// <summary>
/// EC2 over the Query protocol (<c>Version=2016-11-15</c>): form-encoded requests, XML answers in the EC2
/// namespace, errors as <c>&lt;Response&gt;&lt;Errors&gt;&lt;Error&gt;</c> with the real codes.
/// </summary>
internal sealed partial class Ec2Api(AwsWorld world) : IAwsApi
{
    private static readonly XNamespace Ns = "http://ec2.amazonaws.com/doc/2016-11-15/";

    // Actions whose success is a state change that a ClientToken makes idempotent.
    private readonly Dictionary<string, (string Fingerprint, ApiResponse Response)> _idempotent = new(StringComparer.Ordinal);

    public string Service => "ec2";

    private AwsWorld World => world;

    public Task<ApiResponse> InvokeAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        var q = request.Query;
        Func<ApiRequest, XElement> handler = request.Action switch
        {
            "DescribeAvailabilityZones" => DescribeAvailabilityZones,
            "DescribeRegions" => DescribeRegions,
            "DescribeAccountAttributes" => DescribeAccountAttributes,
            "DescribeInstanceTypes" => DescribeInstanceTypes,
            "DescribeInstanceTypeOfferings" => DescribeInstanceTypeOfferings,
            "DescribeSpotPriceHistory" => DescribeSpotPriceHistory,
            "DescribeVpcs" => DescribeVpcs,
            "DescribeSubnets" => DescribeSubnets,
            "DescribeSecurityGroups" => DescribeSecurityGroups,
            "DescribeImages" => DescribeImages,
            "CreateLaunchTemplate" => CreateLaunchTemplate,
            "DescribeLaunchTemplates" => DescribeLaunchTemplates,
            "DescribeLaunchTemplateVersions" => DescribeLaunchTemplateVersions,
            "DeleteLaunchTemplate" => DeleteLaunchTemplate,
            "CreateFleet" => CreateFleet,
            "RunInstances" => RunInstances,
            "DescribeInstances" => DescribeInstances,
            "DescribeInstanceStatus" => DescribeInstanceStatus,
            "TerminateInstances" => TerminateInstances,
            "CreateTags" => CreateTags,
            "DeleteTags" => DeleteTags,
            "DescribeTags" => DescribeTags,
            _ => throw new AwsServiceException("InvalidAction", $"The action {request.Action} is not valid for this web service."),
        };

        if (q.Bool("DryRun"))
        {
            // Permissions are always granted here; a real account may answer UnauthorizedOperation instead.
            throw new AwsServiceException("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
        }

        var token = q["ClientToken"];
        if (token is { Length: > 0 } && request.Action is "CreateFleet" or "RunInstances")
        {
            return Task.FromResult(world.Locked(() => Idempotent(request, token, handler)));
        }

        return Task.FromResult(world.Locked(() => Ok(handler(request), request)));
    }

    private ApiResponse Idempotent(ApiRequest request, string token, Func<ApiRequest, XElement> handler)
    {
        var fingerprint = string.Join("&", request.Query.Values
            .Where(kv => kv.Key != "ClientToken")
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key + "=" + kv.Value));
        var key = request.Action + ":" + token;
        if (_idempotent.TryGetValue(key, out var previous))
        {
            return previous.Fingerprint == fingerprint
                ? previous.Response
                : throw new AwsServiceException("IdempotentParameterMismatch",
                    "The client token you have provided is associated with a resource that was created with different parameters.");
        }

        ApiResponse response;
        try
        {
            response = Ok(handler(request), request);
        }
        catch (AwsServiceException e) when (e.Code == "InternalError")
        {
            // A launch that created instances and then failed: retries with the same token fail the same way.
            response = Error(e, request.RequestId);
        }

        _idempotent[key] = (fingerprint, response);
        return response;
    }

    private static ApiResponse Ok(XElement body, ApiRequest request)
    {
        body.AddFirst(new XElement("requestId", request.RequestId));
        return new ApiResponse(200, "text/xml;charset=UTF-8", Document(body, Ns));
    }

    public ApiResponse Error(AwsServiceException error, string requestId)
    {
        var xml = new XElement("Response",
            new XElement("Errors", new XElement("Error", new XElement("Code", error.Code), new XElement("Message", error.Message))),
            new XElement("RequestID", requestId));
        return new ApiResponse(error.StatusCode, "text/xml;charset=UTF-8",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + xml.ToString(SaveOptions.DisableFormatting));
    }

    private static XElement Response(string action, params object?[] content) => Node(action + "Response", content);

    private XElement DescribeRegions(ApiRequest r) => Response("DescribeRegions",
        Set("regionInfo", [Node("item", E("regionName", world.Region), E("regionEndpoint", $"ec2.{world.Region}.amazonaws.com"), E("optInStatus", "opt-in-not-required"))]));

    private XElement DescribeAccountAttributes(ApiRequest r) => Response("DescribeAccountAttributes",
        Set("accountAttributeSet", [
            Node("item", E("attributeName", "supported-platforms"), Set("attributeValueSet", [Node("item", E("attributeValue", "VPC"))])),
            Node("item", E("attributeName", "default-vpc"), Set("attributeValueSet", [Node("item", E("attributeValue", "none"))])),
        ]));

    private static List<string> ValidatedIds(List<string> ids, string prefix, string malformedCode)
    {
        foreach (var id in ids)
        {
            if (!id.StartsWith(prefix + "-", StringComparison.Ordinal))
            {
                throw new AwsServiceException(malformedCode, $"Invalid id: \"{id}\"");
            }
        }

        return ids;
    }
}
