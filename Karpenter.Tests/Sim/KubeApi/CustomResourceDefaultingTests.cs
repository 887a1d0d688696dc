using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Karpenter.Tests.Support;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>
/// Defaulting on read: objects stored before a CRD gained a default are served with it (GET, LIST, WATCH,
/// tables), as apiextensions-apiserver's storage decoder does, without being written back.
/// </summary>
public sealed class CustomResourceDefaultingTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>
{
    private const string Crd = """
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"gizmos.example.com"},
         "spec":{"group":"example.com","scope":"Cluster","names":{"plural":"gizmos","singular":"gizmo","kind":"Gizmo"},
          "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
            "schema":{"openAPIV3Schema":{"type":"object","properties":{
              "spec":{"type":"object","properties":{"size":{"type":"integer"}__SHAPE__}},
              "status":{"type":"object","properties":{"count":{"type":"integer"__COUNT__}}}}}}}]}}
        """;

    private IKubernetes Client => api.Client;

    private static string CrdWith(bool defaults) => Crd
        .Replace("__SHAPE__", defaults ? ""","shape":{"type":"string","default":"round"}""" : "", StringComparison.Ordinal)
        .Replace("__COUNT__", defaults ? ""","default":0""" : "", StringComparison.Ordinal);

    private static async Task<JsonObject> GetAsync(HttpClient http, string path) => JsonNode.Parse(await http.GetStringAsync(path))!.AsObject();

    [Fact]
    public async Task Objects_stored_before_a_default_existed_are_served_with_it_but_not_rewritten()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using (var created = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", new StringContent(CrdWith(defaults: false), Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var stored = JsonNode.Parse(((JsonElement)await Client.CustomObjects.CreateClusterCustomObjectAsync(
            JsonNode.Parse("""{"apiVersion":"example.com/v1","kind":"Gizmo","metadata":{"name":"old"},"spec":{"size":1}}""")!, "example.com", "v1", "gizmos")).GetRawText())!;
        Assert.Null(stored["spec"]!["shape"]);
        var rv = stored["metadata"]!["resourceVersion"]!.GetValue<string>();

        var crd = await GetAsync(http, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.example.com");
        var updatedCrd = JsonNode.Parse(CrdWith(defaults: true))!.AsObject();
        updatedCrd["metadata"] = crd["metadata"]!.DeepClone();
        using (var updated = await http.PutAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.example.com", new StringContent(updatedCrd.ToJsonString(), Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        }

        var got = await GetAsync(http, "/apis/example.com/v1/gizmos/old");
        Assert.Equal("round", got["spec"]!["shape"]!.GetValue<string>());
        Assert.Null(got["status"]);
        Assert.Equal(rv, got["metadata"]!["resourceVersion"]!.GetValue<string>());

        var list = await GetAsync(http, "/apis/example.com/v1/gizmos");
        Assert.Equal("round", list["items"]![0]!["spec"]!["shape"]!.GetValue<string>());

        using var watch = await http.GetAsync("/apis/example.com/v1/gizmos?watch=true&timeoutSeconds=1", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await watch.Content.ReadAsStreamAsync());
        var added = JsonNode.Parse((await reader.ReadLineAsync())!)!;
        Assert.Equal("ADDED", added["type"]!.GetValue<string>());
        Assert.Equal("round", added["object"]!["spec"]!["shape"]!.GetValue<string>());

        // Serving the default wrote nothing back.
        Assert.Equal(rv, (await GetAsync(http, "/apis/example.com/v1/gizmos/old"))["metadata"]!["resourceVersion"]!.GetValue<string>());

        // Once a status exists, its defaults appear too.
        using var status = await http.PatchAsync("/apis/example.com/v1/gizmos/old/status", new StringContent("""{"status":{}}""", Encoding.UTF8, "application/merge-patch+json"));
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal(0, (await GetAsync(http, "/apis/example.com/v1/gizmos/old"))["status"]!["count"]!.GetValue<int>());
    }
}
