using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>One cause of a failed request (<c>status.details.causes[]</c>), e.g. a field that failed validation.</summary>
public sealed record KubeStatusCause(string? Reason, string? Message, string? Field);

/// <summary>
/// A request the API server refused, carrying its <c>Status</c>: HTTP code, reason, message, the object it was
/// about and, where the server sent one, a retry-after hint. Subclasses name the cases controllers branch on.
/// </summary>
public class KubeApiException : Exception
{
    public KubeApiException(int statusCode, string reason, string message, V1Status? status = null, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Reason = reason;
        Status = status;
        RetryAfter = retryAfter;
    }

    public KubeApiException()
        : this(0, string.Empty, "The Kubernetes API request failed.")
    {
    }

    public KubeApiException(string message)
        : this(0, string.Empty, message)
    {
    }

    public KubeApiException(string message, Exception innerException)
        : this(0, string.Empty, message, innerException: innerException)
    {
    }

    /// <summary>The HTTP status (<c>status.code</c>).</summary>
    public int StatusCode { get; }

    /// <summary>The machine-readable reason (<c>NotFound</c>, <c>Conflict</c>, …), or empty when the server gave none.</summary>
    public string Reason { get; }

    /// <summary>The server's Status object, when the response carried one.</summary>
    public V1Status? Status { get; }

    /// <summary>How long the server asked the client to wait (<c>Retry-After</c> or <c>details.retryAfterSeconds</c>).</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The name of the object the error is about (<c>details.name</c>).</summary>
    public string? ObjectName => Status?.Details?.Name;

    /// <summary>The causes the server listed (<c>details.causes</c>).</summary>
    public IReadOnlyList<KubeStatusCause> Causes =>
        Status?.Details?.Causes?.Select(c => new KubeStatusCause(c.Reason, c.Message, c.Field)).ToArray() ?? [];
}

/// <summary>404: the object (or the resource) does not exist.</summary>
public sealed class KubeNotFoundException : KubeApiException
{
    public KubeNotFoundException(int statusCode, string reason, string message, V1Status? status = null, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(statusCode, reason, message, status, retryAfter, innerException)
    {
    }

    public KubeNotFoundException()
    {
    }

    public KubeNotFoundException(string message)
        : base(404, "NotFound", message)
    {
    }

    public KubeNotFoundException(string message, Exception innerException)
        : base(404, "NotFound", message, innerException: innerException)
    {
    }
}

/// <summary>409 Conflict: a stale resourceVersion or a failed precondition; re-read and try again.</summary>
public sealed class KubeConflictException : KubeApiException
{
    public KubeConflictException(int statusCode, string reason, string message, V1Status? status = null, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(statusCode, reason, message, status, retryAfter, innerException)
    {
    }

    public KubeConflictException()
    {
    }

    public KubeConflictException(string message)
        : base(409, "Conflict", message)
    {
    }

    public KubeConflictException(string message, Exception innerException)
        : base(409, "Conflict", message, innerException: innerException)
    {
    }
}

/// <summary>409 AlreadyExists: an object of that name exists (possibly being deleted).</summary>
public sealed class KubeAlreadyExistsException : KubeApiException
{
    public KubeAlreadyExistsException(int statusCode, string reason, string message, V1Status? status = null, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(statusCode, reason, message, status, retryAfter, innerException)
    {
    }

    public KubeAlreadyExistsException()
    {
    }

    public KubeAlreadyExistsException(string message)
        : base(409, "AlreadyExists", message)
    {
    }

    public KubeAlreadyExistsException(string message, Exception innerException)
        : base(409, "AlreadyExists", message, innerException: innerException)
    {
    }
}

/// <summary>422 Invalid: validation failed; <see cref="KubeApiException.Causes"/> names the fields.</summary>
public sealed class KubeInvalidException : KubeApiException
{
    public KubeInvalidException(int statusCode, string reason, string message, V1Status? status = null, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(statusCode, reason, message, status, retryAfter, innerException)
    {
    }

    public KubeInvalidException()
    {
    }

    public KubeInvalidException(string message)
        : base(422, "Invalid", message)
    {
    }

    public KubeInvalidException(string message, Exception innerException)
        : base(422, "Invalid", message, innerException: innerException)
    {
    }
}

/// <summary>429 TooManyRequests: throttled, or an eviction blocked by a PodDisruptionBudget; wait <see cref="KubeApiException.RetryAfter"/>.</summary>
public sealed class KubeTooManyRequestsException : KubeApiException
{
    public KubeTooManyRequestsException(int statusCode, string reason, string message, V1Status? status = null, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(statusCode, reason, message, status, retryAfter, innerException)
    {
    }

    public KubeTooManyRequestsException()
    {
    }

    public KubeTooManyRequestsException(string message)
        : base(429, "TooManyRequests", message)
    {
    }

    public KubeTooManyRequestsException(string message, Exception innerException)
        : base(429, "TooManyRequests", message, innerException: innerException)
    {
    }
}

/// <summary>410 Gone / Expired: the resourceVersion is too old; list again.</summary>
public sealed class KubeGoneException : KubeApiException
{
    public KubeGoneException(int statusCode, string reason, string message, V1Status? status = null, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(statusCode, reason, message, status, retryAfter, innerException)
    {
    }

    public KubeGoneException()
    {
    }

    public KubeGoneException(string message)
        : base(410, "Expired", message)
    {
    }

    public KubeGoneException(string message, Exception innerException)
        : base(410, "Expired", message, innerException: innerException)
    {
    }
}

/// <summary>403 Forbidden: RBAC denied the request, or admission forbade it (e.g. a terminating namespace).</summary>
public sealed class KubeForbiddenException : KubeApiException
{
    public KubeForbiddenException(int statusCode, string reason, string message, V1Status? status = null, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(statusCode, reason, message, status, retryAfter, innerException)
    {
    }

    public KubeForbiddenException()
    {
    }

    public KubeForbiddenException(string message)
        : base(403, "Forbidden", message)
    {
    }

    public KubeForbiddenException(string message, Exception innerException)
        : base(403, "Forbidden", message, innerException: innerException)
    {
    }
}
