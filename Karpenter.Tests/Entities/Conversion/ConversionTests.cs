using System.Text.Json.Nodes;
using k8s;
using Karpenter.Entities;
using Karpenter.Entities.Conversion;
using Karpenter.Entities.WellKnown;
using AwsV1 = Karpenter.Entities.Aws.V1;
using AwsV1Beta1 = Karpenter.Entities.Aws.V1Beta1;
using V1 = Karpenter.Entities.V1;
using V1Beta1 = Karpenter.Entities.V1Beta1;

namespace Karpenter.Tests.Entities.Conversion;

public sealed class ConversionTests
{
    private static readonly NodePoolConversion NodePools = new();
    private static readonly EC2NodeClassConversion NodeClasses = new();
    private static readonly NodePoolConversionHandler NodePoolHandler = new(NodePools);
    private static readonly EC2NodeClassConversionHandler NodeClassHandler = new(NodeClasses);

    private const string SeedNodePool = """
        apiVersion: karpenter.sh/v1beta1
        kind: NodePool
        metadata:
          name: general-purpose
        spec:
          template:
            metadata:
              labels:
                type: general
            spec:
              nodeClassRef:
                name: default-ec2
              requirements:
                - key: "karpenter.k8s.aws/instance-family"
                  operator: In
                  values: ["t3", "t3a"]
          limits:
            cpu: "1000"
          disruption:
            consolidationPolicy: WhenUnderutilized
        """;

    private const string SeedNodeClass = """
        apiVersion: karpenter.k8s.aws/v1beta1
        kind: EC2NodeClass
        metadata:
          name: default-ec2
        spec:
          subnetSelector:
            karpenter.sh/discovery: my-cluster
          securityGroupSelector:
            karpenter.sh/discovery: my-cluster
          amiFamily: AL2
          instanceProfile: KarpenterNodeInstanceProfile-my-cluster
        """;

    [Fact]
    public void The_seed_nodepool_expands_to_v1_with_a_full_nodeclass_reference()
    {
        var v1 = NodePools.ToV1(Load<V1Beta1.NodePool>(SeedNodePool));

        Assert.Equal(V1.ConsolidationPolicy.WhenEmptyOrUnderutilized, v1.Spec.Disruption.ConsolidationPolicy);
        Assert.Equal("0s", v1.Spec.Disruption.ConsolidateAfter);
        Assert.Equal(V1.NodeClassReference.Ec2NodeClass("default-ec2"), v1.Spec.Template.Spec.NodeClassRef);
        Assert.Equal("general", v1.Spec.Template.Metadata!.Labels!["type"]);
        Assert.Equal("1k", v1.Spec.Limits!["cpu"].ToString());
        Assert.Equal("karpenter.sh/v1", v1.ApiVersion);
        Assert.True(v1.Metadata.Annotations!.ContainsKey(Annotations.V1Beta1NodePoolSpec));
    }

    [Fact]
    public void The_seed_nodepool_reads_back_as_v1beta1_as_it_was_applied()
    {
        var applied = Load<V1Beta1.NodePool>(SeedNodePool);

        var back = NodePools.ToV1Beta1(NodePools.ToV1(applied));

        Assert.Equal(KubernetesJson.Serialize(applied), KubernetesJson.Serialize(back));
        Assert.Null(back.Metadata.Annotations);
    }

    [Fact]
    public void The_seed_nodeclass_expands_its_shorthands()
    {
        var v1 = NodeClasses.ToV1(Load<AwsV1Beta1.EC2NodeClass>(SeedNodeClass));

        var subnets = Assert.Single(v1.Spec.SubnetSelectorTerms);
        Assert.Equal("my-cluster", subnets.Tags!["karpenter.sh/discovery"]);
        Assert.Equal("my-cluster", Assert.Single(v1.Spec.SecurityGroupSelectorTerms).Tags!["karpenter.sh/discovery"]);
        Assert.Equal("al2@latest", Assert.Single(v1.Spec.AmiSelectorTerms).Alias);
        Assert.Null(v1.Spec.AmiFamily);
        Assert.Equal(AwsV1.AmiFamily.AL2, v1.Spec.ResolvedAmiFamily());
        Assert.Equal("KarpenterNodeInstanceProfile-my-cluster", v1.Spec.InstanceProfile);
    }

    [Fact]
    public void The_seed_nodeclass_reads_back_as_v1beta1_as_it_was_applied()
    {
        var applied = Load<AwsV1Beta1.EC2NodeClass>(SeedNodeClass);

        var back = NodeClasses.ToV1Beta1(NodeClasses.ToV1(applied));

        Assert.Equal(KubernetesJson.Serialize(applied), KubernetesJson.Serialize(back));
    }

