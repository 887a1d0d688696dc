using System.Net.Http.Headers;
using System.Text;
using k8s;
using k8s.Models;
using Karpenter.Tests.Support;
using static Karpenter.Tests.Sim.KubeApi.KubeApiExpectations;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>
/// The <c>scale</c> subresource of Deployments and ReplicaSets, as kube-apiserver's ScaleREST serves it: an
/// autoscaling/v1 Scale that reads and writes the parent's replicas under the parent's resourceVersion.
/// </summary>
public sealed class ScaleSubresourceTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>
{
    private IKubernetes Client => api.Client;

    internal static V1Deployment Deployment(string name, int replicas) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector
            {
                MatchLabels = new Dictionary<string, string> { ["tier"] = "web", ["app"] = name },
                MatchExpressions = [new V1LabelSelectorRequirement { Key = "zone", OperatorProperty = "In", Values = ["b", "a"] }],
            },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["tier"] = "web", ["app"] = name, ["zone"] = "a" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "registry.k8s.io/pause:3.10" }] },
            },
        },
    };

    [Fact]
    public async Task Get_maps_the_deployment_to_an_autoscaling_v1_scale_with_its_identity_and_selector_string()
    {
        var ns = await api.CreateNamespaceAsync("scale");
        var deployment = await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 3), ns);

        var scale = await Client.AppsV1.ReadNamespacedDeploymentScaleAsync("web", ns);

        Assert.Equal("autoscaling/v1", scale.ApiVersion);
        Assert.Equal("Scale", scale.Kind);
        Assert.Equal("web", scale.Metadata.Name);
        Assert.Equal(ns, scale.Metadata.NamespaceProperty);
        Assert.Equal(deployment.Metadata.Uid, scale.Metadata.Uid);
        Assert.Equal(deployment.Metadata.ResourceVersion, scale.Metadata.ResourceVersion);
        Assert.Equal(3, scale.Spec.Replicas);
        Assert.Equal(0, scale.Status.Replicas);
        Assert.Equal("app=web,tier=web,zone in (a,b)", scale.Status.Selector);
    }

    [Fact]
    public async Task Put_sets_the_deployment_replicas_bumps_its_generation_and_its_watchers_see_it()
    {
        var ns = await api.CreateNamespaceAsync("scale");
        var created = await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 3), ns);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watchClient = api.NewClient();
        var watched = Task.Run(async () =>
        {
            await foreach (var (type, d) in watchClient.AppsV1.WatchListNamespacedDeploymentAsync(ns, resourceVersion: created.Metadata.ResourceVersion, cancellationToken: cts.Token))
            {
                if (type == WatchEventType.Modified)
                {
                    return d;
                }
            }

            return null;
        });

        var scale = await Client.AppsV1.ReadNamespacedDeploymentScaleAsync("web", ns);
        scale.Spec.Replicas = 7;
        var updated = await Client.AppsV1.ReplaceNamespacedDeploymentScaleAsync(scale, "web", ns);

        Assert.Equal(7, updated.Spec.Replicas);
        Assert.True(Rv(updated) > Rv(created));
        var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns);
        Assert.Equal(7, deployment.Spec.Replicas);
        Assert.Equal(created.Metadata.Generation + 1, deployment.Metadata.Generation);
        Assert.Equal(updated.Metadata.ResourceVersion, deployment.Metadata.ResourceVersion);
        var modified = await watched;
        Assert.NotNull(modified);
        Assert.Equal(7, modified.Spec.Replicas);
    }

    [Fact]
    public async Task Put_with_a_stale_resource_version_conflicts_on_the_parent()
    {
        var ns = await api.CreateNamespaceAsync("scale");
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 3), ns);
        var stale = await Client.AppsV1.ReadNamespacedDeploymentScaleAsync("web", ns);
        stale.Spec.Replicas = 4;
        await Client.AppsV1.ReplaceNamespacedDeploymentScaleAsync(stale, "web", ns);

        stale.Spec.Replicas = 5;
        var status = await ExpectStatusAsync(409, "Conflict", () => Client.AppsV1.ReplaceNamespacedDeploymentScaleAsync(stale, "web", ns));

        Assert.Equal("Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again", status.Message);
        Assert.Equal(4, (await Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns)).Spec.Replicas);
    }

    [Fact]
    public async Task Patch_accepts_merge_strategic_and_json_patches_of_the_scale()
    {
        var ns = await api.CreateNamespaceAsync("scale");
        var created = await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 3), ns);

        var merged = await Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":5}}", V1Patch.PatchType.MergePatch), "web", ns);
        Assert.Equal(5, merged.Spec.Replicas);
        var strategic = await Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":6}}", V1Patch.PatchType.StrategicMergePatch), "web", ns);
        Assert.Equal(6, strategic.Spec.Replicas);
        var json = await Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":0}]", V1Patch.PatchType.JsonPatch), "web", ns);
        Assert.Equal(0, json.Spec.Replicas);

        var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns);
        Assert.Equal(0, deployment.Spec.Replicas);
        Assert.Equal(created.Metadata.Generation + 3, deployment.Metadata.Generation);
    }

    [Fact]
    public async Task A_patch_that_changes_nothing_writes_nothing()
    {
        var ns = await api.CreateNamespaceAsync("scale");
        var created = await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 3), ns);

        var same = await Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":3}}", V1Patch.PatchType.MergePatch), "web", ns);

        Assert.Equal(created.Metadata.ResourceVersion, same.Metadata.ResourceVersion);
        Assert.Equal(created.Metadata.Generation, (await Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns)).Metadata.Generation);
    }

    [Fact]
    public async Task A_missing_parent_answers_not_found_on_the_scale_resource()
    {
        var ns = await api.CreateNamespaceAsync("scale");

        var get = await ExpectStatusAsync(404, "NotFound", () => Client.AppsV1.ReadNamespacedDeploymentScaleAsync("ghost", ns));
        var patch = await ExpectStatusAsync(404, "NotFound", () => Client.AppsV1.PatchNamespacedReplicaSetScaleAsync(new V1Patch("{\"spec\":{\"replicas\":2}}", V1Patch.PatchType.MergePatch), "ghost", ns));

        Assert.Equal("deployments/scale.apps \"ghost\" not found", get.Message);
        Assert.Equal("deployments/scale", get.Details.Kind);
        Assert.Equal("apps", get.Details.Group);
        Assert.Equal("replicasets/scale.apps \"ghost\" not found", patch.Message);
    }

    [Fact]
    public async Task Bad_bodies_are_refused_with_the_real_errors()
    {
        var ns = await api.CreateNamespaceAsync("scale");
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 3), ns);

        var negative = await ExpectStatusAsync(422, "Invalid", () => Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":-1}}", V1Patch.PatchType.MergePatch), "web", ns));
        Assert.Equal("Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0", negative.Message);

        var wrongType = await ExpectStatusAsync(400, "BadRequest", () => Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":\"many\"}}", V1Patch.PatchType.MergePatch), "web", ns));
        Assert.StartsWith("Scale in version \"v1\" cannot be handled as a Scale: ", wrongType.Message, StringComparison.Ordinal);

        var wrongName = new V1Scale { ApiVersion = "autoscaling/v1", Kind = "Scale", Metadata = new V1ObjectMeta { Name = "other" }, Spec = new V1ScaleSpec { Replicas = 2 } };
        var mismatch = await ExpectStatusAsync(400, "BadRequest", () => Client.AppsV1.ReplaceNamespacedDeploymentScaleAsync(wrongName, "web", ns));
        Assert.Equal("the name of the object (other) does not match the name on the URL (web)", mismatch.Message);

        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var garbage = new StringContent("{not json", Encoding.UTF8);
        garbage.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PutAsync(new Uri($"apis/apps/v1/namespaces/{ns}/deployments/web/scale", UriKind.Relative), garbage);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);

        Assert.Equal(3, (await Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns)).Spec.Replicas);
    }

    [Fact]
    public async Task ReplicaSets_scale_too_and_daemonsets_have_no_scale()
    {
        var ns = await api.CreateNamespaceAsync("scale");
        var template = Deployment("rs", 2).Spec;
        await Client.AppsV1.CreateNamespacedReplicaSetAsync(new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta { Name = "rs" },
            Spec = new V1ReplicaSetSpec { Replicas = 2, Selector = template.Selector, Template = template.Template },
        }, ns);

        var scaled = await Client.AppsV1.PatchNamespacedReplicaSetScaleAsync(new V1Patch("{\"spec\":{\"replicas\":4}}", V1Patch.PatchType.MergePatch), "rs", ns);

        Assert.Equal(4, scaled.Spec.Replicas);
        Assert.Equal(4, (await Client.AppsV1.ReadNamespacedReplicaSetAsync("rs", ns)).Spec.Replicas);
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var response = await http.GetAsync(new Uri($"apis/apps/v1/namespaces/{ns}/daemonsets/x/scale", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Discovery_lists_the_scale_subresources_as_autoscaling_v1_scale()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        var list = KubernetesJson.Deserialize<V1APIResourceList>(await http.GetStringAsync(new Uri("apis/apps/v1", UriKind.Relative)));

        foreach (var name in new[] { "deployments/scale", "replicasets/scale" })
        {
            var scale = Assert.Single(list.Resources, r => r.Name == name);
            Assert.Equal("Scale", scale.Kind);
            Assert.Equal("autoscaling", scale.Group);
            Assert.Equal("v1", scale.Version);
            Assert.True(scale.Namespaced);
            Assert.Equal(["get", "patch", "update"], scale.Verbs);
        }

        Assert.DoesNotContain(list.Resources, r => r.Name == "daemonsets/scale");
    }
}
