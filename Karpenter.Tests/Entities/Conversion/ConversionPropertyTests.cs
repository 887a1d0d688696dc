using System.Text.Json.Nodes;
using CsCheck;
using k8s;
using Karpenter.Entities.Conversion;
using Karpenter.Kube.Webhooks;
using AwsV1 = Karpenter.Entities.Aws.V1;
using AwsV1Beta1 = Karpenter.Entities.Aws.V1Beta1;
using V1 = Karpenter.Entities.V1;
using V1Beta1 = Karpenter.Entities.V1Beta1;

namespace Karpenter.Tests.Entities.Conversion;

/// <summary>
/// Round trips through the conversion webhook's handlers with generated objects: a v1beta1 object read as v1 and
/// written back, and a v1 object read as v1beta1 and written back, come back as they were (once the schema's defaults
/// are applied, as the API server does on every read); metadata other than annotations is never touched.
/// </summary>
public sealed class ConversionPropertyTests
{
    private const int Iterations = 200;

    private static readonly NodePoolConversionHandler NodePools = new(new NodePoolConversion());
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, SchemaDefaulter> Defaults = new();

    private static readonly EC2NodeClassConversionHandler NodeClasses = new(new EC2NodeClassConversion());

    [Fact]
    public void A_v1beta1_nodepool_survives_a_trip_through_v1() =>
        KarpenterObjects.V1Beta1NodePool.Sample(obj => ExpectRoundTrip<V1Beta1.NodePool>(NodePools, obj, "karpenter.sh/v1"), iter: Iterations, print: Print);

    [Fact]
    public void A_v1_nodepool_survives_a_trip_through_v1beta1() =>
        KarpenterObjects.V1NodePool.Sample(obj => ExpectRoundTrip<V1.NodePool>(NodePools, obj, "karpenter.sh/v1beta1"), iter: Iterations, print: Print);

    [Fact]
    public void A_v1beta1_ec2nodeclass_survives_a_trip_through_v1() =>
        KarpenterObjects.V1Beta1NodeClass.Sample(obj => ExpectRoundTrip<AwsV1Beta1.EC2NodeClass>(NodeClasses, obj, "karpenter.k8s.aws/v1"), iter: Iterations, print: Print);

    [Fact]
    public void A_v1_ec2nodeclass_survives_a_trip_through_v1beta1() =>
        KarpenterObjects.V1NodeClass.Sample(obj => ExpectRoundTrip<AwsV1.EC2NodeClass>(NodeClasses, obj, "karpenter.k8s.aws/v1beta1"), iter: Iterations, print: Print);

    [Fact]
    public void The_v1beta1_shorthands_always_expand_in_v1() =>
        KarpenterObjects.V1Beta1NodePool.Sample(obj =>
        {
            var v1 = KubernetesJson.Deserialize<V1.NodePool>(NodePools.Convert(obj, "karpenter.sh/v1").ToJsonString());
            var reference = v1.Spec.Template.Spec.NodeClassRef;
            Assert.Equal(("karpenter.k8s.aws", "EC2NodeClass"), (reference.Group, reference.Kind));
            Assert.NotEqual("WhenUnderutilized", v1.Spec.Disruption.ConsolidationPolicy?.ToString());
            Assert.Equal((string?)obj["spec"]!["disruption"]?["expireAfter"], v1.Spec.Template.Spec.ExpireAfter);
        }, iter: Iterations, print: Print);

    /// <summary>
    /// Fuzzing: odd values anywhere in an object never make the converter fail with anything but a decoding or
    /// conversion error that names the problem (the webhook answers it as the review's failure message).
    /// </summary>
    [Fact]
    public void Odd_objects_convert_or_fail_with_a_message_never_with_a_crash()
    {
        var cases = Gen.OneOf(
            Gen.Select(KarpenterObjects.Mutated(KarpenterObjects.V1Beta1NodePool), Gen.Const(() => ((IConversionHandler)NodePools, "karpenter.sh/v1"))),
            Gen.Select(KarpenterObjects.Mutated(KarpenterObjects.V1NodePool), Gen.Const(() => ((IConversionHandler)NodePools, "karpenter.sh/v1beta1"))),
            Gen.Select(KarpenterObjects.Mutated(KarpenterObjects.V1Beta1NodeClass), Gen.Const(() => ((IConversionHandler)NodeClasses, "karpenter.k8s.aws/v1"))),
            Gen.Select(KarpenterObjects.Mutated(KarpenterObjects.V1NodeClass), Gen.Const(() => ((IConversionHandler)NodeClasses, "karpenter.k8s.aws/v1beta1"))));
        cases.Sample(c =>
        {
            var (obj, (handler, desired)) = c;
            try
            {
                var converted = handler.Convert(obj, desired);
                Assert.Equal(desired, (string?)converted["apiVersion"]);
                ExpectSameMetadataButAnnotations(obj, converted);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
        }, iter: Iterations * 2, print: c => c.Item1.ToJsonString());
    }

    private static void ExpectRoundTrip<TSpoke>(IConversionHandler handler, JsonObject obj, string via)
        where TSpoke : class
    {
        var original = Normalized<TSpoke>(obj);
        var there = handler.Convert(original.DeepClone().AsObject(), via);
        ExpectSameMetadataButAnnotations(original, there);
        var back = handler.Convert(there, (string)original["apiVersion"]!);

        var defaults = Defaults.GetOrAdd(typeof(TSpoke), SchemaDefaulter.ForSpecOf);
        var expected = defaults.Apply(original["spec"]);
        var actual = defaults.Apply(back["spec"]);
        Assert.True(JsonNode.DeepEquals(expected, actual), $"spec changed:\n  was {expected?.ToJsonString()}\n  now {actual?.ToJsonString()}\n  via {there["spec"]?.ToJsonString()}");
        Assert.True(JsonNode.DeepEquals(UserAnnotations(original), UserAnnotations(back)), $"annotations changed: {back["metadata"]?["annotations"]?.ToJsonString()}");
        Assert.True(JsonNode.DeepEquals(original["metadata"]!["name"], back["metadata"]!["name"]));
    }

    /// <summary>The object as the API server holds it: decoded into the version's type and encoded again (quantities canonical, unknown fields pruned).</summary>
    private static JsonObject Normalized<T>(JsonObject obj)
        where T : class => JsonNode.Parse(KubernetesJson.Serialize(KubernetesJson.Deserialize<T>(obj.ToJsonString())))!.AsObject();

    private static JsonObject UserAnnotations(JsonObject obj)
    {
        var annotations = obj["metadata"]?["annotations"]?.DeepClone() as JsonObject ?? [];
        foreach (var key in annotations.Select(p => p.Key).Where(k => k.StartsWith("compatibility.karpenter", StringComparison.Ordinal)).ToList())
        {
            annotations.Remove(key);
        }

        return annotations;
    }

    private static void ExpectSameMetadataButAnnotations(JsonObject from, JsonObject to)
    {
        var left = from["metadata"]?.DeepClone() as JsonObject ?? [];
        var right = to["metadata"]?.DeepClone() as JsonObject ?? [];
        left.Remove("annotations");
        right.Remove("annotations");
        Assert.True(JsonNode.DeepEquals(left, right), $"metadata changed: {left.ToJsonString()} -> {right.ToJsonString()}");
    }

    private static string Print(JsonObject obj) => obj.ToJsonString();
}
