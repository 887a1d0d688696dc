using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Kube.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Karpenter.Tests.Kube.Webhooks;

public sealed class WebhookTests
{
    private const string PodJson = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns","labels":{"a":"1"}},"spec":{"containers":[{"name":"c","image":"nginx"}]},"unknownField":{"kept":true}}""";

    [Fact]
    public async Task A_validator_denial_answers_with_the_request_uid_and_status()
    {
        var review = await Serve(WebhookEndpoints.Validator<V1Pod, DenyLatest>(), Admission("CREATE", PodJson));

        var response = review.GetProperty("response");
        Assert.Equal("uid-1", response.GetProperty("uid").GetString());
        Assert.False(response.GetProperty("allowed").GetBoolean());
        Assert.Equal(422, response.GetProperty("status").GetProperty("code").GetInt32());
        Assert.Equal("image nginx has no tag", response.GetProperty("status").GetProperty("message").GetString());
        Assert.False(response.TryGetProperty("patch", out _));
    }

    [Fact]
    public async Task A_mutator_answers_with_a_json_patch_of_its_changes_only()
    {
        var review = await Serve(WebhookEndpoints.Mutator<V1Pod, AddLabel>(), Admission("CREATE", PodJson));

        var response = review.GetProperty("response");
        Assert.True(response.GetProperty("allowed").GetBoolean());
        Assert.Equal("JSONPatch", response.GetProperty("patchType").GetString());
        var patch = Encoding.UTF8.GetString(Convert.FromBase64String(response.GetProperty("patch").GetString()!));
        Assert.Equal("""[{"op":"add","path":"/metadata/labels/example.com~1mutated","value":"true"}]""", patch);
        Assert.Equal("labelled", response.GetProperty("warnings")[0].GetString());
    }

