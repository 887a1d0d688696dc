using k8s;
using k8s.Models;

namespace Karpenter.Kube.Webhooks;

/// <summary>What a validator or mutator sees: the operation, the new and old objects (typed), and the raw request.</summary>
public sealed record AdmissionContext<T>(string Operation, T? Entity, T? OldEntity, AdmissionRequest Request)
    where T : class
{
    public bool IsCreate => Operation == "CREATE";

    public bool IsUpdate => Operation == "UPDATE";

    public bool IsDelete => Operation == "DELETE";

    public bool DryRun => Request.DryRun ?? false;
}

/// <summary>A validator's verdict: allowed (optionally with warnings) or denied with a message.</summary>
public sealed record AdmissionVerdict(bool Allowed, string? Message = null, int Code = 200, string? Reason = null, IReadOnlyList<string>? Warnings = null)
{
    public static AdmissionVerdict Allow(params string[] warnings) => new(true, Warnings: warnings);

    /// <summary>Denies with 422 Invalid by default, which is what schema and CEL failures look like to users.</summary>
    public static AdmissionVerdict Deny(string message, int code = 422, string reason = "Invalid") => new(false, message, code, reason);
}

/// <summary>A validating admission webhook for one entity type (served at <see cref="WebhookPaths.Validate{T}"/>).</summary>
public interface IAdmissionValidator<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    Task<AdmissionVerdict> ValidateAsync(AdmissionContext<T> context, CancellationToken cancellationToken);
}

/// <summary>A mutator's answer: the modified object (or null for "no change"), optional warnings, or a denial.</summary>
public sealed record MutationResult<T>(T? Modified, AdmissionVerdict Verdict)
    where T : class;

/// <summary>Factories of <see cref="MutationResult{T}"/>.</summary>
public static class Mutation
{
    public static MutationResult<T> NoChange<T>()
        where T : class => new(null, AdmissionVerdict.Allow());

    public static MutationResult<T> Changed<T>(T modified, params string[] warnings)
        where T : class => new(modified, AdmissionVerdict.Allow(warnings));

    public static MutationResult<T> Deny<T>(string message, int code = 422)
        where T : class => new(null, AdmissionVerdict.Deny(message, code));
}

/// <summary>
/// A mutating admission webhook for one entity type (served at <see cref="WebhookPaths.Mutate{T}"/>). Return the
/// modified object; the host answers with the JSON patch from the request's object to it.
/// </summary>
public interface IAdmissionMutator<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    Task<MutationResult<T>> MutateAsync(AdmissionContext<T> context, CancellationToken cancellationToken);
}
