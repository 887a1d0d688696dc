using k8s;
using k8s.Models;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Generation;
using Karpenter.Tests.Kube.Generation.Samples;

namespace Karpenter.Tests.Kube.Generation;

public sealed class CrdGeneratorTests
{
    private static readonly CrdGenerator Generator = new(new CrdGeneratorOptions { ConversionService = new WebhookService("widget-operator", "widgets", 8443) });

    private static V1CustomResourceDefinition Widgets() => Generator.Generate(typeof(V1Beta1Widget), typeof(V1Widget));

    private static V1JSONSchemaProps Spec() => Widgets().Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"];

    [Fact]
    public void A_multi_version_crd_matches_its_golden_file()
    {
        GoldenFile.ExpectMatches("Golden/widgets.example.com.yaml", ManifestYaml.Serialize(Widgets()));
    }

    [Fact]
    public void A_single_version_namespaced_crd_matches_its_golden_file()
    {
        GoldenFile.ExpectMatches("Golden/gadgets.example.com.yaml", ManifestYaml.Serialize(Generator.Generate(typeof(V1Alpha1Gadget))));
    }

    [Fact]
    public void The_generated_schemas_are_structural()
    {
        foreach (var version in Widgets().Spec.Versions.Concat(Generator.Generate(typeof(V1Alpha1Gadget)).Spec.Versions))
        {
            Assert.Empty(StructuralSchema.Violations(version.Schema.OpenAPIV3Schema));
        }
    }

    [Fact]
    public void Versions_are_ordered_by_priority_and_exactly_one_is_stored()
    {
        var versions = Widgets().Spec.Versions;

        Assert.Equal(["v1", "v1beta1"], versions.Select(v => v.Name));
        Assert.Equal([true, false], versions.Select(v => v.Storage));
        Assert.All(versions, v => Assert.True(v.Served));
        Assert.True(versions[1].Deprecated);
    }

    [Fact]
    public void A_multi_version_crd_converts_through_the_webhook_service()
    {
        var conversion = Widgets().Spec.Conversion;

        Assert.Equal("Webhook", conversion.Strategy);
        Assert.Equal(["v1"], conversion.Webhook.ConversionReviewVersions);
        Assert.Equal("widget-operator", conversion.Webhook.ClientConfig.Service.Name);
        Assert.Equal("widgets", conversion.Webhook.ClientConfig.Service.NamespaceProperty);
        Assert.Equal("/convert/example.com/widget", conversion.Webhook.ClientConfig.Service.Path);
        Assert.Equal(8443, conversion.Webhook.ClientConfig.Service.Port);
    }

    [Fact]
    public void Without_a_conversion_service_a_multi_version_crd_uses_no_conversion()
    {
        var crd = new CrdGenerator().Generate(typeof(V1Widget), typeof(V1Beta1Widget));

        Assert.Equal("None", crd.Spec.Conversion.Strategy);
    }

    [Fact]
    public void Names_scope_and_subresources_come_from_the_entity_attributes()
    {
        var crd = Widgets();
        var v1 = crd.Spec.Versions[0];

        Assert.Equal("widgets.example.com", crd.Metadata.Name);
        Assert.Equal("Cluster", crd.Spec.Scope);
        Assert.Equal(["wd"], crd.Spec.Names.ShortNames);
        Assert.Equal(["samples", "all"], crd.Spec.Names.Categories);
        Assert.Equal("WidgetList", crd.Spec.Names.ListKind);
        Assert.NotNull(v1.Subresources.Status);
        Assert.Equal(".spec.replicas", v1.Subresources.Scale.SpecReplicasPath);
        Assert.Null(crd.Spec.Versions[1].Subresources);
        Assert.Equal(["Size", "Ready", "Age", "Colour"], v1.AdditionalPrinterColumns.Select(c => c.Name));
        Assert.Equal(1, v1.AdditionalPrinterColumns[3].Priority);
    }

    [Fact]
    public void A_cel_rule_on_a_class_and_on_a_property_lands_on_the_right_nodes()
    {
        var spec = Spec();

        var classRule = Assert.Single(spec.XKubernetesValidations);
        Assert.Equal("!has(self.replicas) || !has(self.weight)", classRule.Rule);
        Assert.Equal("'weight' is not supported with replicas", classRule.Message);

        var nameRules = spec.Properties["name"].XKubernetesValidations;
        Assert.Equal(2, nameRules.Count);
        Assert.Equal("FieldValueRequired", nameRules[0].Reason);
        Assert.Equal(".name", nameRules[0].FieldPath);
        Assert.Equal("'name is immutable, was ' + oldSelf", nameRules[1].MessageExpression);
        Assert.True(nameRules[1].OptionalOldSelf);
    }

