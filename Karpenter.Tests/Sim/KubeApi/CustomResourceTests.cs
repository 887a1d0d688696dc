using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Karpenter.Sim.KubeApi.Tls;
using Karpenter.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using static Karpenter.Tests.Sim.KubeApi.KubeApiExpectations;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>CRDs: establishment, discovery, structural schema (pruning, defaulting, validation), subresources, versions and conversion.</summary>
public sealed class CustomResourceTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>
{
    private IKubernetes Client => api.Client;

    /// <summary>A small test CRD: widgets.example.com, cluster-scoped, v1 (storage, status subresource) and v2.</summary>
    internal static string WidgetCrd(string plural = "widgets", string kind = "Widget", string? conversion = null) => """
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"__PLURAL__.example.com"},
         "spec":{"group":"example.com","scope":"Cluster","names":{"plural":"__PLURAL__","singular":"__SINGULAR__","kind":"__KIND__","shortNames":["__SHORT__"]},
          __CONVERSION__
          "versions":[
           {"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
            "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"},{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"},{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}],
            "schema":{"openAPIV3Schema":{"type":"object","properties":{
              "spec":{"type":"object","required":["size"],"properties":{
                "size":{"type":"integer","minimum":1,"maximum":10},
                "color":{"type":"string","enum":["red","blue"],"default":"red"},
                "name":{"type":"string","pattern":"^[a-z]+$","maxLength":8},
                "tags":{"type":"array","maxItems":2,"x-kubernetes-list-type":"set","items":{"type":"string"}},
                "labels":{"type":"object","additionalProperties":{"type":"string"}},
                "free":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}},
              "status":{"type":"object","properties":{"conditions":{"type":"array","items":{"type":"object","properties":{"type":{"type":"string"},"status":{"type":"string"}}}}}}}}}},
           {"name":"v2","served":true,"storage":false,"subresources":{"status":{}},
            "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}
        """
            .Replace("__PLURAL__", plural, StringComparison.Ordinal).Replace("__KIND__", kind, StringComparison.Ordinal)
            .Replace("__SINGULAR__", plural.TrimEnd('s'), StringComparison.Ordinal).Replace("__SHORT__", plural[..2], StringComparison.Ordinal)
            .Replace("__CONVERSION__", conversion ?? "\"conversion\":{\"strategy\":\"None\"},", StringComparison.Ordinal);