    [Fact]
    public async Task A_handler_exception_is_a_denial_with_code_500()
    {
        var review = await Serve(WebhookEndpoints.Validator<V1Pod, Throws>(), Admission("UPDATE", PodJson, PodJson));

        var status = review.GetProperty("response").GetProperty("status");
        Assert.Equal(500, status.GetProperty("code").GetInt32());
        Assert.Equal("boom", status.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_body_that_is_not_a_review_is_a_bad_request()
    {
        var context = Context("""{"hello":"world"}""", services => services.AddSingleton<DenyLatest>());

        await WebhookEndpoints.Validator<V1Pod, DenyLatest>().Handler(context);

        Assert.Equal(400, context.Response.StatusCode);
    }

    [Fact]
    public async Task Conversion_converts_every_object_to_the_desired_version_and_keeps_metadata()
    {
        var body = """
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"ConversionReview","request":{"uid":"c-1","desiredAPIVersion":"example.com/v2",
             "objects":[{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","uid":"u1"},"spec":{"size":3}}]}}
            """;
        var context = Context(body, services => services.AddSingleton<WidgetConversion>());

        await WebhookEndpoints.Conversion<WidgetConversion>("example.com", "Widget").Handler(context);

        var response = Read(context).GetProperty("response");
        Assert.Equal("c-1", response.GetProperty("uid").GetString());
        Assert.Equal("Success", response.GetProperty("result").GetProperty("status").GetString());
        var converted = JsonNode.Parse(response.GetProperty("convertedObjects")[0].GetRawText())!;
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"apiVersion":"example.com/v2","kind":"Widget","metadata":{"name":"w","uid":"u1"},"spec":{"replicas":3}}"""),
            converted));
    }

    [Fact]
    public async Task A_failed_conversion_fails_the_review_with_the_reason()
    {
        var body = """{"request":{"uid":"c-2","desiredAPIVersion":"example.com/v3","objects":[{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}]}}""";
        var context = Context(body, services => services.AddSingleton<WidgetConversion>());

        await WebhookEndpoints.Conversion<WidgetConversion>("example.com", "Widget").Handler(context);

        var result = Read(context).GetProperty("response").GetProperty("result");
        Assert.Equal("Failure", result.GetProperty("status").GetString());
        Assert.Contains("no conversion of Widget from example.com/v1 to example.com/v3", result.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Paths_name_group_version_and_kind()
    {
        Assert.Equal("/validate/core/v1/pod", WebhookPaths.Validate<V1Pod>());
        Assert.Equal("/mutate/coordination.k8s.io/v1/lease", WebhookPaths.Mutate<V1Lease>());
        Assert.Equal("/convert/karpenter.sh/nodepool", WebhookPaths.Convert("karpenter.sh", "NodePool"));
    }

    [Fact]
    public void Json_diff_produces_add_remove_and_replace()
    {
        var patch = JsonDiff.CreatePatch(JsonNode.Parse("""{"a":1,"b":{"c":[1,2],"d":"x"}}"""), JsonNode.Parse("""{"a":2,"b":{"c":[1],"e":null}}"""));

        Assert.Equal("""[{"op":"replace","path":"/a","value":2},{"op":"replace","path":"/b/c","value":[1]},{"op":"remove","path":"/b/d"},{"op":"add","path":"/b/e","value":null}]""", patch.ToJson());
    }

    private static string Admission(string operation, string obj, string? old = null) =>
        """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"uid-1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"""
        + $"\"{operation}\",\"object\":{obj},\"oldObject\":{old ?? "null"}"
        + ""","userInfo":{"username":"admin"}}}""";

    private static async Task<JsonElement> Serve(WebhookRegistration webhook, string body)
    {
        var context = Context(body, services => services.AddSingleton<DenyLatest>().AddSingleton<AddLabel>().AddSingleton<Throws>());
        await webhook.Handler(context);
        Assert.Equal(200, context.Response.StatusCode);
        return Read(context);
    }

    private static DefaultHttpContext Context(string body, Action<IServiceCollection> services)
    {
        var collection = new ServiceCollection().AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services(collection);
        var context = new DefaultHttpContext { RequestServices = collection.BuildServiceProvider() };
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static JsonElement Read(DefaultHttpContext context)
    {
        context.Response.Body.Position = 0;
        return JsonDocument.Parse(context.Response.Body).RootElement.Clone();
    }

    private sealed class DenyLatest : IAdmissionValidator<V1Pod>
    {
        public Task<AdmissionVerdict> ValidateAsync(AdmissionContext<V1Pod> context, CancellationToken cancellationToken)
        {
            var image = context.Entity!.Spec.Containers[0].Image;
            return Task.FromResult(image.Contains(':', StringComparison.Ordinal) ? AdmissionVerdict.Allow() : AdmissionVerdict.Deny($"image {image} has no tag"));
        }
    }

    private sealed class AddLabel : IAdmissionMutator<V1Pod>
    {
        public Task<MutationResult<V1Pod>> MutateAsync(AdmissionContext<V1Pod> context, CancellationToken cancellationToken)
        {
            var pod = Karpenter.Kube.Client.KubeObjects.DeepClone(context.Entity!);
            pod.Metadata.Labels["example.com/mutated"] = "true";
            return Task.FromResult(Mutation.Changed(pod, "labelled"));
        }
    }

    private sealed class Throws : IAdmissionValidator<V1Pod>
    {
        public Task<AdmissionVerdict> ValidateAsync(AdmissionContext<V1Pod> context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("boom");
    }

    [k8s.Models.KubernetesEntity(Group = "example.com", ApiVersion = "v1", Kind = "Widget", PluralName = "widgets")]
    private sealed class WidgetV1 : k8s.IKubernetesObject<V1ObjectMeta>
    {
        public string ApiVersion { get; set; } = "example.com/v1";

        public string Kind { get; set; } = "Widget";

        public V1ObjectMeta Metadata { get; set; } = new();

        public SpecV1 Spec { get; set; } = new();

        public sealed class SpecV1
        {
            public int Size { get; set; }
        }
    }

    [k8s.Models.KubernetesEntity(Group = "example.com", ApiVersion = "v2", Kind = "Widget", PluralName = "widgets")]
    private sealed class WidgetV2 : k8s.IKubernetesObject<V1ObjectMeta>
    {
        public string ApiVersion { get; set; } = "example.com/v2";

        public string Kind { get; set; } = "Widget";

        public V1ObjectMeta Metadata { get; set; } = new();

        public SpecV2 Spec { get; set; } = new();

        public sealed class SpecV2
        {
            public int Replicas { get; set; }
        }
    }

    private sealed class WidgetConversion : TypedConversionHandler
    {
        public WidgetConversion()
            : base("example.com", "Widget")
        {
            Register<WidgetV1, WidgetV2>(v1 => new WidgetV2 { Metadata = v1.Metadata, Spec = new WidgetV2.SpecV2 { Replicas = v1.Spec.Size } });
            Register<WidgetV2, WidgetV1>(v2 => new WidgetV1 { Metadata = v2.Metadata, Spec = new WidgetV1.SpecV1 { Size = v2.Spec.Replicas } });
        }
    }
}
