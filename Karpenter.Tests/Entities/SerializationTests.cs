using System.Reflection;
using System.Runtime.Serialization;
using System.Text.Json;
using k8s;
using Karpenter.Entities;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using V1Beta1 = Karpenter.Entities.V1Beta1;

namespace Karpenter.Tests.Entities;

public sealed class SerializationTests
{
    public static TheoryData<string> Examples => new(EntitiesTestPaths.ExampleFiles().Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_loads_strictly_as_typed_objects_and_round_trips(string file)
    {
        var yaml = File.ReadAllText(Path.Combine(EntitiesTestPaths.Examples, file));

        var objects = KarpenterApi.LoadYaml(yaml, strict: true);

        Assert.NotEmpty(objects);
        Assert.All(objects, o => Assert.True(o is NodePool or EC2NodeClass, $"{o.GetType().Name} is not a v1 Karpenter kind"));
        foreach (var obj in objects)
        {
            var json = KubernetesJson.Serialize(obj);
            var viaYaml = KarpenterApi.LoadYaml(KubernetesYaml.Serialize(obj), strict: true).Single();
            var viaJson = JsonSerializer.Deserialize(json, obj.GetType(), JsonOptions())!;

            Assert.Equal(json, KubernetesJson.Serialize(viaYaml));
            Assert.Equal(json, KubernetesJson.Serialize(viaJson));
        }
    }

    [Fact]
    public void The_seed_manifests_load_as_v1beta1_with_their_shorthands()
    {
        var seeds = EntitiesTestPaths.Seeds;
        if (seeds is null)
        {
            return; // ../shared is absent: nothing to read.
        }

        var nodeClass = Assert.IsType<Karpenter.Entities.Aws.V1Beta1.EC2NodeClass>(
            Assert.Single(KarpenterApi.LoadYaml(File.ReadAllText(Path.Combine(seeds, "ec2nodeclass-default-ec2.yaml")), strict: true)));
        var nodePool = Assert.IsType<V1Beta1.NodePool>(
            Assert.Single(KarpenterApi.LoadYaml(File.ReadAllText(Path.Combine(seeds, "nodepool-general-purpose.yaml")), strict: true)));

        Assert.Equal("my-cluster", nodeClass.Spec.SubnetSelector!["karpenter.sh/discovery"]);
        Assert.Equal("my-cluster", nodeClass.Spec.SecurityGroupSelector!["karpenter.sh/discovery"]);
        Assert.Equal(AmiFamily.AL2, nodeClass.Spec.AmiFamily);
        Assert.Equal("KarpenterNodeInstanceProfile-my-cluster", nodeClass.Spec.InstanceProfile);
        Assert.Equal("default-ec2", nodePool.Spec.Template.Spec.NodeClassRef.Name);
        Assert.Null(nodePool.Spec.Template.Spec.NodeClassRef.Kind);
        Assert.Equal(V1Beta1.ConsolidationPolicy.WhenUnderutilized, nodePool.Spec.Disruption!.ConsolidationPolicy);
        Assert.Equal("1k", nodePool.Spec.Limits!["cpu"].ToString());
        Assert.Equal(["t3", "t3a"], nodePool.Spec.Template.Spec.Requirements[0].Values!);
        Assert.Equal("general", nodePool.Spec.Template.Metadata!.Labels!["type"]);
    }

    [Fact]
    public void Enum_names_are_the_same_in_json_and_yaml()
    {
        var enums = typeof(KarpenterApi).Assembly.GetTypes().Where(t => t.IsEnum && t.IsPublic);
        foreach (var type in enums)
        {
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var value = field.GetValue(null)!;
                var json = JsonSerializer.Serialize(value, type, JsonOptions()).Trim('"');
                var yamlName = field.GetCustomAttribute<EnumMemberAttribute>()?.Value;

                Assert.True(yamlName == json, $"{type.Name}.{field.Name}: JSON writes '{json}', YAML writes '{yamlName ?? field.Name}'");
            }
        }
    }

    [Fact]
    public void Yaml_names_are_the_json_names_and_computed_properties_are_ignored_in_both()
    {
        var problems = new List<string>();
        var seen = new HashSet<Type>();
        var pending = new Queue<Type>(KarpenterApi.EntityTypes);
        while (pending.TryDequeue(out var type))
        {
            if (!seen.Add(type) || type.Assembly != typeof(KarpenterApi).Assembly && type.Assembly != typeof(Karpenter.Kube.Entities.CustomKubernetesEntity).Assembly)
            {
                continue;
            }

            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var jsonIgnored = property.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() is not null;
                var yamlIgnored = property.GetCustomAttribute<YamlDotNet.Serialization.YamlIgnoreAttribute>() is not null;
                if (jsonIgnored != yamlIgnored)
                {
                    problems.Add($"{type.Name}.{property.Name}: ignored in {(jsonIgnored ? "JSON" : "YAML")} only");
                    continue;
                }

                if (jsonIgnored)
                {
                    continue;
                }

                var json = property.GetCustomAttribute<System.Text.Json.Serialization.JsonPropertyNameAttribute>()?.Name ?? property.Name;
                var yaml = property.GetCustomAttribute<YamlDotNet.Serialization.YamlMemberAttribute>()?.Alias
                    ?? YamlDotNet.Serialization.NamingConventions.CamelCaseNamingConvention.Instance.Apply(property.Name);
                if (json != yaml)
                {
                    problems.Add($"{type.Name}.{property.Name}: JSON '{json}', YAML '{yaml}'");
                }

                foreach (var nested in new[] { property.PropertyType }.Concat(property.PropertyType.GetGenericArguments()))
                {
                    pending.Enqueue(Nullable.GetUnderlyingType(nested) ?? nested);
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Unset_fields_are_omitted_rather_than_written_as_null()
    {
        var pool = new NodePool { Metadata = { Name = "p" } };
        pool.Spec.Template.Spec.NodeClassRef = NodeClassReference.Ec2NodeClass("default");

        var json = KubernetesJson.Serialize(pool);

        Assert.DoesNotContain("null", json, StringComparison.Ordinal);
        Assert.Contains("\"group\":\"karpenter.k8s.aws\"", json, StringComparison.Ordinal);
        Assert.Contains("\"apiVersion\":\"karpenter.sh/v1\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Enum_values_use_their_wire_names()
    {
        var nodeClass = new EC2NodeClass();
        nodeClass.Spec.InstanceStorePolicy = InstanceStorePolicy.Raid0;
        nodeClass.Spec.MetadataOptions = new MetadataOptions { HttpTokens = HttpTokens.Required, HttpEndpoint = EnabledState.Enabled };
        nodeClass.Spec.BlockDeviceMappings = [new BlockDeviceMapping { Ebs = new BlockDevice { VolumeType = VolumeType.Gp3, VolumeSize = "20Gi" } }];

        var json = KubernetesJson.Serialize(nodeClass);
        var yaml = KubernetesYaml.Serialize(nodeClass);

        foreach (var text in new[] { json, yaml })
        {
            Assert.Contains("RAID0", text, StringComparison.Ordinal);
            Assert.Contains("required", text, StringComparison.Ordinal);
            Assert.Contains("enabled", text, StringComparison.Ordinal);
            Assert.Contains("gp3", text, StringComparison.Ordinal);
        }
    }

    private static JsonSerializerOptions JsonOptions()
    {
        JsonSerializerOptions? options = null;
        KubernetesJson.AddJsonOptions(o => options = o);
        return options!;
    }
}
