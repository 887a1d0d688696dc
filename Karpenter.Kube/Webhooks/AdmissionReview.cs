using System.Text.Json;
using System.Text.Json.Serialization;

namespace Karpenter.Kube.Webhooks;

/// <summary><c>admission.k8s.io/v1</c> AdmissionReview, the envelope of an admission webhook call and its answer.</summary>
public sealed class AdmissionReview
{
    public string ApiVersion { get; set; } = "admission.k8s.io/v1";

    public string Kind { get; set; } = "AdmissionReview";

    public AdmissionRequest? Request { get; set; }

    public AdmissionResponse? Response { get; set; }
}

/// <summary>The request part of an <see cref="AdmissionReview"/>.</summary>
public sealed class AdmissionRequest
{
    public string Uid { get; set; } = string.Empty;

    public GroupVersionKind? Kind { get; set; }

    public GroupVersionResource? Resource { get; set; }

    public string? SubResource { get; set; }

    public GroupVersionKind? RequestKind { get; set; }

    public GroupVersionResource? RequestResource { get; set; }

    public string? Name { get; set; }

    public string? Namespace { get; set; }

    /// <summary>CREATE, UPDATE, DELETE or CONNECT.</summary>
    public string Operation { get; set; } = string.Empty;

    public AdmissionUserInfo? UserInfo { get; set; }

    [JsonPropertyName("object")]
    public JsonElement? NewObject { get; set; }

    public JsonElement? OldObject { get; set; }

    public bool? DryRun { get; set; }

    public JsonElement? Options { get; set; }
}

/// <summary>The response part of an <see cref="AdmissionReview"/>.</summary>
public sealed class AdmissionResponse
{
    public string Uid { get; set; } = string.Empty;

    public bool Allowed { get; set; }

    public AdmissionStatus? Status { get; set; }

    /// <summary>Base64 of an RFC 6902 JSON patch (mutating webhooks only).</summary>
    public string? Patch { get; set; }

    /// <summary><c>JSONPatch</c> when <see cref="Patch"/> is set.</summary>
    public string? PatchType { get; set; }

    public IList<string>? Warnings { get; set; }

    public IDictionary<string, string>? AuditAnnotations { get; set; }
}

/// <summary>The <c>status</c> of a denial (a metav1.Status subset).</summary>
public sealed class AdmissionStatus
{
    public int Code { get; set; }

    public string? Message { get; set; }

    public string? Reason { get; set; }

    public string Status { get; set; } = "Failure";
}

public sealed record GroupVersionKind(string Group, string Version, string Kind);

public sealed record GroupVersionResource(string Group, string Version, string Resource);

/// <summary>Who sent the request.</summary>
public sealed class AdmissionUserInfo
{
    public string? Username { get; set; }

    public string? Uid { get; set; }

    public IList<string>? Groups { get; set; }

    public IDictionary<string, IList<string>>? Extra { get; set; }
}

/// <summary><c>apiextensions.k8s.io/v1</c> ConversionReview.</summary>
public sealed class ConversionReview
{
    public string ApiVersion { get; set; } = "apiextensions.k8s.io/v1";

    public string Kind { get; set; } = "ConversionReview";

    public ConversionRequest? Request { get; set; }

    public ConversionResponse? Response { get; set; }
}

public sealed class ConversionRequest
{
    public string Uid { get; set; } = string.Empty;

    public string DesiredApiVersion { get; set; } = string.Empty;

    public IList<JsonElement> Objects { get; set; } = [];
}

public sealed class ConversionResponse
{
    public string Uid { get; set; } = string.Empty;

    public IList<JsonElement> ConvertedObjects { get; set; } = [];

    public ConversionResult Result { get; set; } = new();
}

public sealed class ConversionResult
{
    /// <summary><c>Success</c> or <c>Failure</c>.</summary>
    public string Status { get; set; } = "Success";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Message { get; set; }
}

internal static class WebhookJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
