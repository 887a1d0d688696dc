using k8s;
using Karpenter.Kube.Entities;
using Karpenter.Tests.Kube.Generation.Samples;

namespace Karpenter.Tests.Kube.Entities;

public sealed class CustomKubernetesEntityTests
{
    [Fact]
    public void A_new_entity_knows_its_api_version_and_kind()
    {
        var widget = new V1Widget();

        Assert.Equal("example.com/v1", widget.ApiVersion);
        Assert.Equal("Widget", widget.Kind);
        Assert.NotNull(widget.Metadata);
        Assert.NotNull(widget.Spec);
        Assert.NotNull(widget.Status);
    }

    [Fact]
    public void Entity_metadata_names_the_resource()
    {
        var meta = EntityMetadata.Of<V1Beta1Widget>();

        Assert.Equal("example.com/v1beta1", meta.ApiVersion);
        Assert.Equal("widgets.example.com", meta.CrdName);
        Assert.Equal("widget", meta.Singular);
        Assert.Equal("example.com/v1beta1/Widget", meta.TypeMapKey);
    }

    [Fact]
    public void A_type_without_the_entity_attribute_is_refused()
    {
        Assert.Throws<ArgumentException>(() => EntityMetadata.Of<WidgetPart>());
    }

    [Fact]
    public void Entities_round_trip_through_json_and_yaml_with_enum_names()
    {
        var widget = new V1Widget { Spec = { Size = 3, Colour = WidgetColour.DeepBlue, Accents = [WidgetColour.Red] } };
        widget.Metadata.Name = "w";

        var json = KubernetesJson.Serialize(widget);
        var fromJson = KubernetesJson.Deserialize<V1Widget>(json);
        var yaml = KubernetesYaml.Serialize(widget);
        var fromYaml = KubernetesYaml.Deserialize<V1Widget>(yaml);

        Assert.Contains("\"colour\":\"deep-blue\"", json, StringComparison.Ordinal);
        Assert.Contains("colour: deep-blue", yaml, StringComparison.Ordinal);
        Assert.Equal(WidgetColour.DeepBlue, fromJson.Spec.Colour);
        Assert.Equal(WidgetColour.DeepBlue, fromYaml.Spec.Colour);
        Assert.Equal("w", fromYaml.Metadata.Name);
        Assert.Equal("example.com/v1", fromYaml.ApiVersion);
    }

    [Fact]
    public void A_list_has_the_list_kind()
    {
        var list = new CustomKubernetesList<V1Widget>();

        Assert.Equal("WidgetList", list.Kind);
        Assert.Equal("example.com/v1", list.ApiVersion);
    }
}