    [Fact]
    public void Bounds_defaults_enums_and_formats_are_emitted()
    {
        var spec = Spec();

        Assert.Equal(["size"], spec.Required);
        Assert.Equal(1, spec.Properties["size"].Minimum);
        Assert.Equal(100, spec.Properties["size"].Maximum);
        Assert.True(spec.Properties["size"].ExclusiveMaximum);
        Assert.Equal("int32", spec.Properties["size"].Format);
        Assert.Equal("int64", spec.Properties["replicas"].Format);
        Assert.Equal(["red", "deep-blue"], spec.Properties["colour"].EnumProperty);
        Assert.Equal("deep-blue", spec.Properties["colour"].DefaultProperty);
        Assert.Equal("720h", spec.Properties["expireAfter"].DefaultProperty);
        Assert.Equal(20, spec.Properties["labels"].MaxProperties);
        var labelValues = (V1JSONSchemaProps)spec.Properties["labels"].AdditionalProperties;
        Assert.Equal(63, labelValues.MaxLength);
        Assert.Equal("^[a-z]*$", labelValues.Pattern);
        Assert.True(spec.Properties["deadline"].Nullable);
        Assert.Null(spec.Properties["expireAfter"].Nullable);
        Assert.False(spec.Properties.ContainsKey("computed"));
        Assert.False(spec.Properties.ContainsKey("hidden"));
    }

    [Fact]
    public void Quantities_are_int_or_string_with_the_quantity_pattern_unless_overridden()
    {
        var spec = Spec();

        var limit = (V1JSONSchemaProps)spec.Properties["limits"].AdditionalProperties;
        Assert.True(limit.XKubernetesIntOrString);
        Assert.Null(limit.Type);
        Assert.Equal(SchemaBuilder.QuantityPattern, limit.Pattern);
        Assert.Equal(["integer", "string"], limit.AnyOf.Select(a => a.Type));

        Assert.Equal("string", spec.Properties["volumeSize"].Type);
        Assert.Null(spec.Properties["volumeSize"].XKubernetesIntOrString);
        Assert.Equal("^[0-9]+Gi$", spec.Properties["volumeSize"].Pattern);
    }

    [Fact]
    public void Conditions_get_the_metav1_schema_strict_or_relaxed()
    {
        var status = Widgets().Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["status"];

        var strict = (V1JSONSchemaProps)status.Properties["conditions"].Items;
        Assert.Equal(["lastTransitionTime", "message", "reason", "status", "type"], strict.Required);
        Assert.Equal("map", status.Properties["conditions"].XKubernetesListType);
        Assert.Equal(["type"], status.Properties["conditions"].XKubernetesListMapKeys);

        var relaxed = (V1JSONSchemaProps)status.Properties["looseConditions"].Items;
        Assert.Equal(["lastTransitionTime", "status", "type"], relaxed.Required);
    }

    [Fact]
    public void Descriptions_come_from_xml_docs_unless_an_attribute_gives_one()
    {
        var schema = Widgets().Spec.Versions[0].Schema.OpenAPIV3Schema;
        var spec = schema.Properties["spec"];

        Assert.Equal("Widget is a sample kind that exercises every schema attribute.", schema.Description);
        Assert.Equal(
            "WidgetSpec is the desired state of a Widget.\nIt spans two paragraphs, with inline code and a V1Widget reference.",
            spec.Description);
        Assert.Equal("Size of the widget.", spec.Properties["size"].Description);
        Assert.Equal("An explicit description wins over the XML summary.", spec.Properties["expireAfter"].Description);
        Assert.Equal("WidgetPart is one part of a widget.", ((V1JSONSchemaProps)spec.Properties["parts"].Items).Description);
    }

    [Fact]
    public void A_recursive_type_is_refused_with_the_cycle_named()
    {
        var error = Assert.Throws<NotSupportedException>(() => Generator.Generate(typeof(V1Tree)));

        Assert.Contains("TreeNode -> TreeNode", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_versions_without_exactly_one_storage_version_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Generator.Generate(typeof(V1Beta1Widget), typeof(V1Beta1Widget)));

        Assert.Contains("twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GenerateAll_groups_versions_by_kind()
    {
        var crds = Generator.GenerateAll([typeof(V1Widget), typeof(V1Alpha1Gadget), typeof(V1Beta1Widget)]);

        Assert.Equal(["gadgets.example.com", "widgets.example.com"], crds.Select(c => c.Metadata.Name));
        Assert.Equal(2, crds[1].Spec.Versions.Count);
    }

    [Fact]
    public void The_yaml_reads_back_as_the_same_crd()
    {
        var yaml = ManifestYaml.Serialize(Widgets());

        var back = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(yaml);

        Assert.Equal(ManifestYaml.Serialize(back), yaml);
    }

    [Theory]
    [InlineData("v1", "v1beta1", 1)]
    [InlineData("v1beta2", "v1beta1", 1)]
    [InlineData("v1beta1", "v1alpha1", 1)]
    [InlineData("v2", "v1", 1)]
    [InlineData("v1alpha1", "v1", -1)]
    [InlineData("v1", "foo", 1)]
    public void Kubernetes_versions_order_ga_above_beta_above_alpha(string x, string y, int sign)
    {
        Assert.Equal(sign, Math.Sign(KubernetesVersionComparer.Instance.Compare(x, y)));
    }
}
