using Karpenter.Kube.Generation;
using Karpenter.Kube.Webhooks;
using Karpenter.Tests.Kube.Generation.Samples;

namespace Karpenter.Tests.Kube.Generation;

public sealed class WebhookConfigurationGeneratorTests
{
    private static readonly WebhookService Service = new("widget-operator", "widgets");

    private static readonly AdmissionWebhook[] Registrations =
    [
        AdmissionWebhook.Validating<V1Widget>(),
        AdmissionWebhook.Validating<V1Alpha1Gadget>() with { Operations = ["CREATE"], FailurePolicy = "Ignore" },
        AdmissionWebhook.Mutating<V1Widget>(),
    ];

    [Fact]
    public void Webhook_configurations_match_their_golden_file()
    {
        var validating = WebhookConfigurationGenerator.Validating("validation.widgets.example.com", Service, Registrations)!;
        var mutating = WebhookConfigurationGenerator.Mutating("defaulting.widgets.example.com", Service, Registrations)!;

        GoldenFile.ExpectMatches("Golden/webhooks.yaml", ManifestYaml.SerializeAll([validating, mutating]));
    }

    [Fact]
    public void A_validating_webhook_matches_equivalent_versions_of_its_resource()
    {
        var configuration = WebhookConfigurationGenerator.Validating("v", Service, Registrations)!;

        var widgets = Assert.Single(configuration.Webhooks, w => w.Name == "validation.webhook.widgets.example.com");
        Assert.Equal("Equivalent", widgets.MatchPolicy);
        Assert.Equal("None", widgets.SideEffects);
        Assert.Equal("Fail", widgets.FailurePolicy);
        Assert.Equal(["example.com"], widgets.Rules[0].ApiGroups);
        Assert.Equal(["v1"], widgets.Rules[0].ApiVersions);
        Assert.Equal(["widgets"], widgets.Rules[0].Resources);
        Assert.Equal(WebhookPaths.Validate<V1Widget>(), widgets.ClientConfig.Service.Path);
        Assert.Equal("/validate/example.com/v1/widget", widgets.ClientConfig.Service.Path);
    }

    [Fact]
    public void No_registrations_of_a_kind_give_no_configuration()
    {
        Assert.Null(WebhookConfigurationGenerator.Mutating("m", Service, Registrations.Where(r => r.Kind == AdmissionKind.Validating)));
    }
}
