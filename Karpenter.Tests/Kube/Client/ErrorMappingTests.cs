using System.Net.Http.Headers;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Tests.Kube.Client;

public sealed class ErrorMappingTests
{
    private static string Status(int code, string reason, string message, string details = "{}") =>
        $$"""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"{{message}}","reason":"{{reason}}","details":{{details}},"code":{{code}}}""";

    [Theory]
    [InlineData(404, "NotFound", typeof(KubeNotFoundException))]
    [InlineData(409, "AlreadyExists", typeof(KubeAlreadyExistsException))]
    [InlineData(409, "Conflict", typeof(KubeConflictException))]
    [InlineData(422, "Invalid", typeof(KubeInvalidException))]
    [InlineData(429, "TooManyRequests", typeof(KubeTooManyRequestsException))]
    [InlineData(410, "Expired", typeof(KubeGoneException))]
    [InlineData(410, "Gone", typeof(KubeGoneException))]
    [InlineData(403, "Forbidden", typeof(KubeForbiddenException))]
    [InlineData(500, "InternalError", typeof(KubeApiException))]
    [InlineData(400, "BadRequest", typeof(KubeApiException))]
    [InlineData(415, "UnsupportedMediaType", typeof(KubeApiException))]
    public void Status_reasons_map_to_their_exception(int code, string reason, Type expected)
    {
        var e = KubeErrors.FromResponse(code, Status(code, reason, "boom"));

        Assert.IsType(expected, e);
        Assert.Equal(code, e.StatusCode);
        Assert.Equal(reason, e.Reason);
        Assert.Equal("boom", e.Message);
    }

    [Theory]
    [InlineData(404, typeof(KubeNotFoundException))]
    [InlineData(409, typeof(KubeConflictException))]
    [InlineData(410, typeof(KubeGoneException))]
    [InlineData(422, typeof(KubeInvalidException))]
    [InlineData(429, typeof(KubeTooManyRequestsException))]
    [InlineData(403, typeof(KubeForbiddenException))]
    [InlineData(503, typeof(KubeApiException))]
    public void Without_a_known_reason_the_code_decides(int code, Type expected)
    {
        Assert.IsType(expected, KubeErrors.FromResponse(code, Status(code, "", "x")));
        Assert.IsType(expected, KubeErrors.FromResponse(code, "not json at all"));
    }

    [Fact]
    public void The_plain_text_404_of_an_unserved_path_is_not_found()
    {
        var e = KubeErrors.FromResponse(404, "404 page not found\n");

        Assert.IsType<KubeNotFoundException>(e);
        Assert.Contains("could not find the requested resource", e.Message, StringComparison.Ordinal);
        Assert.Null(e.Status);
    }

    [Fact]
    public void Invalid_carries_the_field_causes()
    {
        var body = Status(422, "Invalid", "NodePool.karpenter.sh \\\"a\\\" is invalid: spec.limits: Invalid value", """
            {"name":"a","group":"karpenter.sh","kind":"NodePool","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: must be positive","field":"spec.limits.cpu"},{"reason":"FieldValueRequired","message":"Required value","field":"spec.template"}]}
            """);

        var e = Assert.IsType<KubeInvalidException>(KubeErrors.FromResponse(422, body));

        Assert.Equal("a", e.ObjectName);
        Assert.Equal(
            [new KubeStatusCause("FieldValueInvalid", "Invalid value: must be positive", "spec.limits.cpu"), new KubeStatusCause("FieldValueRequired", "Required value", "spec.template")],
            e.Causes);
    }

    [Fact]
    public void Too_many_requests_carries_retry_after_from_the_header_or_the_details()
    {
        var fromDetails = KubeErrors.FromResponse(429, Status(429, "TooManyRequests", "Cannot evict pod", """{"retryAfterSeconds":10}"""));
        var fromHeader = KubeErrors.FromResponse(429, Status(429, "TooManyRequests", "slow down"), new RetryConditionHeaderValue(TimeSpan.FromSeconds(3)));

        Assert.Equal(TimeSpan.FromSeconds(10), Assert.IsType<KubeTooManyRequestsException>(fromDetails).RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(3), fromHeader.RetryAfter);
    }

    [Fact]
    public void Exceptions_of_the_generated_client_and_of_watches_translate()
    {
        var http = new HttpOperationException("failed")
        {
            Response = new HttpResponseMessageWrapper(new HttpResponseMessage(System.Net.HttpStatusCode.Conflict), Status(409, "Conflict", "stale")),
        };
        var watch = new KubernetesException(new V1Status { Code = 410, Reason = "Expired", Message = "too old resource version: 1 (5)" });

        Assert.IsType<KubeConflictException>(KubeErrors.Translate(http));
        Assert.True(KubeErrors.IsConflict(http));
        Assert.True(KubeErrors.IsGone(watch));
        Assert.Null(KubeErrors.Translate(new InvalidOperationException()));
    }
}
