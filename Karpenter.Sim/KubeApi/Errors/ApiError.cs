using System.Globalization;
using System.Text.Json.Nodes;

namespace Karpenter.Sim.KubeApi.Errors;

/// <summary>
/// A request failure carrying the exact <c>Status</c> object a real kube-apiserver answers with
/// (apimachinery <c>pkg/api/errors</c>). Thrown anywhere in the request pipeline and written by the
/// HTTP layer with the HTTP status equal to <see cref="Code"/>.
/// </summary>
internal sealed class ApiError : Exception
{
    private ApiError(int code, string reason, string message, JsonObject? details)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Details = details;
    }

    public int Code { get; }

    /// <summary>The machine-readable reason; empty for "Unknown" (a real server omits the field then).</summary>
    public string Reason { get; }

    public JsonObject? Details { get; }

    /// <summary>Extra top-level fields of the Status' <c>metadata</c> (e.g. <c>continue</c> on an expired continue token).</summary>
    public string? ContinueToken { get; init; }

    public int? RetryAfterSeconds => Details?["retryAfterSeconds"]?.GetValue<int>();

    public JsonObject ToStatus()
    {
        var metadata = new JsonObject();
        if (ContinueToken is not null)
        {
            metadata["continue"] = ContinueToken;
        }

        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = metadata,
            ["status"] = "Failure",
            ["message"] = Message,
        };
        if (Reason.Length > 0)
        {
            status["reason"] = Reason;
        }

        if (Details is not null)
        {
            status["details"] = Details.DeepClone();
        }

        status["code"] = Code;
        return status;
    }

    public static ApiError Create(int code, string reason, string message, JsonObject? details = null) =>
        new(code, reason, message, details);

    public static JsonObject DetailsFor(string? name, string group, string kind)
    {
        var details = new JsonObject();
        if (!string.IsNullOrEmpty(name))
        {
            details["name"] = name;
        }

        if (group.Length > 0)
        {
            details["group"] = group;
        }

        details["kind"] = kind;
        return details;
    }

    /// <summary><c>pods "x" not found</c>, <c>nodeclaims.karpenter.sh "x" not found</c>.</summary>
    public static ApiError NotFound(string group, string resource, string name) =>
        new(404, "NotFound", $"{Qualified(group, resource)} \"{name}\" not found", DetailsFor(name, group, resource));

    public static ApiError AlreadyExists(string group, string resource, string name, bool beingDeleted = false) =>
        new(409, "AlreadyExists",
            (beingDeleted ? "object is being deleted: " : "") + $"{Qualified(group, resource)} \"{name}\" already exists",
            DetailsFor(name, group, resource));

    public static ApiError GenerateNameConflict(string group, string resource, string name)
    {
        var details = DetailsFor(name, group, resource);
        details["retryAfterSeconds"] = 1;
        return new(409, "AlreadyExists",
            $"{Qualified(group, resource)} \"{name}\" already exists, the server was not able to generate a unique name for the object",
            details);
    }

    /// <summary>The optimistic-lock failure of apiserver's registry store.</summary>
    public static ApiError Conflict(string group, string resource, string name, string why) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {Qualified(group, resource)} \"{name}\": {why}",
            DetailsFor(name, group, resource));

    public const string OptimisticLockMessage =
        "the object has been modified; please apply your changes to the latest version and try again";

    public static ApiError Invalid(string group, string kind, string? name, IReadOnlyList<FieldError> errors)
    {
        var qualifiedKind = group.Length == 0 ? kind : $"{kind}.{group}";
        var rendered = errors.Select(e => e.ToString()).ToList();
        var joined = rendered.Count == 1 ? rendered[0] : "[" + string.Join(", ", rendered) + "]";
        var details = DetailsFor(name, group, kind);
        var causes = new JsonArray();
        foreach (var error in errors)
        {
            causes.Add(new JsonObject
            {
                ["reason"] = error.Reason,
                ["message"] = error.Body,
                ["field"] = error.Field,
            });
        }

        details["causes"] = causes;
        return new(422, "Invalid", $"{qualifiedKind} \"{name}\" is invalid: {joined}", details);
    }

    public static ApiError BadRequest(string message) => new(400, "BadRequest", message, null);

    public static ApiError Forbidden(string group, string resource, string name, string why, JsonArray? causes = null)
    {
        var details = DetailsFor(name, group, resource);
        if (causes is not null)
        {
            details["causes"] = causes;
        }

        var subject = string.IsNullOrEmpty(name) ? Qualified(group, resource) : $"{Qualified(group, resource)} \"{name}\"";
        return new(403, "Forbidden", $"{subject} is forbidden: {why}", details);
    }

    public static ApiError MethodNotSupported(string group, string resource, string verb) =>
        new(405, "MethodNotAllowed", $"{verb} is not supported on resources of kind \"{Qualified(group, resource)}\"",
            DetailsFor(null, group, resource));

    public static ApiError Expired(string message) => new(410, "Expired", message, null);

    public static ApiError ExpiredContinue(string freshToken) =>
        new(410, "Expired",
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
            null)
        { ContinueToken = freshToken };

    public static ApiError Gone(string message) => new(410, "Gone", message, null);

    public static ApiError UnsupportedMediaType(string contentType, IEnumerable<string> accepted) =>
        new(415, "UnsupportedMediaType",
            $"the body of the request was in an unknown format - accepted media types include: {string.Join(", ", accepted)}",
            null)
        { RejectedContentType = contentType };

    public string? RejectedContentType { get; private init; }

    public static ApiError NotAcceptable(IEnumerable<string> accepted) =>
        new(406, "NotAcceptable",
            $"only the following media types are accepted: {string.Join(", ", accepted)}", null);

    public static ApiError TooManyRequests(string message, int retryAfterSeconds, JsonArray? causes = null)
    {
        var details = new JsonObject();
        if (causes is not null)
        {
            details["causes"] = causes;
        }

        details["retryAfterSeconds"] = retryAfterSeconds;
        return new(429, "TooManyRequests", message, details);
    }

    public static ApiError RequestEntityTooLarge(long limit) =>
        new(413, "RequestEntityTooLarge", $"Request entity too large: limit is {limit.ToString(CultureInfo.InvariantCulture)}", null);

    public static ApiError Internal(string cause)
    {
        var details = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["message"] = cause }) };
        return new(500, "InternalError", $"Internal error occurred: {cause}", details);
    }

    /// <summary>A 500 whose Status has no reason (apiserver's ErrorToAPIStatus default branch).</summary>
    public static ApiError Unknown(string message) => new(500, "", message, null);

    public static ApiError Timeout(string message, int retryAfterSeconds, JsonArray? causes = null)
    {
        var details = new JsonObject();
        if (causes is not null)
        {
            details["causes"] = causes;
        }

        details["retryAfterSeconds"] = retryAfterSeconds;
        return new(504, "Timeout", $"Timeout: {message}", details);
    }

    public static ApiError TooLargeResourceVersion(long requested, long current) =>
        Timeout($"Too large resource version: {requested}, current: {current}", 1,
            new JsonArray(new JsonObject
            {
                ["reason"] = "ResourceVersionTooLarge",
                ["message"] = "Too large resource version",
            }));

    public static string Qualified(string group, string resource) => group.Length == 0 ? resource : $"{resource}.{group}";
}
