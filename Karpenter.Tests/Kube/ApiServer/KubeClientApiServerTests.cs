using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Tests.Kube.ApiServer;

/// <summary>The typed client and its error mapping, against real server responses.</summary>
public sealed class KubeClientApiServerTests : ApiServerTest
{
    [Fact]
    public async Task Crud_round_trips_built_in_types_in_both_scopes()
    {
        var pod = await Client.CreateAsync(Pod("p1", labels: new Dictionary<string, string> { ["app"] = "web" }));
        var node = await Client.CreateAsync(Node("n1"));

        Assert.Equal(("v1", "Pod"), (pod.ApiVersion, pod.Kind));
        Assert.False(string.IsNullOrEmpty(pod.Metadata.Uid));
        Assert.Equal("p1", (await Client.GetAsync<V1Pod>("p1", "default")).Metadata.Name);
        Assert.Equal("n1", (await Client.GetAsync<V1Node>("n1")).Metadata.Name);

        node.Metadata.Labels = new Dictionary<string, string> { ["zone"] = "a" };
        var updated = await Client.UpdateAsync(node);
        Assert.NotEqual(node.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);

        Assert.Null(await Client.DeleteAsync<V1Node>("n1"));
        Assert.Null(await Client.TryGetAsync<V1Node>("n1"));
    }

    [Fact]
    public async Task Lists_filter_by_label_and_field_selectors_and_page_through_continue_tokens()
    {
        for (var i = 0; i < 7; i++)
        {
            await Client.CreateAsync(Pod($"p{i}", labels: new Dictionary<string, string> { ["tier"] = i % 2 == 0 ? "web" : "db" }));
        }

        var web = await Client.ListAsync<V1Pod>(ListOptions.InNamespace("default").WithLabels(LabelSelector.Everything.Equal("tier", "web")));
        Assert.Equal(["p0", "p2", "p4", "p6"], web.Items.Select(p => p.Metadata.Name).Order());
        Assert.All(web.Items, p => Assert.Equal("Pod", p.Kind));

        var unscheduled = await Client.ListAsync<V1Pod>(ListOptions.InNamespace("default").WithFields(FieldSelector.OneTermEqual("spec.nodeName", "")));
        Assert.Equal(7, unscheduled.Items.Count);

        var firstPage = await Client.ListAsync<V1Pod>(new ListOptions { Namespace = "default", Limit = 3 });
        Assert.Equal(3, firstPage.Items.Count);
        Assert.NotNull(firstPage.Continue);

        var all = await Client.ListAllAsync<V1Pod>(new ListOptions { Namespace = "default" }, pageSize: 2);
        Assert.Equal(7, all.Items.Select(p => p.Metadata.Name).Distinct().Count());
        Assert.False(string.IsNullOrEmpty(all.ResourceVersion));
    }

