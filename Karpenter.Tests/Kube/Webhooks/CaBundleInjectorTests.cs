using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Webhooks;
using Karpenter.Tests.Sim.KubeApi;
using Karpenter.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Karpenter.Tests.Kube.Webhooks;

/// <summary>The webhook server's CA reaches the CRD's conversion webhook and the webhook configurations, and stays there.</summary>
public sealed class CaBundleInjectorTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>
{
    [Fact]
    public async Task Sets_the_ca_bundle_where_it_is_missing_or_stale_and_leaves_it_alone_once_right()
    {
        var conversion = """
            "conversion":{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],"clientConfig":{"url":"https://127.0.0.1:1/convert"}}},
            """;
        using (var http = new HttpClient { BaseAddress = api.Server.BaseAddress })
        {
            using var created = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                new StringContent(CustomResourceTests.WidgetCrd("sprockets", "Sprocket", conversion), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await api.Client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(new V1ValidatingWebhookConfiguration
        {
            Metadata = new V1ObjectMeta { Name = "validation.webhook.test.sh" },
            Webhooks =
            [
                new V1ValidatingWebhook
                {
                    Name = "validation.webhook.nothings.example.com",
                    AdmissionReviewVersions = ["v1"],
                    SideEffects = "None",
                    ClientConfig = new Admissionregistrationv1WebhookClientConfig { Url = "https://127.0.0.1:1/validate", CaBundle = Encoding.ASCII.GetBytes("stale") },
                    Rules = [new V1RuleWithOperations { ApiGroups = ["example.com"], ApiVersions = ["v1"], Resources = ["nothings"], Operations = ["CREATE"] }],
                },
            ],
        });

        var webhookOptions = Options.Create(new WebhookOptions { Enabled = true });
        using var certificates = new WebhookCertificates(webhookOptions, api.Clock, NullLogger<WebhookCertificates>.Instance);
        var injector = new CaBundleInjector(api.Client, certificates, webhookOptions, new CaBundleTargets
        {
            CustomResourceDefinitions = ["sprockets.example.com"],
            ValidatingWebhookConfigurations = ["validation.webhook.test.sh"],
            MutatingWebhookConfigurations = ["defaulting.webhook.test.sh"],
        }, NullLogger<CaBundleInjector>.Instance);

        var result = await injector.ReconcileAsync(CancellationToken.None);

        Assert.Equal(ReconcileResult.After(CaBundleInjector.Period), result);
        var crd = await api.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("sprockets.example.com");
        Assert.Equal(certificates.CaBundle, crd.Spec.Conversion.Webhook.ClientConfig.CaBundle);
        var validating = await api.Client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync("validation.webhook.test.sh");
        Assert.Equal(certificates.CaBundle, validating.Webhooks.Single().ClientConfig.CaBundle);

        await injector.ReconcileAsync(CancellationToken.None);

        Assert.Equal(crd.ResourceVersion(), (await api.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("sprockets.example.com")).ResourceVersion());
        Assert.Equal(validating.ResourceVersion(), (await api.Client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync("validation.webhook.test.sh")).ResourceVersion());
    }
}
