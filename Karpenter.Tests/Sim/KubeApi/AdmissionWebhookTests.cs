using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Karpenter.Tests.Support;
using static Karpenter.Tests.Sim.KubeApi.KubeApiExpectations;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>
/// Validating and mutating admission webhooks: the server calls a real TLS webhook with an AdmissionReview,
/// honours rules, selectors, matchPolicy, failurePolicy and timeouts, applies JSON patches and surfaces
/// denials and failures with the real Status shapes.
/// </summary>
public sealed class AdmissionWebhookTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>, IAsyncLifetime
{
    private const string PodCreate = """{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}""";

    private TestAdmissionWebhook _webhook = null!;

    private IKubernetes Client => api.Client;

    public async Task InitializeAsync() => _webhook = await TestAdmissionWebhook.StartAsync();

    public async Task DisposeAsync() => await _webhook.DisposeAsync();

    private string Hook(string name, string path, string rules = PodCreate, string extra = "", string? url = null) =>
        $$"""{"name":"{{name}}","clientConfig":{"url":"{{url ?? _webhook.Url(path)}}","caBundle":"{{_webhook.CaBundle}}"},"rules":[{{rules}}],"sideEffects":"None","admissionReviewVersions":["v1"]{{extra}}}""";

    /// <summary>Only this namespace's requests reach the hook (tests share the server).</summary>
    private static string InNamespace(string ns) => $$$""","namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"{{{ns}}}"}}""";

    private async Task<IAsyncDisposable> ConfigureAsync(bool mutating, string name, params string[] hooks)
    {
        var kind = mutating ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration";
        var plural = mutating ? "mutatingwebhookconfigurations" : "validatingwebhookconfigurations";
        var body = $$"""{"apiVersion":"admissionregistration.k8s.io/v1","kind":"{{kind}}","metadata":{"name":"{{name}}"},"webhooks":[{{string.Join(",", hooks)}}]}""";
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var response = await http.PostAsync($"/apis/admissionregistration.k8s.io/v1/{plural}", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return new Cleanup(async () =>
        {
            using var client = new HttpClient { BaseAddress = api.Server.BaseAddress };
            using var deleted = await client.DeleteAsync($"/apis/admissionregistration.k8s.io/v1/{plural}/{name}");
        });
    }

    private sealed class Cleanup(Func<Task> action) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await action();
    }

