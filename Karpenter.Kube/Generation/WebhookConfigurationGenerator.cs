using k8s;
using k8s.Models;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Webhooks;

namespace Karpenter.Kube.Generation;

/// <summary>Whether a webhook validates or mutates.</summary>
public enum AdmissionKind
{
    Validating,
    Mutating,
}

/// <summary>
/// One admission webhook the operator serves, for one entity version, at the path the webhook host serves it
/// (<see cref="WebhookPaths"/>).
/// </summary>
public sealed record AdmissionWebhook(AdmissionKind Kind, Type EntityType, string Path)
{
    /// <summary>The validating webhook of <typeparamref name="T"/>.</summary>
    public static AdmissionWebhook Validating<T>()
        where T : class, IKubernetesObject<V1ObjectMeta> => new(AdmissionKind.Validating, typeof(T), WebhookPaths.Validate<T>());

    /// <summary>The mutating webhook of <typeparamref name="T"/>.</summary>
    public static AdmissionWebhook Mutating<T>()
        where T : class, IKubernetesObject<V1ObjectMeta> => new(AdmissionKind.Mutating, typeof(T), WebhookPaths.Mutate<T>());

    /// <summary>The operations it is called for (default CREATE and UPDATE).</summary>
    public IReadOnlyList<string> Operations { get; init; } = ["CREATE", "UPDATE"];

    /// <summary><c>Fail</c> (the default: nothing unvalidated is admitted while the webhook is down) or <c>Ignore</c>.</summary>
    public string FailurePolicy { get; init; } = "Fail";

    public int TimeoutSeconds { get; init; } = 10;

    public EntityMetadata Entity => EntityMetadata.Of(EntityType);

    /// <summary>A fully qualified webhook name, e.g. <c>validation.webhook.nodepools.karpenter.sh</c>.</summary>
    public string Name => $"{(Kind == AdmissionKind.Validating ? "validation" : "defaulting")}.webhook.{Entity.Plural}.{Entity.Group}";
}

/// <summary>
/// Builds the ValidatingWebhookConfiguration and MutatingWebhookConfiguration for the operator's admission webhooks.
/// Each webhook is registered for the version it validates with <c>matchPolicy: Equivalent</c>, so requests in any other
/// served version reach it converted. The <c>caBundle</c> is left for the deployment to inject.
/// </summary>
public static class WebhookConfigurationGenerator
{
    public static V1ValidatingWebhookConfiguration? Validating(string name, WebhookService service, IEnumerable<AdmissionWebhook> registrations)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(registrations);
        var webhooks = registrations
            .Where(r => r.Kind == AdmissionKind.Validating)
            .OrderBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => new V1ValidatingWebhook
            {
                Name = r.Name,
                AdmissionReviewVersions = ["v1"],
                ClientConfig = ClientConfig(service, r),
                FailurePolicy = r.FailurePolicy,
                MatchPolicy = "Equivalent",
                SideEffects = "None",
                TimeoutSeconds = r.TimeoutSeconds,
                Rules = [Rule(r)],
            })
            .ToList();
        return webhooks.Count == 0
            ? null
            : new V1ValidatingWebhookConfiguration
            {
                ApiVersion = "admissionregistration.k8s.io/v1",
                Kind = "ValidatingWebhookConfiguration",
                Metadata = new V1ObjectMeta { Name = name },
                Webhooks = webhooks,
            };
    }

    public static V1MutatingWebhookConfiguration? Mutating(string name, WebhookService service, IEnumerable<AdmissionWebhook> registrations)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(registrations);
        var webhooks = registrations
            .Where(r => r.Kind == AdmissionKind.Mutating)
            .OrderBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => new V1MutatingWebhook
            {
                Name = r.Name,
                AdmissionReviewVersions = ["v1"],
                ClientConfig = ClientConfig(service, r),
                FailurePolicy = r.FailurePolicy,
                MatchPolicy = "Equivalent",
                SideEffects = "None",
                TimeoutSeconds = r.TimeoutSeconds,
                ReinvocationPolicy = "Never",
                Rules = [Rule(r)],
            })
            .ToList();
        return webhooks.Count == 0
            ? null
            : new V1MutatingWebhookConfiguration
            {
                ApiVersion = "admissionregistration.k8s.io/v1",
                Kind = "MutatingWebhookConfiguration",
                Metadata = new V1ObjectMeta { Name = name },
                Webhooks = webhooks,
            };
    }

    private static Admissionregistrationv1WebhookClientConfig ClientConfig(WebhookService service, AdmissionWebhook registration) => new()
    {
        Service = new Admissionregistrationv1ServiceReference
        {
            Name = service.Name,
            NamespaceProperty = service.Namespace,
            Path = registration.Path,
            Port = service.Port,
        },
    };

    private static V1RuleWithOperations Rule(AdmissionWebhook registration) => new()
    {
        ApiGroups = [registration.Entity.Group],
        ApiVersions = [registration.Entity.Version],
        Operations = registration.Operations.ToList(),
        Resources = [registration.Entity.Plural],
        Scope = "*",
    };
}
