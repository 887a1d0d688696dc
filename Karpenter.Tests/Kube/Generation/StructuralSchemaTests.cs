using k8s.Models;
using Karpenter.Kube.Generation;

namespace Karpenter.Tests.Kube.Generation;

public sealed class StructuralSchemaTests
{
    private static V1JSONSchemaProps Root(string name, V1JSONSchemaProps property) => new()
    {
        Type = "object",
        Properties = new Dictionary<string, V1JSONSchemaProps> { [name] = property },
    };

    [Fact]
    public void A_node_without_a_type_is_reported_with_its_path()
    {
        var violations = StructuralSchema.Violations(Root("spec", new V1JSONSchemaProps { Description = "no type" }));

        Assert.Contains("openAPIV3Schema.properties[spec]: type is required (unless x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields)", violations);
    }

    [Fact]
    public void A_ref_is_reported()
    {
        var violations = StructuralSchema.Violations(Root("spec", new V1JSONSchemaProps { Type = "object", RefProperty = "#/definitions/x" }));

        Assert.Contains(violations, v => v.Contains("$ref", StringComparison.Ordinal));
    }

    [Fact]
    public void A_type_inside_anyOf_is_reported_unless_it_is_int_or_string()
    {
        var bad = StructuralSchema.Violations(Root("x", new V1JSONSchemaProps { Type = "string", AnyOf = [new V1JSONSchemaProps { Type = "string" }] }));
        var good = StructuralSchema.Violations(Root("x", new V1JSONSchemaProps
        {
            XKubernetesIntOrString = true,
            AnyOf = [new V1JSONSchemaProps { Type = "integer" }, new V1JSONSchemaProps { Type = "string" }],
        }));

        Assert.Contains(bad, v => v.Contains("anyOf", StringComparison.Ordinal));
        Assert.Empty(good);
    }

    [Fact]
    public void A_map_list_whose_key_is_optional_is_reported()
    {
        var violations = StructuralSchema.Violations(Root("items", new V1JSONSchemaProps
        {
            Type = "array",
            XKubernetesListType = "map",
            XKubernetesListMapKeys = ["name"],
            Items = new V1JSONSchemaProps { Type = "object", Properties = new Dictionary<string, V1JSONSchemaProps> { ["name"] = new() { Type = "string" } } },
        }));

        Assert.Contains(violations, v => v.Contains("map key 'name' must be required or defaulted", StringComparison.Ordinal));
    }

    [Fact]
    public void A_multi_line_rule_message_is_reported()
    {
        var violations = StructuralSchema.Violations(Root("x", new V1JSONSchemaProps
        {
            Type = "string",
            XKubernetesValidations = [new V1ValidationRule { Rule = "self != ''", Message = "two\nlines" }],
        }));

        Assert.Contains(violations, v => v.Contains("one line", StringComparison.Ordinal));
    }
}