    [Fact]
    public async Task A_validating_webhook_receives_an_admission_review_v1_and_allows()
    {
        var ns = await api.CreateNamespaceAsync("admit");
        await using var config = await ConfigureAsync(false, "allow", Hook("allow.example.com", "allow", extra: InNamespace(ns)));

        var pod = Pod("p");
        pod.Metadata.GenerateName = "gen-";
        pod.Metadata.Name = null;
        var created = await Client.CoreV1.CreateNamespacedPodAsync(pod, ns);

        var (target, review) = Assert.Single(_webhook.Received, r => r.Target.StartsWith("/allow?", StringComparison.Ordinal));
        Assert.Equal("/allow?timeout=10s", target);
        Assert.Equal("admission.k8s.io/v1", review["apiVersion"]!.GetValue<string>());
        var request = review["request"]!.AsObject();
        Assert.Equal("""{"group":"","version":"v1","kind":"Pod"}""", request["kind"]!.ToJsonString());
        Assert.Equal("""{"group":"","version":"v1","resource":"pods"}""", request["resource"]!.ToJsonString());
        Assert.Equal(request["kind"]!.ToJsonString(), request["requestKind"]!.ToJsonString());
        Assert.Equal("CREATE", request["operation"]!.GetValue<string>());
        Assert.Equal(ns, request["namespace"]!.GetValue<string>());
        Assert.Equal(created.Metadata.Name, request["name"]!.GetValue<string>());
        Assert.Equal("system:admin", request["userInfo"]!["username"]!.GetValue<string>());
        Assert.False(request["dryRun"]!.GetValue<bool>());
        Assert.Equal("CreateOptions", request["options"]!["kind"]!.GetValue<string>());
        Assert.Null(request["oldObject"]);
        Assert.Equal(created.Metadata.Name, request["object"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(36, request["uid"]!.GetValue<string>().Length);
    }

    [Fact]
    public async Task A_denial_is_the_webhooks_status_with_the_real_message_and_code_at_least_400()
    {
        var ns = await api.CreateNamespaceAsync("deny");
        _webhook.On("forbid", _ => TestAdmissionWebhook.Deny("pods need an owner", 403, "Forbidden"));
        _webhook.On("silent", _ => TestAdmissionWebhook.Deny(null, 200));
        await using var config = await ConfigureAsync(false, "deny", Hook("forbid.example.com", "forbid", extra: InNamespace(ns)));

        var status = await ExpectStatusAsync(403, "Forbidden", () => Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), ns));
        Assert.Equal("admission webhook \"forbid.example.com\" denied the request: pods need an owner", status.Message);
        Assert.Equal(0, api.Server.Count("pods") - (await Client.CoreV1.ListPodForAllNamespacesAsync()).Items.Count);

        var other = await api.CreateNamespaceAsync("deny");
        await using var silent = await ConfigureAsync(false, "silent", Hook("silent.example.com", "silent", extra: InNamespace(other)));
        var bare = await ExpectStatusAsync(400, null, () => Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), other));
        Assert.Equal("admission webhook \"silent.example.com\" denied the request without explanation", bare.Message);
    }

    [Fact]
    public async Task Mutating_webhooks_patch_in_name_order_before_validation_and_pass_warnings_on()
    {
        var ns = await api.CreateNamespaceAsync("mutate");
        _webhook.On("label", _ => TestAdmissionWebhook.Patch("""[{"op":"add","path":"/metadata/labels","value":{"team":"a"}}]""", "labelled by the webhook"));
        _webhook.On("annotate", request => request["object"]!["metadata"]!["labels"]?["team"] is null
            ? TestAdmissionWebhook.Deny("runs after label")
            : TestAdmissionWebhook.Patch("""[{"op":"add","path":"/metadata/annotations","value":{"seen":"yes"}}]"""));
        _webhook.On("check", request => request["object"]!["metadata"]!["annotations"]?["seen"] is null
            ? TestAdmissionWebhook.Deny("validation must see the mutated object")
            : TestAdmissionWebhook.Allow());
        await using var second = await ConfigureAsync(true, "b-annotate", Hook("annotate.example.com", "annotate", extra: InNamespace(ns)));
        await using var first = await ConfigureAsync(true, "a-label", Hook("label.example.com", "label", extra: InNamespace(ns)));
        await using var check = await ConfigureAsync(false, "check", Hook("check.example.com", "check", extra: InNamespace(ns)));

        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var response = await http.PostAsync($"/api/v1/namespaces/{ns}/pods", new StringContent(KubernetesJson.Serialize(Pod("p")), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("299 - \"labelled by the webhook\"", response.Headers.GetValues("Warning").Single());

        var stored = await Client.CoreV1.ReadNamespacedPodAsync("p", ns);
        Assert.Equal("a", stored.Metadata.Labels["team"]);
        Assert.Equal("yes", stored.Metadata.Annotations["seen"]);
    }

    [Fact]
    public async Task Reinvocation_IfNeeded_calls_an_earlier_webhook_again_after_a_later_one_changed_the_object()
    {
        var ns = await api.CreateNamespaceAsync("reinvoke");
        _webhook.On("first", request => request["object"]!["metadata"]!["labels"]?["late"] is null
            ? TestAdmissionWebhook.Allow()
            : TestAdmissionWebhook.Patch("""[{"op":"add","path":"/metadata/annotations","value":{"saw-late":"true"}}]"""));
        _webhook.On("second", _ => TestAdmissionWebhook.Patch("""[{"op":"add","path":"/metadata/labels","value":{"late":"x"}}]"""));
        await using var config = await ConfigureAsync(true, "reinvoke",
            Hook("first.example.com", "first", extra: InNamespace(ns) + ""","reinvocationPolicy":"IfNeeded" """),
            Hook("second.example.com", "second", extra: InNamespace(ns)));

        var created = await Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), ns);

        Assert.Equal("true", created.Metadata.Annotations["saw-late"]);
        Assert.Equal(2, _webhook.RequestsTo("first").Count());
        Assert.Single(_webhook.RequestsTo("second"));
    }

    [Fact]
    public async Task An_unreachable_webhook_fails_the_request_with_500_unless_failurePolicy_is_Ignore()
    {
        var ns = await api.CreateNamespaceAsync("unreachable");
        var closed = ClosedPortUrl();
        await using (await ConfigureAsync(false, "down", Hook("down.example.com", "down", extra: InNamespace(ns), url: closed)))
        {
            var status = await ExpectStatusAsync(500, "InternalError", () => Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), ns));
            Assert.StartsWith($"Internal error occurred: failed calling webhook \"down.example.com\": failed to call webhook: Post \"{closed}?timeout=10s\": ", status.Message, StringComparison.Ordinal);
            Assert.Contains("connection refused", status.Message, StringComparison.Ordinal);
        }

        await using (await ConfigureAsync(false, "down-ignored", Hook("down.example.com", "down", extra: InNamespace(ns) + ""","failurePolicy":"Ignore" """, url: closed)))
        {
            var created = await Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), ns);
            Assert.Equal("p", created.Metadata.Name);
        }
    }

    [Fact]
    public async Task A_webhook_that_does_not_answer_within_timeoutSeconds_fails_the_request()
    {
        var ns = await api.CreateNamespaceAsync("slow");
        var release = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _webhook.OnAsync("slow", _ => release.Task);
        await using var config = await ConfigureAsync(false, "slow", Hook("slow.example.com", "slow", extra: InNamespace(ns) + ""","timeoutSeconds":3"""));

        var create = ExpectStatusAsync(500, "InternalError", () => Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), ns));
        for (var i = 0; i < 500 && !_webhook.RequestsTo("slow").Any(); i++)
        {
            await Task.Delay(10);
        }

        Assert.Single(_webhook.RequestsTo("slow"));
        api.Clock.Advance(TimeSpan.FromSeconds(3));
        var status = await create;
        release.SetResult(TestAdmissionWebhook.Allow());

        Assert.Contains("failed calling webhook \"slow.example.com\": failed to call webhook: Post \"", status.Message, StringComparison.Ordinal);
        Assert.EndsWith("slow?timeout=3s\": context deadline exceeded", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_clientConfig_reaches_the_endpoint_registered_for_that_service()
    {
        var ns = await api.CreateNamespaceAsync("service");
        api.Server.RegisterWebhookService("webhooks", "guard", 8443, new Uri(_webhook.BaseUrl));
        _webhook.On("validate/pods", _ => TestAdmissionWebhook.Deny("through the service"));
        var hook = $$"""{"name":"svc.example.com","clientConfig":{"service":{"namespace":"webhooks","name":"guard","port":8443,"path":"/validate/pods"},"caBundle":"{{_webhook.CaBundle}}"},"rules":[{{PodCreate}}],"sideEffects":"None","admissionReviewVersions":["v1"]{{InNamespace(ns)}}}""";
        await using var config = await ConfigureAsync(false, "service", hook);

        var status = await ExpectStatusAsync(400, null, () => Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), ns));

        Assert.Equal("admission webhook \"svc.example.com\" denied the request: through the service", status.Message);
        Assert.Single(_webhook.RequestsTo("validate/pods"));
    }

    [Fact]
    public async Task A_webhook_whose_certificate_does_not_chain_to_the_caBundle_is_a_call_failure()
    {
        var ns = await api.CreateNamespaceAsync("untrusted");
        using var stranger = Karpenter.Sim.KubeApi.Tls.CertificateAuthority.Create("some-other-ca");
        var hook = Hook("untrusted.example.com", "untrusted", extra: InNamespace(ns)).Replace(_webhook.CaBundle, stranger.CaBundle, StringComparison.Ordinal);
        await using var config = await ConfigureAsync(false, "untrusted", hook);

        var status = await ExpectStatusAsync(500, "InternalError", () => Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), ns));

        Assert.StartsWith("Internal error occurred: failed calling webhook \"untrusted.example.com\": failed to call webhook: Post \"", status.Message, StringComparison.Ordinal);
        Assert.EndsWith("x509: certificate signed by unknown authority", status.Message, StringComparison.Ordinal);
        Assert.Empty(_webhook.RequestsTo("untrusted"));
    }

    [Fact]
    public async Task A_dry_run_is_admitted_with_dryRun_true_and_nothing_is_stored()
    {
        var ns = await api.CreateNamespaceAsync("dryrun");
        _webhook.On("dry", _ => TestAdmissionWebhook.Patch("""[{"op":"add","path":"/metadata/labels","value":{"dry":"run"}}]"""));
        await using var config = await ConfigureAsync(true, "dry", Hook("dry.example.com", "dry", extra: InNamespace(ns)).Replace("\"None\"", "\"NoneOnDryRun\"", StringComparison.Ordinal));

        var created = await Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), ns, dryRun: "All");

        Assert.Equal("run", created.Metadata.Labels["dry"]);
        var request = Assert.Single(_webhook.RequestsTo("dry"));
        Assert.True(request["dryRun"]!.GetValue<bool>());
        Assert.Equal("""["All"]""", request["options"]!["dryRun"]!.ToJsonString());
        Assert.Empty((await Client.CoreV1.ListNamespacedPodAsync(ns)).Items);
    }

    [Fact]
    public async Task Namespace_and_object_selectors_and_rules_decide_which_requests_reach_a_webhook()
    {
        var chosen = await api.CreateNamespaceAsync("chosen");
        var other = await api.CreateNamespaceAsync("other");
        _webhook.On("selective", _ => TestAdmissionWebhook.Deny("selected"));
        await using var config = await ConfigureAsync(false, "selective", Hook("selective.example.com", "selective",
            rules: """{"operations":["CREATE","UPDATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"Namespaced"}""",
            extra: InNamespace(chosen) + ""","objectSelector":{"matchExpressions":[{"key":"guarded","operator":"Exists"}]}"""));

        await Client.CoreV1.CreateNamespacedPodAsync(Pod("unlabelled"), chosen);
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("elsewhere", labels: new Dictionary<string, string> { ["guarded"] = "1" }), other);
        await Client.CoreV1.CreateNodeAsync(Node("selective-node", new Dictionary<string, string> { ["guarded"] = "1" }));
        var denied = await ExpectStatusAsync(400, null, () => Client.CoreV1.CreateNamespacedPodAsync(Pod("guarded", labels: new Dictionary<string, string> { ["guarded"] = "1" }), chosen));
        Assert.Contains("denied the request: selected", denied.Message, StringComparison.Ordinal);

        // An update that adds the label is selected through the new object; one that removes it through the old one.
        var patch = new V1Patch("""{"metadata":{"labels":{"guarded":"yes"}}}""", V1Patch.PatchType.MergePatch);
        await ExpectStatusAsync(400, null, () => Client.CoreV1.PatchNamespacedPodAsync(patch, "unlabelled", chosen));
        Assert.All(_webhook.RequestsTo("selective"), r => Assert.Equal(chosen, r["namespace"]!.GetValue<string>()));
        Assert.Equal(2, _webhook.RequestsTo("selective").Count());
    }

    [Fact]
    public async Task Deletes_are_admitted_with_the_old_object_and_a_mutating_webhook_cannot_patch_them()
    {
        var ns = await api.CreateNamespaceAsync("delete");
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("keep"), ns);
        _webhook.On("keep", request => request["oldObject"]!["metadata"]!["name"]!.GetValue<string>() == "keep"
            ? TestAdmissionWebhook.Deny("keep stays", 403, "Forbidden")
            : TestAdmissionWebhook.Allow());
        var deleteRule = """{"operations":["DELETE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}""";
        await using (await ConfigureAsync(false, "keep", Hook("keep.example.com", "keep", rules: deleteRule, extra: InNamespace(ns))))
        {
            await ExpectStatusAsync(403, "Forbidden", () => Client.CoreV1.DeleteNamespacedPodAsync("keep", ns, gracePeriodSeconds: 0));
            var request = Assert.Single(_webhook.RequestsTo("keep"));
            Assert.Equal("DELETE", request["operation"]!.GetValue<string>());
            Assert.Null(request["object"]);
            Assert.Equal("DeleteOptions", request["options"]!["kind"]!.GetValue<string>());
        }

        _webhook.On("meddle", _ => TestAdmissionWebhook.Patch("""[{"op":"add","path":"/metadata/labels","value":{"x":"y"}}]"""));
        await using (await ConfigureAsync(true, "meddle", Hook("meddle.example.com", "meddle", rules: deleteRule, extra: InNamespace(ns))))
        {
            var status = await ExpectStatusAsync(500, "InternalError", () => Client.CoreV1.DeleteNamespacedPodAsync("keep", ns, gracePeriodSeconds: 0));
            Assert.Contains("admission webhook \"meddle.example.com\" attempted to modify the object, which is not supported for this operation", status.Message, StringComparison.Ordinal);
        }

        await Client.CoreV1.DeleteNamespacedPodAsync("keep", ns, gracePeriodSeconds: 0);
    }

    [Fact]
    public async Task Custom_resources_are_admitted_and_matchPolicy_Equivalent_converts_to_the_matched_version()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var crd = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", new StringContent(CustomResourceTests.WidgetCrd("sprockets", "Sprocket"), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, crd.StatusCode);
        _webhook.On("sprockets", request => request["object"]!["spec"]!["size"]!.GetValue<long>() > 5
            ? TestAdmissionWebhook.Deny("sprockets are small")
            : TestAdmissionWebhook.Allow());
        _webhook.On("sprockets-mutate", _ => TestAdmissionWebhook.Patch("""[{"op":"add","path":"/spec/name","value":"patched"},{"op":"add","path":"/spec/bogus","value":1}]"""));
        var onlyV2 = """{"operations":["CREATE"],"apiGroups":["example.com"],"apiVersions":["v2"],"resources":["sprockets"]}""";
        await using var validating = await ConfigureAsync(false, "sprockets-v", Hook("sprockets.example.com", "sprockets", rules: onlyV2));
        await using var mutating = await ConfigureAsync(true, "sprockets-m", Hook("sprockets.example.com", "sprockets-mutate", rules: onlyV2));

        var denied = await ExpectStatusAsync(400, null, () => Client.CustomObjects.CreateClusterCustomObjectAsync(
            JsonNode.Parse("""{"apiVersion":"example.com/v1","kind":"Sprocket","metadata":{"name":"big"},"spec":{"size":9}}""")!, "example.com", "v1", "sprockets"));
        Assert.Equal("admission webhook \"sprockets.example.com\" denied the request: sprockets are small", denied.Message);

        var created = JsonNode.Parse(((JsonElement)await Client.CustomObjects.CreateClusterCustomObjectAsync(
            JsonNode.Parse("""{"apiVersion":"example.com/v1","kind":"Sprocket","metadata":{"name":"small"},"spec":{"size":2}}""")!, "example.com", "v1", "sprockets")).GetRawText())!;
        Assert.Equal("patched", created["spec"]!["name"]!.GetValue<string>());
        Assert.Null(created["spec"]!["bogus"]);
        Assert.Equal("red", created["spec"]!["color"]!.GetValue<string>());

        var request = _webhook.RequestsTo("sprockets").Last();
        Assert.Equal("""{"group":"example.com","version":"v2","kind":"Sprocket"}""", request["kind"]!.ToJsonString());
        Assert.Equal("""{"group":"example.com","version":"v1","kind":"Sprocket"}""", request["requestKind"]!.ToJsonString());
        Assert.Equal("example.com/v2", request["object"]!["apiVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Configurations_are_defaulted_and_invalid_ones_refused()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        await using (await ConfigureAsync(false, "defaults", Hook("defaults.example.com", "defaults", rules: """{"operations":["CREATE"],"apiGroups":["apps"],"apiVersions":["v1"],"resources":["deployments"]}""")))
        {
            var stored = await Client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync("defaults");
            var hook = Assert.Single(stored.Webhooks);
            Assert.Equal("Fail", hook.FailurePolicy);
            Assert.Equal("Equivalent", hook.MatchPolicy);
            Assert.Equal(10, hook.TimeoutSeconds);
            Assert.Equal("*", hook.Rules[0].Scope);
            Assert.NotNull(hook.NamespaceSelector);
        }

        var invalid = """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"bad"},
             "webhooks":[{"name":"short","clientConfig":{"url":"http://example.com/x"},"rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}],"timeoutSeconds":31}]}
            """;
        using var response = await http.PostAsync("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", new StringContent(invalid, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]!.GetValue<string>();
        Assert.Contains("webhooks[0].name: Invalid value: \"short\": should be a domain with at least three segments separated by dots", message, StringComparison.Ordinal);
        Assert.Contains("webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun", message, StringComparison.Ordinal);
        Assert.Contains("webhooks[0].admissionReviewVersions: Required value", message, StringComparison.Ordinal);
        Assert.Contains("webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds", message, StringComparison.Ordinal);
        Assert.Contains("webhooks[0].clientConfig.url: Invalid value: \"http://example.com/x\": 'https' is the only allowed URL scheme", message, StringComparison.Ordinal);
    }

    private static string ClosedPortUrl()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"https://127.0.0.1:{port}/down";
    }
}