    [Fact]
    public void A_v1_object_that_v1beta1_cannot_express_survives_a_v1beta1_read_modify_write()
    {
        var v1 = (V1.NodePool)KarpenterApi.LoadYaml(File.ReadAllText(Path.Combine(EntitiesTestPaths.Examples, "general-purpose.yaml")))[1];
        v1.Spec.Disruption.ConsolidationPolicy = V1.ConsolidationPolicy.Balanced;

        var beta = NodePools.ToV1Beta1(v1);
        var back = NodePools.ToV1(beta);

        Assert.Equal(V1Beta1.ConsolidationPolicy.WhenUnderutilized, beta.Spec.Disruption!.ConsolidationPolicy);
        Assert.True(beta.Metadata.Annotations!.ContainsKey(Annotations.V1NodePoolSpec));
        Assert.Equal(KubernetesJson.Serialize(v1), KubernetesJson.Serialize(back));
    }

    [Fact]
    public void A_v1beta1_change_wins_over_the_saved_v1_spec()
    {
        var v1 = (V1.NodePool)KarpenterApi.LoadYaml(File.ReadAllText(Path.Combine(EntitiesTestPaths.Examples, "general-purpose.yaml")))[1];
        v1.Spec.Disruption.ConsolidationPolicy = V1.ConsolidationPolicy.Balanced;
        var beta = NodePools.ToV1Beta1(v1);

        beta.Spec.Weight = 42;
        var back = NodePools.ToV1(beta);

        Assert.Equal(42, back.Spec.Weight);
        Assert.Equal(V1.ConsolidationPolicy.WhenEmptyOrUnderutilized, back.Spec.Disruption.ConsolidationPolicy);
        Assert.False(back.Metadata.Annotations?.ContainsKey(Annotations.V1NodePoolSpec) ?? false);
    }

    public static TheoryData<string> Examples => new(EntitiesTestPaths.ExampleFiles().Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_survives_a_trip_through_v1beta1(string file)
    {
        foreach (var obj in KarpenterApi.LoadYaml(File.ReadAllText(Path.Combine(EntitiesTestPaths.Examples, file))))
        {
            var json = JsonNode.Parse(KubernetesJson.Serialize(obj))!.AsObject();
            var handler = obj is V1.NodePool ? (Karpenter.Kube.Webhooks.IConversionHandler)NodePoolHandler : NodeClassHandler;
            var group = json["apiVersion"]!.GetValue<string>().Split('/')[0];

            var beta = handler.Convert(json.DeepClone().AsObject(), $"{group}/v1beta1");
            var back = handler.Convert(beta, $"{group}/v1");

            Assert.Equal($"{group}/v1beta1", beta["apiVersion"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(json, back), $"{file}:\nbefore: {json.ToJsonString()}\nafter:  {back.ToJsonString()}");
        }
    }

    [Fact]
    public void The_handler_keeps_metadata_except_annotations_and_adds_no_status()
    {
        var request = JsonNode.Parse("""
            {"apiVersion": "karpenter.sh/v1beta1", "kind": "NodePool",
             "metadata": {"name": "p", "uid": "1234", "resourceVersion": "7", "generation": 3, "labels": {"a": "b"},
                          "managedFields": [{"manager": "kubectl", "operation": "Apply"}], "creationTimestamp": "2026-01-01T00:00:00Z"},
             "spec": {"template": {"spec": {"nodeClassRef": {"name": "default"}, "requirements": []}}}}
            """)!.AsObject();

        var v1 = NodePoolHandler.Convert(request, "karpenter.sh/v1");

        var metadata = v1["metadata"]!.AsObject();
        metadata.Remove("annotations");
        var expected = request["metadata"]!.DeepClone();
        Assert.True(JsonNode.DeepEquals(expected, metadata), metadata.ToJsonString());
        Assert.False(v1.ContainsKey("status"));
        Assert.Equal("NodePool", v1["kind"]!.GetValue<string>());
    }

    [Fact]
    public void An_object_already_at_the_desired_version_is_returned_as_it_is()
    {
        var obj = JsonNode.Parse("""{"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "p"}, "spec": {"unknown": 1}}""")!.AsObject();

        Assert.Same(obj, NodePoolHandler.Convert(obj, "karpenter.sh/v1"));
    }

    [Fact]
    public void An_unknown_version_is_refused_with_the_served_versions()
    {
        var obj = JsonNode.Parse("""{"apiVersion": "karpenter.sh/v1alpha5", "kind": "NodePool", "metadata": {"name": "p"}}""")!.AsObject();

        var error = Assert.Throws<InvalidOperationException>(() => NodePoolHandler.Convert(obj, "karpenter.sh/v1"));

        Assert.Contains("karpenter.sh/v1 and karpenter.sh/v1beta1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_compatibility_annotation_is_ignored()
    {
        var beta = Load<V1Beta1.NodePool>(SeedNodePool);
        var v1 = NodePools.ToV1(beta);
        v1.Metadata.Annotations![Annotations.V1Beta1NodePoolSpec] = "{not json";

        var back = NodePools.ToV1Beta1(v1);

        Assert.Equal("karpenter.k8s.aws/v1beta1", back.Spec.Template.Spec.NodeClassRef.ApiVersion);
        Assert.Equal(V1Beta1.ConsolidationPolicy.WhenUnderutilized, back.Spec.Disruption!.ConsolidationPolicy);
    }

    private static T Load<T>(string yaml) => (T)KarpenterApi.LoadYaml(yaml, strict: true).Single();
}
