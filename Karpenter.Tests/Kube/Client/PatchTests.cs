using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Tests.Kube.Client;

public sealed class PatchTests
{
    [Fact]
    public void MergeFrom_sends_only_what_changed_and_nulls_what_was_removed()
    {
        var original = Pod(labels: new() { ["a"] = "1", ["b"] = "2" }, finalizers: ["x"]);
        var modified = Pod(labels: new() { ["a"] = "1", ["c"] = "3" }, finalizers: ["x", "y"]);

        var patch = KubePatch.MergeFrom(original, modified);

        Assert.Equal(KubePatchType.Merge, patch.Type);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"metadata":{"labels":{"c":"3","b":null},"finalizers":["x","y"]}}"""),
            JsonNode.Parse(patch.Body)));
    }

    [Fact]
    public void MergeFrom_with_optimistic_lock_carries_the_original_resource_version()
    {
        var original = Pod(finalizers: ["x"]);
        var modified = Pod(finalizers: []);

        var patch = KubePatch.MergeFrom(original, modified, optimisticLock: true);

        Assert.Equal("42", JsonNode.Parse(patch.Body)!["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.True(KubePatch.MergeFrom(original, Pod(finalizers: ["x"])).IsEmpty);
    }

    [Fact]
    public void Json_patches_escape_pointer_segments()
    {
        var patch = KubePatch.Json(new JsonPatchBuilder()
            .Test("/metadata/finalizers/0", "karpenter.sh/termination")
            .Remove("/metadata/finalizers/0")
            .Add($"/metadata/labels/{JsonPatchBuilder.EscapeSegment("karpenter.sh/initialized")}", "true"));

        Assert.Equal("application/json-patch+json", patch.ContentType);
        Assert.Equal(
            """[{"op":"test","path":"/metadata/finalizers/0","value":"karpenter.sh/termination"},{"op":"remove","path":"/metadata/finalizers/0"},{"op":"add","path":"/metadata/labels/karpenter.sh~1initialized","value":"true"}]""",
            patch.Body);
    }

    [Fact]
    public void Resource_paths_follow_the_api_layout()
    {
        Assert.Equal("api/v1/namespaces/ns/pods/p/eviction", KubeResource.Of<V1Pod>().Path("ns", "p", "eviction"));
        Assert.Equal("api/v1/nodes/n1", KubeResource.Of<V1Node>().Path(null, "n1"));
        Assert.Equal("apis/coordination.k8s.io/v1/namespaces/kube-system/leases", KubeResource.Of<V1Lease>().Path("kube-system"));
        Assert.Equal("apis/events.k8s.io/v1/events", KubeResource.Of<Eventsv1Event>().Path(null));
        Assert.Equal("pods", KubeResource.Of<V1Pod>().QualifiedResource);
        var notAnEntity = typeof(PatchTests);
        Assert.Throws<InvalidOperationException>(() => KubeResource.Of(notAnEntity));
    }

    [Fact]
    public void Object_keys_print_and_parse()
    {
        Assert.Equal("ns/p", new ObjectKey("ns", "p").ToString());
        Assert.Equal("n1", ObjectKey.Cluster("n1").ToString());
        Assert.Equal(new ObjectKey("ns", "p"), ObjectKey.Parse("ns/p"));
        Assert.Equal(ObjectKey.Cluster("n1"), ObjectKey.Of(new V1Node { Metadata = new V1ObjectMeta { Name = "n1" } }));
    }

    private static V1Pod Pod(Dictionary<string, string>? labels = null, List<string>? finalizers = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns", ResourceVersion = "42", Labels = labels, Finalizers = finalizers },
    };
}
