using System.Net.Http.Headers;
using System.Text;
using k8s;
using k8s.Models;
using Karpenter.Tests.Support;
using static Karpenter.Tests.Sim.KubeApi.KubeApiExpectations;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>Create, read, update, patch and delete through the real KubernetesClient, with the real error shapes.</summary>
public sealed class ObjectLifecycleTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>
{
    private IKubernetes Client => api.Client;

    [Fact]
    public async Task Create_stamps_uid_creation_timestamp_and_a_global_monotonic_resource_version()
    {
        var ns = await api.CreateNamespaceAsync();
        var first = await Client.CoreV1.CreateNamespacedPodAsync(Pod("a"), ns);
        var node = await Client.CoreV1.CreateNodeAsync(Node("rv-node"));
        var second = await Client.CoreV1.CreateNamespacedPodAsync(Pod("b"), ns);

        Assert.False(string.IsNullOrEmpty(first.Metadata.Uid));
        Assert.Equal(api.Clock.GetUtcNow().UtcDateTime.AddTicks(-(api.Clock.GetUtcNow().UtcDateTime.Ticks % TimeSpan.TicksPerSecond)), first.Metadata.CreationTimestamp);
        Assert.True(Rv(first) < Rv(node) && Rv(node) < Rv(second), "one counter across resources, strictly increasing");
        Assert.Equal("Pending", first.Status.Phase);
        Assert.Equal("BestEffort", first.Status.QosClass);
    }

    [Fact]
    public async Task Duplicate_create_is_409_AlreadyExists_naming_the_resource()
    {
        var ns = await api.CreateNamespaceAsync();
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("dup"), ns);

        var status = await ExpectStatusAsync(409, "AlreadyExists", () => Client.CoreV1.CreateNamespacedPodAsync(Pod("dup"), ns));

