using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>
/// Maps API-server failures to <see cref="KubeApiException"/> and its subclasses, by <c>reason</c> first and by HTTP
/// code when the reason is missing or unknown (client-go's <c>ReasonForError</c> rule), and offers the usual checks.
/// </summary>
public static class KubeErrors
{
    /// <summary>Builds the typed exception for a failed response.</summary>
    /// <param name="httpStatus">The HTTP status code.</param>
    /// <param name="body">The response body (a JSON <c>Status</c>, or plain text such as <c>404 page not found</c>).</param>
    /// <param name="retryAfterHeader">The <c>Retry-After</c> header, if any.</param>
    /// <param name="inner">The transport exception, if any.</param>
    public static KubeApiException FromResponse(int httpStatus, string? body, RetryConditionHeaderValue? retryAfterHeader = null, Exception? inner = null)
    {
        var status = TryParseStatus(body);
        TimeSpan? retryAfter = retryAfterHeader?.Delta;
        if (retryAfter is null && status?.Details?.RetryAfterSeconds is int seconds and > 0)
        {
            retryAfter = TimeSpan.FromSeconds(seconds);
        }

        string message;
        if (status is not null)
        {
            message = string.IsNullOrEmpty(status.Message) ? $"the server responded {httpStatus} {status.Reason}" : status.Message;
        }
        else
        {
            var text = string.IsNullOrWhiteSpace(body) ? string.Empty : body.Trim();
            message = httpStatus == 404
                ? $"the server could not find the requested resource ({(text.Length == 0 ? "404" : text)})"
                : $"the server responded {httpStatus}{(text.Length == 0 ? string.Empty : ": " + Truncate(text, 512))}";
        }

        return Create(status?.Code ?? httpStatus, status?.Reason ?? string.Empty, message, status, retryAfter, inner);
    }

    /// <summary>Builds the typed exception for a Status (e.g. a watch ERROR event).</summary>
    public static KubeApiException FromStatus(V1Status status, Exception? inner = null)
    {
        ArgumentNullException.ThrowIfNull(status);
        TimeSpan? retryAfter = status.Details?.RetryAfterSeconds is int s and > 0 ? TimeSpan.FromSeconds(s) : null;
        return Create(status.Code ?? 500, status.Reason ?? string.Empty, status.Message ?? $"the server reported {status.Reason}", status, retryAfter, inner);
    }

    /// <summary>
    /// Translates exceptions of KubernetesClient's generated operations (<see cref="HttpOperationException"/>) and
    /// watches (<see cref="KubernetesException"/>); returns null for anything else.
    /// </summary>
    public static KubeApiException? Translate(Exception exception) => exception switch
    {
        KubeApiException k => k,
        HttpOperationException h when h.Response is not null =>
            FromResponse((int)h.Response.StatusCode, h.Response.Content, RetryAfterOf(h.Response.Headers), h),
        KubernetesException k when k.Status is not null => FromStatus(k.Status, k),
        _ => null,
    };

    public static bool IsNotFound(Exception e) => Translate(e) is KubeNotFoundException;

    public static bool IsConflict(Exception e) => Translate(e) is KubeConflictException;

    public static bool IsAlreadyExists(Exception e) => Translate(e) is KubeAlreadyExistsException;

    public static bool IsInvalid(Exception e) => Translate(e) is KubeInvalidException;

    public static bool IsTooManyRequests(Exception e) => Translate(e) is KubeTooManyRequestsException;

    public static bool IsGone(Exception e) => Translate(e) is KubeGoneException;

    public static bool IsForbidden(Exception e) => Translate(e) is KubeForbiddenException;

    private static KubeApiException Create(int code, string reason, string message, V1Status? status, TimeSpan? retryAfter, Exception? inner) =>
        (reason, code) switch
        {
            ("NotFound", _) => new KubeNotFoundException(code, reason, message, status, retryAfter, inner),
            ("AlreadyExists", _) => new KubeAlreadyExistsException(code, reason, message, status, retryAfter, inner),
            ("Conflict", _) => new KubeConflictException(code, reason, message, status, retryAfter, inner),
            ("Invalid", _) => new KubeInvalidException(code, reason, message, status, retryAfter, inner),
            ("TooManyRequests", _) => new KubeTooManyRequestsException(code, reason, message, status, retryAfter, inner),
            ("Gone" or "Expired", _) => new KubeGoneException(code, reason, message, status, retryAfter, inner),
            ("Forbidden", _) => new KubeForbiddenException(code, reason, message, status, retryAfter, inner),
            _ when !IsKnownReason(reason) => code switch
            {
                404 => new KubeNotFoundException(code, reason, message, status, retryAfter, inner),
                409 => new KubeConflictException(code, reason, message, status, retryAfter, inner),
                410 => new KubeGoneException(code, reason, message, status, retryAfter, inner),
                422 => new KubeInvalidException(code, reason, message, status, retryAfter, inner),
                429 => new KubeTooManyRequestsException(code, reason, message, status, retryAfter, inner),
                403 => new KubeForbiddenException(code, reason, message, status, retryAfter, inner),
                _ => new KubeApiException(code, reason, message, status, retryAfter, inner),
            },
            _ => new KubeApiException(code, reason, message, status, retryAfter, inner),
        };

    // Reasons from apimachinery's StatusReason list: a known reason decides the type on its own.
    private static bool IsKnownReason(string reason) => reason is
        "Unauthorized" or "Forbidden" or "NotFound" or "AlreadyExists" or "Conflict" or "Gone" or "Expired" or "Invalid"
        or "ServerTimeout" or "StoreReadError" or "Timeout" or "TooManyRequests" or "BadRequest" or "MethodNotAllowed"
        or "NotAcceptable" or "RequestEntityTooLarge" or "UnsupportedMediaType" or "InternalError" or "ServiceUnavailable";

    private static V1Status? TryParseStatus(string? body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.TrimStart()[0] != '{')
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("kind", out var kind) || kind.ValueKind != JsonValueKind.String || kind.GetString() != "Status")
            {
                return null;
            }

            return KubernetesJson.Deserialize<V1Status>(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static RetryConditionHeaderValue? RetryAfterOf(IDictionary<string, IEnumerable<string>>? headers) =>
        headers is not null && headers.TryGetValue("Retry-After", out var values)
            && RetryConditionHeaderValue.TryParse(values.FirstOrDefault(), out var parsed) ? parsed : null;

    private static string Truncate(string s, int max) =>
        s.Length <= max ? s : string.Create(CultureInfo.InvariantCulture, $"{s[..max]}… ({s.Length} chars)");
}