    private async Task EnsureWidgetsAsync()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var response = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", new StringContent(WidgetCrd(), Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, await response.Content.ReadAsStringAsync());
    }

    private static JsonObject Widget(string name, string spec) => JsonNode.Parse($$"""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"{{name}}"},"spec":{{spec}}}""")!.AsObject();

    private async Task<JsonObject> CreateWidgetAsync(string name, string spec) =>
        JsonNode.Parse(((JsonElement)await Client.CustomObjects.CreateClusterCustomObjectAsync(Widget(name, spec), "example.com", "v1", "widgets")).GetRawText())!.AsObject();

    [Fact]
    public async Task A_created_crd_is_established_and_served_in_discovery()
    {
        await EnsureWidgetsAsync();
        var crd = await Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("widgets.example.com");

        Assert.Contains(crd.Status.Conditions, c => c.Type == "Established" && c.Status == "True");
        Assert.Equal(["v1"], crd.Status.StoredVersions);
        Assert.Contains("customresourcecleanup.apiextensions.k8s.io", crd.Metadata.Finalizers);
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        var resources = JsonNode.Parse(await http.GetStringAsync("/apis/example.com/v1"))!;
        Assert.Contains(resources["resources"]!.AsArray(), r => r!["name"]!.GetValue<string>() == "widgets/status");
        var group = JsonNode.Parse(await http.GetStringAsync("/apis/example.com"))!;
        Assert.Equal("v2", group["preferredVersion"]!["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Custom_resources_are_defaulted_pruned_and_stamped_with_generation()
    {
        await EnsureWidgetsAsync();
        var created = await CreateWidgetAsync("defaults", """{"size":3,"unknown":true,"free":{"anything":[1,2]}}""");

        Assert.Equal("red", created["spec"]!["color"]!.GetValue<string>());
        Assert.Null(created["spec"]!["unknown"]);
        Assert.Equal(2, created["spec"]!["free"]!["anything"]!.AsArray().Count);
        Assert.Equal(1, created["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task Schema_violations_are_422_with_the_field_paths()
    {
        await EnsureWidgetsAsync();
        var status = await ExpectStatusAsync(422, "Invalid", () => CreateWidgetAsync("invalid", """{"size":11,"color":"green","name":"Bad","tags":["a","a"]}"""));

        Assert.StartsWith("Widget.example.com \"invalid\" is invalid: [", status.Message, StringComparison.Ordinal);
        var fields = status.Details.Causes.Select(c => c.Field).ToList();
        Assert.Contains("spec.size", fields);
        Assert.Contains("spec.color", fields);
        Assert.Contains("spec.name", fields);
        Assert.Contains("spec.tags[1]", fields);
        Assert.Contains(status.Details.Causes, c => c.Message == "Invalid value: 11: spec.size in body should be less than or equal to 10");
        Assert.Contains(status.Details.Causes, c => c.Message == "Unsupported value: \"green\": supported values: \"red\", \"blue\"");

        var missing = await ExpectStatusAsync(422, "Invalid", () => CreateWidgetAsync("missing", "{}"));
        Assert.Contains("spec.size: Required value", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_is_isolated_generation_tracks_spec_and_put_needs_a_resource_version()
    {
        await EnsureWidgetsAsync();
        var created = await CreateWidgetAsync("isolated", """{"size":2}""");

        var withStatus = Widget("isolated", """{"size":2}""");
        withStatus["metadata"]!["resourceVersion"] = created["metadata"]!["resourceVersion"]!.DeepClone();
        withStatus["status"] = JsonNode.Parse("""{"conditions":[{"type":"Ready","status":"True"}]}""");
        var viaStatus = JsonNode.Parse(((JsonElement)await Client.CustomObjects.ReplaceClusterCustomObjectStatusAsync(withStatus, "example.com", "v1", "widgets", "isolated")).GetRawText())!;
        Assert.Equal("True", viaStatus["status"]!["conditions"]![0]!["status"]!.GetValue<string>());
        Assert.Equal(1, viaStatus["metadata"]!["generation"]!.GetValue<long>());

        var patched = JsonNode.Parse(((JsonElement)await Client.CustomObjects.PatchClusterCustomObjectAsync(
            new V1Patch("""{"spec":{"size":5},"status":null}""", V1Patch.PatchType.MergePatch), "example.com", "v1", "widgets", "isolated")).GetRawText())!;
        Assert.Equal(2, patched["metadata"]!["generation"]!.GetValue<long>());
        Assert.NotNull(patched["status"]);

        var noVersion = Widget("isolated", """{"size":6}""");
        var status = await ExpectStatusAsync(422, "Invalid", () => Client.CustomObjects.ReplaceClusterCustomObjectAsync(noVersion, "example.com", "v1", "widgets", "isolated"));
        Assert.Contains("metadata.resourceVersion: Invalid value: 0: must be specified for an update", status.Message, StringComparison.Ordinal);

        await ExpectStatusAsync(415, "UnsupportedMediaType", () => Client.CustomObjects.PatchClusterCustomObjectAsync(
            new V1Patch("""{"spec":{"size":4}}""", V1Patch.PatchType.StrategicMergePatch), "example.com", "v1", "widgets", "isolated"));
    }

    [Fact]
    public async Task Printer_columns_render_as_a_table()
    {
        await EnsureWidgetsAsync();
        await CreateWidgetAsync("tabled", """{"size":7}""");
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apis/example.com/v1/widgets/tabled");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        using var response = await http.SendAsync(request);
        var table = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal("Table", table["kind"]!.GetValue<string>());
        Assert.Equal(["Name", "Size", "Ready", "Age"], table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        var cells = table["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("tabled", cells[0]!.GetValue<string>());
        Assert.Equal(7, cells[1]!.GetValue<long>());
    }

    [Fact]
    public async Task Other_versions_are_converted_from_the_storage_version()
    {
        await EnsureWidgetsAsync();
        await CreateWidgetAsync("versioned", """{"size":1}""");

        var v2 = JsonNode.Parse(((JsonElement)await Client.CustomObjects.GetClusterCustomObjectAsync("example.com", "v2", "widgets", "versioned")).GetRawText())!;

        Assert.Equal("example.com/v2", v2["apiVersion"]!.GetValue<string>());
        Assert.Equal(1, v2["spec"]!["size"]!.GetValue<long>());
    }

    [Fact]
    public async Task Conversion_webhooks_are_called_over_tls_trusting_the_ca_bundle()
    {
        using var authority = CertificateAuthority.Create();
        await using var webhook = await StartConversionWebhookAsync(authority);
        var conversion = """
            "conversion":{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v1"],"clientConfig":{"url":"__URL__convert","caBundle":"__CA__"}}},
            """
            .Replace("__URL__", webhook.Url, StringComparison.Ordinal).Replace("__CA__", authority.CaBundle, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var created = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", new StringContent(WidgetCrd("gadgets", "Gadget", conversion), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // Written at v2 (the webhook renames spec.count to spec.size), stored at v1.
        await Client.CustomObjects.CreateClusterCustomObjectAsync(
            JsonNode.Parse("""{"apiVersion":"example.com/v2","kind":"Gadget","metadata":{"name":"g"},"spec":{"count":4}}""")!, "example.com", "v2", "gadgets");
        var stored = JsonNode.Parse(((JsonElement)await Client.CustomObjects.GetClusterCustomObjectAsync("example.com", "v1", "gadgets", "g")).GetRawText())!;
        Assert.Equal(4, stored["spec"]!["size"]!.GetValue<long>());
        Assert.True(webhook.Calls > 0);

        // A webhook whose certificate the bundle does not vouch for fails the request with 500.
        using var other = CertificateAuthority.Create("other");
        var untrusted = conversion.Replace(authority.CaBundle, other.CaBundle, StringComparison.Ordinal);
        using var bad = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", new StringContent(WidgetCrd("doohickeys", "Doohickey", untrusted), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, bad.StatusCode);
        var status = await ExpectStatusAsync(500, "InternalError", () => Client.CustomObjects.CreateClusterCustomObjectAsync(
            JsonNode.Parse("""{"apiVersion":"example.com/v2","kind":"Doohickey","metadata":{"name":"d"},"spec":{"count":1}}""")!, "example.com", "v2", "doohickeys"));
        Assert.Contains("conversion webhook for example.com/v2, Kind=Doohickey failed", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_crd_deletes_its_objects_and_stops_serving_them()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var created = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", new StringContent(WidgetCrd("gizmos", "Gizmo"), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await Client.CustomObjects.CreateClusterCustomObjectAsync(JsonNode.Parse("""{"apiVersion":"example.com/v1","kind":"Gizmo","metadata":{"name":"z"},"spec":{"size":1}}""")!, "example.com", "v1", "gizmos");

        await Client.ApiextensionsV1.DeleteCustomResourceDefinitionAsync("gizmos.example.com");

        for (var i = 0; i < 500 && (await http.GetAsync("/apis/example.com/v1/gizmos")).StatusCode != HttpStatusCode.NotFound; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/apis/example.com/v1/gizmos")).StatusCode);
        Assert.Equal(0, api.Server.Count("customresourcedefinitions") - (await Client.ApiextensionsV1.ListCustomResourceDefinitionAsync()).Items.Count);
    }

    [Fact]
    public async Task Cel_validation_rules_reject_with_their_messages_and_transition_rules_guard_updates()
    {
        const string crd = """
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"ranges.example.com"},
             "spec":{"group":"example.com","scope":"Cluster","names":{"plural":"ranges","singular":"range","kind":"Range"},
              "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{
                "spec":{"type":"object",
                  "x-kubernetes-validations":[
                    {"rule":"self.min <= self.max","message":"min must not exceed max"},
                    {"rule":"has(self.role) != has(self.profile)","message":"exactly one of role and profile"}],
                  "properties":{
                    "min":{"type":"integer"},"max":{"type":"integer"},"role":{"type":"string"},"profile":{"type":"string"},
                    "owner":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf","message":"owner is immutable"}]},
                    "labels":{"type":"array","items":{"type":"string"},"x-kubernetes-validations":[
                      {"rule":"self.all(x, !x.find('^([^/]+)').endsWith('karpenter.sh'))","message":"label domain karpenter.sh is restricted"}]}}}}}}}]}}
            """;
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var created = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", new StringContent(crd, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        JsonNode Range(string name, string spec) => JsonNode.Parse($$"""{"apiVersion":"example.com/v1","kind":"Range","metadata":{"name":"{{name}}"},"spec":{{spec}}}""")!;

        await Client.CustomObjects.CreateClusterCustomObjectAsync(Range("ok", """{"min":1,"max":2,"role":"r","owner":"a","labels":["example.com/x"]}"""), "example.com", "v1", "ranges");
        // has() tests presence, as in Kubernetes: an empty string (or list, or map) is present, a null is absent.
        await Client.CustomObjects.CreateClusterCustomObjectAsync(Range("empty-role", """{"min":1,"max":2,"role":"","profile":null}"""), "example.com", "v1", "ranges");

        var invalid = await ExpectStatusAsync(422, "Invalid", () => Client.CustomObjects.CreateClusterCustomObjectAsync(
            Range("bad", """{"min":3,"max":2,"role":"r","profile":"p","labels":["karpenter.sh/nodepool"]}"""), "example.com", "v1", "ranges"));
        Assert.Contains("spec: Invalid value: \"object\": min must not exceed max", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("spec: Invalid value: \"object\": exactly one of role and profile", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("spec.labels: Invalid value: \"array\": label domain karpenter.sh is restricted", invalid.Message, StringComparison.Ordinal);

        var immutable = await ExpectStatusAsync(422, "Invalid", () => Client.CustomObjects.PatchClusterCustomObjectAsync(
            new V1Patch("""{"spec":{"owner":"b"}}""", V1Patch.PatchType.MergePatch), "example.com", "v1", "ranges", "ok"));
        Assert.Contains("spec.owner: Invalid value: \"string\": owner is immutable", immutable.Message, StringComparison.Ordinal);
        await Client.CustomObjects.PatchClusterCustomObjectAsync(new V1Patch("""{"spec":{"max":5}}""", V1Patch.PatchType.MergePatch), "example.com", "v1", "ranges", "ok");
    }

    [Fact]
    public async Task A_messageExpression_phrases_the_failure_and_falls_back_to_message_when_it_cannot()
    {
        const string crd = """
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"roles.example.com"},
             "spec":{"group":"example.com","scope":"Cluster","names":{"plural":"roles","singular":"role","kind":"Role"},
              "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{
                "spec":{"type":"object","properties":{
                  "name":{"type":"string","x-kubernetes-validations":[
                    {"rule":"!self.startsWith('x')","message":"static","messageExpression":"'role ' + self + ' may not start with x'"}]},
                  "blank":{"type":"string","x-kubernetes-validations":[
                    {"rule":"self != 'no'","message":"blank fallback","messageExpression":"'  '"}]},
                  "broken":{"type":"string","x-kubernetes-validations":[
                    {"rule":"self != 'no'","messageExpression":"self.nothing + 'x'"}]}}}}}}}]}}
            """;
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var created = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", new StringContent(crd, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var invalid = await ExpectStatusAsync(422, "Invalid", () => Client.CustomObjects.CreateClusterCustomObjectAsync(
            JsonNode.Parse("""{"apiVersion":"example.com/v1","kind":"Role","metadata":{"name":"r"},"spec":{"name":"xray","blank":"no","broken":"no"}}""")!, "example.com", "v1", "roles"));

        Assert.Contains("spec.name: Invalid value: \"string\": role xray may not start with x", invalid.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("static", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("spec.blank: Invalid value: \"string\": blank fallback", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("spec.broken: Invalid value: \"string\": failed rule: self != 'no'", invalid.Message, StringComparison.Ordinal);
    }

    private sealed class ConversionWebhook(WebApplication app, string url) : IAsyncDisposable
    {
        private int _calls;

        public string Url { get; } = url;

        public int Calls => Volatile.Read(ref _calls);

        public void Called() => Interlocked.Increment(ref _calls);

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>A conversion webhook between v1 (spec.size) and v2 (spec.count), served over TLS by Kestrel.</summary>
    private static async Task<ConversionWebhook> StartConversionWebhookAsync(CertificateAuthority authority)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(authority.IssueLoopbackCertificate())));
        var app = builder.Build();
        ConversionWebhook? hook = null;
        app.Run(async context =>
        {
            hook!.Called();
            var review = (await JsonNode.ParseAsync(context.Request.Body))!;
            var request = review["request"]!;
            var desired = request["desiredAPIVersion"]!.GetValue<string>();
            var converted = new JsonArray();
            foreach (var obj in request["objects"]!.AsArray())
            {
                var copy = obj!.DeepClone().AsObject();
                var spec = copy["spec"]!.AsObject();
                if (desired.EndsWith("/v1", StringComparison.Ordinal) && spec["count"] is { } count)
                {
                    spec.Remove("count");
                    spec["size"] = count.DeepClone();
                }
                else if (desired.EndsWith("/v2", StringComparison.Ordinal) && spec["size"] is { } size)
                {
                    spec.Remove("size");
                    spec["count"] = size.DeepClone();
                }

                copy["apiVersion"] = desired;
                converted.Add(copy);
            }

            var response = new JsonObject
            {
                ["apiVersion"] = "apiextensions.k8s.io/v1",
                ["kind"] = "ConversionReview",
                ["response"] = new JsonObject { ["uid"] = request["uid"]!.DeepClone(), ["convertedObjects"] = converted, ["result"] = new JsonObject { ["status"] = "Success" } },
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.ToJsonString());
        });
        await app.StartAsync();
        var address = app.Urls.First().Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        hook = new ConversionWebhook(app, address.TrimEnd('/') + "/");
        return hook;
    }
}