        Assert.Equal("pods \"dup\" already exists", status.Message);
        Assert.Equal("pods", status.Details.Kind);
        Assert.Equal("dup", status.Details.Name);
    }

    [Fact]
    public async Task Create_with_generate_name_appends_five_random_characters()
    {
        var ns = await api.CreateNamespaceAsync();
        var pod = Pod(null!, ns);
        pod.Metadata.GenerateName = "web-";

        var created = await Client.CoreV1.CreateNamespacedPodAsync(pod, ns);

        Assert.Matches("^web-[bcdfghjklmnpqrstvwxz2456789]{5}$", created.Metadata.Name);
    }

    [Fact]
    public async Task Create_without_name_or_generate_name_is_422_with_the_field()
    {
        var ns = await api.CreateNamespaceAsync();
        var status = await ExpectStatusAsync(422, "Invalid", () => Client.CoreV1.CreateNamespacedPodAsync(Pod(null!), ns));

        Assert.Contains("metadata.name: Required value: name or generateName is required", status.Message, StringComparison.Ordinal);
        Assert.Equal("metadata.name", status.Details.Causes.Single().Field);
    }

    [Fact]
    public async Task Names_that_are_not_dns_subdomains_are_422()
    {
        var status = await ExpectStatusAsync(422, "Invalid", () => Client.CoreV1.CreateNodeAsync(Node("Bad_Name")));

        Assert.StartsWith("Node \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain", status.Message, StringComparison.Ordinal);
        Assert.Equal("FieldValueInvalid", status.Details.Causes[0].Reason);
    }

    [Fact]
    public async Task Create_in_a_missing_namespace_is_404_for_the_namespace()
    {
        var status = await ExpectStatusAsync(404, "NotFound", () => Client.CoreV1.CreateNamespacedPodAsync(Pod("p"), "nowhere"));

        Assert.Equal("namespaces \"nowhere\" not found", status.Message);
    }

    [Fact]
    public async Task Update_with_a_stale_resource_version_is_409_Conflict_with_the_real_message()
    {
        var node = await Client.CoreV1.CreateNodeAsync(Node("conflict-node"));
        node.Metadata.Labels = new Dictionary<string, string> { ["a"] = "1" };
        await Client.CoreV1.ReplaceNodeAsync(node, node.Metadata.Name);
        node.Metadata.Labels["a"] = "2";

        var status = await ExpectStatusAsync(409, "Conflict", () => Client.CoreV1.ReplaceNodeAsync(node, node.Metadata.Name));

        Assert.Equal("Operation cannot be fulfilled on nodes \"conflict-node\": the object has been modified; please apply your changes to the latest version and try again", status.Message);
    }

    [Fact]
    public async Task A_no_op_update_keeps_the_resource_version()
    {
        var node = await Client.CoreV1.CreateNodeAsync(Node("noop-node"));

        var again = await Client.CoreV1.ReplaceNodeAsync(node, node.Metadata.Name);
        var patched = await Client.CoreV1.PatchNodeAsync(new V1Patch("{\"metadata\":{\"labels\":null}}", V1Patch.PatchType.MergePatch), node.Metadata.Name);

        Assert.Equal(node.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
        Assert.Equal(node.Metadata.ResourceVersion, patched.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Microsecond_timestamps_from_the_client_are_stored_as_whole_seconds()
    {
        var node = Node("time-node");
        node.Status = new V1NodeStatus
        {
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", LastTransitionTime = new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc) }],
        };

        var created = await Client.CoreV1.CreateNodeAsync(node);
        var again = await Client.CoreV1.ReplaceNodeStatusAsync(created, created.Metadata.Name);

        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), created.Status.Conditions[0].LastTransitionTime);
        Assert.Equal(created.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Node_create_gets_the_not_ready_taint_and_provider_id_is_set_once()
    {
        var node = await Client.CoreV1.CreateNodeAsync(Node("taint-node"));
        Assert.Contains(node.Spec.Taints, t => t.Key == "node.kubernetes.io/not-ready" && t.Effect == "NoSchedule");

        var set = await Client.CoreV1.PatchNodeAsync(new V1Patch("{\"spec\":{\"providerID\":\"aws:///us-east-1a/i-1\"}}", V1Patch.PatchType.MergePatch), "taint-node");
        Assert.Equal("aws:///us-east-1a/i-1", set.Spec.ProviderID);

        var status = await ExpectStatusAsync(422, "Invalid", () =>
            Client.CoreV1.PatchNodeAsync(new V1Patch("{\"spec\":{\"providerID\":\"aws:///us-east-1a/i-2\"}}", V1Patch.PatchType.MergePatch), "taint-node"));
        Assert.Contains("spec.providerID: Forbidden: node updates may not change providerID except from \"\" to valid", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_subresource_is_isolated_both_ways()
    {
        var node = await Client.CoreV1.CreateNodeAsync(Node("status-node"));

        node.Status = new V1NodeStatus { Phase = "Running" };
        node.Spec.Unschedulable = true;
        var viaMain = await Client.CoreV1.ReplaceNodeAsync(node, node.Metadata.Name);
        Assert.Null(viaMain.Status?.Phase);
        Assert.True(viaMain.Spec.Unschedulable);

        viaMain.Status = new V1NodeStatus { Phase = "Running" };
        viaMain.Spec.Unschedulable = false;
        viaMain.Metadata.Labels = new Dictionary<string, string> { ["ignored"] = "yes" };
        var viaStatus = await Client.CoreV1.ReplaceNodeStatusAsync(viaMain, node.Metadata.Name);
        Assert.Equal("Running", viaStatus.Status.Phase);
        Assert.True(viaStatus.Spec.Unschedulable);
        Assert.Null(viaStatus.Metadata.Labels);
    }

    [Fact]
    public async Task Generation_increments_on_spec_changes_only()
    {
        var ns = await api.CreateNamespaceAsync();
        var pdb = await Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "gen" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "x" } } },
        }, ns);
        Assert.Equal(1, pdb.Metadata.Generation);

        var labelled = await Client.PolicyV1.PatchNamespacedPodDisruptionBudgetAsync(new V1Patch("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", V1Patch.PatchType.MergePatch), "gen", ns);
        Assert.Equal(1, labelled.Metadata.Generation);

        var changed = await Client.PolicyV1.PatchNamespacedPodDisruptionBudgetAsync(new V1Patch("{\"spec\":{\"minAvailable\":2}}", V1Patch.PatchType.MergePatch), "gen", ns);
        Assert.Equal(2, changed.Metadata.Generation);
    }

    [Fact]
    public async Task Json_patch_and_strategic_merge_patch_apply_to_built_ins()
    {
        var ns = await api.CreateNamespaceAsync();
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("patched", labels: new Dictionary<string, string> { ["a"] = "1" }), ns);

        var jsonPatched = await Client.CoreV1.PatchNamespacedPodAsync(
            new V1Patch("[{\"op\":\"replace\",\"path\":\"/metadata/labels/a\",\"value\":\"2\"},{\"op\":\"add\",\"path\":\"/metadata/finalizers\",\"value\":[\"example.com/x\"]}]", V1Patch.PatchType.JsonPatch), "patched", ns);
        Assert.Equal("2", jsonPatched.Metadata.Labels["a"]);

        var smp = await Client.CoreV1.PatchNamespacedPodAsync(
            new V1Patch("{\"metadata\":{\"finalizers\":[\"example.com/y\"]},\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"registry.k8s.io/pause:3.9\"}]}}", V1Patch.PatchType.StrategicMergePatch), "patched", ns);
        Assert.Equal(["example.com/x", "example.com/y"], smp.Metadata.Finalizers);
        Assert.Equal("registry.k8s.io/pause:3.9", smp.Spec.Containers.Single().Image);

        var removed = await Client.CoreV1.PatchNamespacedPodAsync(
            new V1Patch("{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"example.com/x\",\"example.com/y\"]}}", V1Patch.PatchType.StrategicMergePatch), "patched", ns);
        Assert.Null(removed.Metadata.Finalizers);
    }

    [Fact]
    public async Task A_failing_json_patch_test_is_422()
    {
        var node = await Client.CoreV1.CreateNodeAsync(Node("test-op-node"));
        var status = await ExpectStatusAsync(422, "Invalid", () => Client.CoreV1.PatchNodeAsync(
            new V1Patch("[{\"op\":\"test\",\"path\":\"/spec/providerID\",\"value\":\"nope\"}]", V1Patch.PatchType.JsonPatch), node.Metadata.Name));
        Assert.Contains("test failed", status.Details.Causes[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_side_apply_is_refused_with_415_listing_the_accepted_patch_types()
    {
        var status = await ExpectStatusAsync(415, "UnsupportedMediaType", () => Client.CoreV1.PatchNodeAsync(
            new V1Patch("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"ssa\"}}", V1Patch.PatchType.ApplyPatch), "ssa", fieldManager: "test"));
        Assert.Equal("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json", status.Message);
    }

    [Fact]
    public async Task Patch_with_a_resource_version_is_an_optimistic_lock()
    {
        var node = await Client.CoreV1.CreateNodeAsync(Node("lock-node"));
        await Client.CoreV1.PatchNodeAsync(new V1Patch("{\"metadata\":{\"labels\":{\"x\":\"1\"}}}", V1Patch.PatchType.MergePatch), node.Metadata.Name);

        await ExpectStatusAsync(409, "Conflict", () => Client.CoreV1.PatchNodeAsync(
            new V1Patch($"{{\"metadata\":{{\"resourceVersion\":\"{node.Metadata.ResourceVersion}\",\"finalizers\":[\"example.com/f\"]}}}}", V1Patch.PatchType.MergePatch), node.Metadata.Name));
    }

    [Fact]
    public async Task Delete_with_a_finalizer_marks_the_object_and_removing_the_last_finalizer_deletes_it()
    {
        var node = Node("finalized-node");
        node.Metadata.Finalizers = ["example.com/hold"];
        await Client.CoreV1.CreateNodeAsync(node);

        await Client.CoreV1.DeleteNodeAsync("finalized-node");
        var marked = await Client.CoreV1.ReadNodeAsync("finalized-node");
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Equal(0, marked.Metadata.DeletionGracePeriodSeconds);

        var status = await ExpectStatusAsync(422, "Invalid", () => Client.CoreV1.PatchNodeAsync(
            new V1Patch("{\"metadata\":{\"finalizers\":[\"example.com/hold\",\"example.com/new\"]}}", V1Patch.PatchType.MergePatch), "finalized-node"));
        Assert.Contains("no new finalizers can be added if the object is being deleted", status.Message, StringComparison.Ordinal);

        await Client.CoreV1.PatchNodeAsync(new V1Patch("{\"metadata\":{\"finalizers\":null}}", V1Patch.PatchType.MergePatch), "finalized-node");
        await ExpectStatusAsync(404, "NotFound", () => Client.CoreV1.ReadNodeAsync("finalized-node"));
    }

    [Fact]
    public async Task Delete_preconditions_that_do_not_match_are_409()
    {
        var node = await Client.CoreV1.CreateNodeAsync(Node("precondition-node"));
        var status = await ExpectStatusAsync(409, "Conflict", () => Client.CoreV1.DeleteNodeAsync(node.Metadata.Name,
            new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = "00000000-0000-0000-0000-000000000000" } }));
        Assert.Contains("the UID in the precondition (00000000-0000-0000-0000-000000000000) does not match the UID in record", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_fields_are_refused_when_strict_and_warned_otherwise()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        const string body = "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"unknown-field-node\"},\"spec\":{\"bogus\":1}}";

        using var strict = await http.PostAsync("/api/v1/nodes?fieldValidation=Strict", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)strict.StatusCode);
        Assert.Contains("Node in version \\\"v1\\\" cannot be handled as a Node: strict decoding error: unknown field \\\"spec.bogus\\\"", await strict.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var warn = await http.PostAsync("/api/v1/nodes", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(201, (int)warn.StatusCode);
        Assert.Equal("299 - \"unknown field \\\"spec.bogus\\\"\"", warn.Headers.GetValues("Warning").Single());
        Assert.DoesNotContain("bogus", await warn.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_bodies_wrong_types_and_wrong_api_versions_are_400()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        async Task<string> Post(string body, int expected)
        {
            using var response = await http.PostAsync("/api/v1/nodes", new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(expected, (int)response.StatusCode);
            return text;
        }

        Assert.Contains("json parse error", await Post("{\"apiVersion\":", 400), StringComparison.Ordinal);
        Assert.Contains("json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string", await Post("{\"metadata\":{\"name\":5}}", 400), StringComparison.Ordinal);
        Assert.Contains("the API version in the data (apps/v1) does not match the expected API version (v1)", await Post("{\"apiVersion\":\"apps/v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"x\"}}", 400), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Oversized_bodies_are_413()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        var huge = new string('a', 4 * 1024 * 1024);
        using var response = await http.PostAsync("/api/v1/nodes", new StringContent($"{{\"metadata\":{{\"name\":\"big\",\"annotations\":{{\"a\":\"{huge}\"}}}}}}", Encoding.UTF8, "application/json"));
        Assert.Equal(413, (int)response.StatusCode);
        Assert.Contains("Request entity too large: limit is 3145728", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_paths_are_a_plain_text_404()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var response = await http.GetAsync("/apis/example.com/v1/widgets");
        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("404 page not found\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Immortal_namespaces_cannot_be_deleted_and_deleted_namespaces_empty_then_disappear()
    {
        var immortal = await ExpectStatusAsync(403, "Forbidden", () => Client.CoreV1.DeleteNamespaceAsync("default"));
        Assert.Equal("namespaces \"default\" is forbidden: this namespace may not be deleted", immortal.Message);

        var ns = await api.CreateNamespaceAsync("doomed");
        var held = Pod("held");
        held.Metadata.Finalizers = ["example.com/hold"];
        await Client.CoreV1.CreateNamespacedPodAsync(held, ns);
        await Client.CoreV1.DeleteNamespaceAsync(ns);

        await EventuallyAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync("held", ns)).Metadata.DeletionTimestamp is not null);
        Assert.Equal("Terminating", (await Client.CoreV1.ReadNamespaceAsync(ns)).Status.Phase);
        var forbidden = await ExpectStatusAsync(403, "Forbidden", () => Client.CoreV1.CreateNamespacedPodAsync(Pod("late"), ns));
        Assert.Contains($"unable to create new content in namespace {ns} because it is being terminated", forbidden.Message, StringComparison.Ordinal);

        await Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("{\"metadata\":{\"finalizers\":null}}", V1Patch.PatchType.MergePatch), "held", ns);
        await EventuallyAsync(async () => (await Client.CoreV1.ListNamespaceAsync(fieldSelector: $"metadata.name={ns}")).Items.Count == 0);
    }

    /// <summary>Waits (bounded) for something the server does in the background, such as the namespace controller.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 500; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(10);
        }

        Assert.Fail("condition not met within 5 s");
    }

    [Fact]
    public async Task Leases_round_trip_micro_time()
    {
        var ns = await api.CreateNamespaceAsync();
        var renew = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234560);
        var lease = await Client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "leader" },
            Spec = new V1LeaseSpec { HolderIdentity = "a", LeaseDurationSeconds = 15, RenewTime = renew },
        }, ns);

        Assert.Equal(renew, lease.Spec.RenewTime);
        Assert.Null(lease.Metadata.Generation);
    }

    [Fact]
    public async Task Events_are_served_by_core_and_events_k8s_io_from_one_storage()
    {
        var ns = await api.CreateNamespaceAsync();
        await Client.EventsV1.CreateNamespacedEventAsync(new Eventsv1Event
        {
            Metadata = new V1ObjectMeta { Name = "e1" },
            EventTime = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
            ReportingController = "karpenter",
            ReportingInstance = "karpenter-1",
            Action = "Launch",
            Reason = "Launched",
            Type = "Normal",
            Note = "launched",
            Regarding = new V1ObjectReference { Kind = "Pod", Name = "p", NamespaceProperty = ns },
        }, ns);

        var core = await Client.CoreV1.ReadNamespacedEventAsync("e1", ns);
        Assert.Equal("launched", core.Message);
        Assert.Equal("karpenter", core.ReportingComponent);
        Assert.Equal("p", core.InvolvedObject.Name);

        var missing = await ExpectStatusAsync(422, "Invalid", () => Client.EventsV1.CreateNamespacedEventAsync(new Eventsv1Event { Metadata = new V1ObjectMeta { Name = "e2" }, Type = "Normal" }, ns));
        Assert.Contains("eventTime: Required value", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dry_run_creates_nothing()
    {
        var before = api.Server.CurrentResourceVersion;
        var created = await Client.CoreV1.CreateNodeAsync(Node("dry-node"), dryRun: "All");
        Assert.Equal("dry-node", created.Metadata.Name);
        Assert.Equal(before, api.Server.CurrentResourceVersion);
        await ExpectStatusAsync(404, "NotFound", () => Client.CoreV1.ReadNodeAsync("dry-node"));
    }

    [Fact]
    public async Task Yaml_bodies_are_accepted()
    {
        using var http = new HttpClient { BaseAddress = api.Server.BaseAddress };
        using var content = new StringContent("apiVersion: v1\nkind: Node\nmetadata:\n  name: yaml-node\n  labels:\n    a: \"1\"\n", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/yaml");
        using var response = await http.PostAsync("/api/v1/nodes", content);
        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal("1", (await Client.CoreV1.ReadNodeAsync("yaml-node")).Metadata.Labels["a"]);
    }
}
