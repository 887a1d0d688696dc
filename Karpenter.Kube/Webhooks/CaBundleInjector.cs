using System.Net;
using k8s;
using k8s.Autorest;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Kube.Webhooks;

/// <summary>The objects whose <c>caBundle</c> must name the CA of the webhook server's certificate.</summary>
public sealed class CaBundleTargets
{
    /// <summary>CRDs (by name, e.g. <c>nodepools.karpenter.sh</c>) whose conversion webhook this process serves.</summary>
    public IList<string> CustomResourceDefinitions { get; init; } = [];

    public IList<string> ValidatingWebhookConfigurations { get; init; } = [];

    public IList<string> MutatingWebhookConfigurations { get; init; } = [];
}

/// <summary>
/// Keeps <c>caBundle</c> in the CRDs' conversion webhook and in the webhook configurations equal to the CA of the
/// certificate this process serves (knative's certificate reconciler, which upstream Karpenter used while it served
/// webhooks; cert-manager's cainjector does the same from outside). Without it the API server cannot verify the webhook
/// and every write of a v1beta1 object fails. Level-based: re-asserted every minute, because re-applying the generated
/// manifests (which carry no caBundle) wipes it. Objects not installed yet are skipped and retried.
/// </summary>
[GenericRbac(Groups = ["apiextensions.k8s.io"], Resources = ["customresourcedefinitions"], Verbs = RbacVerbs.Get | RbacVerbs.Update)]
[GenericRbac(Groups = ["admissionregistration.k8s.io"], Resources = ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
    Verbs = RbacVerbs.Get | RbacVerbs.Update)]
public sealed partial class CaBundleInjector(
    IKubernetes kube,
    WebhookCertificates certificates,
    IOptions<WebhookOptions> options,
    CaBundleTargets targets,
    ILogger<CaBundleInjector> logger) : ISingletonReconciler
{
    /// <summary>How often the bundles are re-asserted.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return ReconcileResult.Done;
        }

        if (certificates.CaBundle is not { } bundle)
        {
            NoCaBundle();
            return ReconcileResult.Done;
        }

        foreach (var name in targets.CustomResourceDefinitions)
        {
            if (await ReadAsync(() => kube.ApiextensionsV1.ReadCustomResourceDefinitionAsync(name, cancellationToken: cancellationToken), "CustomResourceDefinition", name) is { } crd
                && crd.Spec.Conversion?.Webhook?.ClientConfig is { } config && !bundle.AsSpan().SequenceEqual(config.CaBundle))
            {
                config.CaBundle = bundle;
                await kube.ApiextensionsV1.ReplaceCustomResourceDefinitionAsync(crd, name, cancellationToken: cancellationToken);
                Injected("CustomResourceDefinition", name);
            }
        }

        foreach (var name in targets.ValidatingWebhookConfigurations)
        {
            if (await ReadAsync(() => kube.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync(name, cancellationToken: cancellationToken), "ValidatingWebhookConfiguration", name) is { } configuration
                && Inject(configuration.Webhooks?.Select(w => w.ClientConfig), bundle))
            {
                await kube.AdmissionregistrationV1.ReplaceValidatingWebhookConfigurationAsync(configuration, name, cancellationToken: cancellationToken);
                Injected("ValidatingWebhookConfiguration", name);
            }
        }

        foreach (var name in targets.MutatingWebhookConfigurations)
        {
            if (await ReadAsync(() => kube.AdmissionregistrationV1.ReadMutatingWebhookConfigurationAsync(name, cancellationToken: cancellationToken), "MutatingWebhookConfiguration", name) is { } configuration
                && Inject(configuration.Webhooks?.Select(w => w.ClientConfig), bundle))
            {
                await kube.AdmissionregistrationV1.ReplaceMutatingWebhookConfigurationAsync(configuration, name, cancellationToken: cancellationToken);
                Injected("MutatingWebhookConfiguration", name);
            }
        }

        return ReconcileResult.After(Period);
    }

    private static bool Inject(IEnumerable<k8s.Models.Admissionregistrationv1WebhookClientConfig>? configs, byte[] bundle)
    {
        var changed = false;
        foreach (var config in configs ?? [])
        {
            if (!bundle.AsSpan().SequenceEqual(config.CaBundle))
            {
                config.CaBundle = bundle;
                changed = true;
            }
        }

        return changed;
    }

    private async Task<T?> ReadAsync<T>(Func<Task<T>> read, string kind, string name)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            NotInstalled(kind, name);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "caBundle of {Kind} {Name} set to the webhook server's CA")]
    private partial void Injected(string kind, string name);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Kind} {Name} is not installed yet; its caBundle will be set once it is")]
    private partial void NotInstalled(string kind, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The webhook certificate was given without its CA (WEBHOOK_CA_FILE), so no caBundle is injected: " +
        "let cert-manager's cainjector set it, or the API server cannot call the webhooks")]
    private partial void NoCaBundle();
}

/// <summary>Registration of <see cref="CaBundleInjector"/>.</summary>
public static class CaBundleInjectionExtensions
{
    /// <summary>Keeps the caBundle of <paramref name="targets"/> equal to the served certificate's CA (a leader-only singleton controller).</summary>
    public static KubeOperatorBuilder AddCaBundleInjection(this KubeOperatorBuilder builder, CaBundleTargets targets)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(targets);
        return builder.AddSingletonController<CaBundleInjector>("webhook.cabundle");
    }
}