    [Fact]
    public async Task Merge_json_and_status_patches_apply()
    {
        var node = await Client.CreateAsync(Node("n1"));

        var merged = await Client.PatchAsync<V1Node>("n1", null, KubePatch.Merge(new { metadata = new { labels = new Dictionary<string, string> { ["a"] = "1" } } }));
        Assert.Equal("1", merged.Metadata.Labels["a"]);

        var json = await Client.PatchAsync<V1Node>("n1", null, KubePatch.Json(new JsonPatchBuilder().Add("/metadata/labels/b", "2")));
        Assert.Equal(["a", "b"], json.Metadata.Labels.Keys.Order());

        var modified = KubeObjects.DeepClone(json);
        modified.Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }] };
        var status = await Client.PatchStatusFromAsync(json, modified);
        Assert.Equal("True", status.Status.Conditions.Single(c => c.Type == "Ready").Status);
        Assert.NotEqual(node.Metadata.ResourceVersion, status.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Errors_map_to_typed_exceptions()
    {
        var created = await Client.CreateAsync(Pod("p1"));

        var notFound = await Assert.ThrowsAsync<KubeNotFoundException>(() => Client.GetAsync<V1Pod>("missing", "default"));
        Assert.Equal(404, notFound.StatusCode);
        Assert.Equal("missing", notFound.ObjectName);

        var exists = await Assert.ThrowsAsync<KubeAlreadyExistsException>(() => Client.CreateAsync(Pod("p1")));
        Assert.Equal(409, exists.StatusCode);

        var stale = KubeObjects.DeepClone(created);
        stale.Metadata.Labels = new Dictionary<string, string> { ["x"] = "y" };
        await Client.UpdateAsync(KubeObjects.DeepClone(stale));
        await Assert.ThrowsAsync<KubeConflictException>(() => Client.UpdateAsync(stale));

        var optimistic = KubePatch.MergeFrom(created, stale, optimisticLock: true);
        await Assert.ThrowsAsync<KubeConflictException>(() => Client.PatchAsync<V1Pod>("p1", "default", optimistic));

        await Assert.ThrowsAsync<KubeConflictException>(() =>
            Client.DeleteAsync<V1Pod>("p1", "default", KubeClientExtensions.Preconditions(uid: "not-the-uid")));

        var invalid = await Assert.ThrowsAsync<KubeInvalidException>(() => Client.CreateAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "Not_A_Valid_Name", NamespaceProperty = "default" },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "i" }] },
        }));
        Assert.Equal(422, invalid.StatusCode);
        Assert.Contains(invalid.Causes, c => c.Field == "metadata.name");

        var badSelector = await Assert.ThrowsAsync<KubeApiException>(() =>
            Client.ListAsync<V1Pod>(new ListOptions { Namespace = "default", FieldSelector = "spec.unknownField=x" }));
        Assert.Equal((400, "BadRequest"), (badSelector.StatusCode, badSelector.Reason));
    }

    [Fact]
    public async Task Throttling_carries_retry_after()
    {
        Server.Faults.FailRequests(1, 429, verb: "get", resource: "pods", maxCount: 1);

        var throttled = await Assert.ThrowsAsync<KubeTooManyRequestsException>(() => Client.GetAsync<V1Pod>("p", "default"));

        Assert.Equal(TimeSpan.FromSeconds(1), throttled.RetryAfter);
    }

    [Fact]
    public async Task Eviction_blocked_by_a_disruption_budget_is_too_many_requests_and_allowed_eviction_deletes()
    {
        await Client.CreateAsync(Pod("guarded", labels: new Dictionary<string, string> { ["app"] = "db" }));
        await Client.CreateAsync(Pod("free"));
        var pdb = await Client.CreateAsync(new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "db", NamespaceProperty = "default" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "db" } } },
        });
        pdb.Status = new V1PodDisruptionBudgetStatus { ObservedGeneration = pdb.Metadata.Generation, DisruptionsAllowed = 0, CurrentHealthy = 1, DesiredHealthy = 1, ExpectedPods = 1 };
        await Client.UpdateStatusAsync(pdb);
        await BindAsync("guarded");

        await Assert.ThrowsAsync<KubeTooManyRequestsException>(() => Client.EvictAsync("guarded", "default"));
        await BindAsync("free");
        await Client.EvictAsync("free", "default");

        var free = await Client.TryGetAsync<V1Pod>("free", "default");
        Assert.True(free is null || free.Metadata.DeletionTimestamp is not null);
        Assert.Null((await Client.GetAsync<V1Pod>("guarded", "default")).Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task Binding_assigns_a_node_once()
    {
        await Client.CreateAsync(Pod("p"));
        await Client.CreateAsync(Node("n1"));

        await Client.BindAsync("p", "default", "n1");

        Assert.Equal("n1", (await Client.GetAsync<V1Pod>("p", "default")).Spec.NodeName);
        await Assert.ThrowsAsync<KubeConflictException>(() => Client.BindAsync("p", "default", "n2"));
    }

    private async Task BindAsync(string pod)
    {
        if (await Client.TryGetAsync<V1Node>("n-bind") is null)
        {
            await Client.CreateAsync(Node("n-bind"));
        }

        await Client.BindAsync(pod, "default", "n-bind");
        var running = await Client.GetAsync<V1Pod>(pod, "default");
        var modified = KubeObjects.DeepClone(running);
        modified.Status = new V1PodStatus
        {
            Phase = "Running",
            Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }],
        };
        await Client.PatchStatusFromAsync(running, modified);
    }
}
