using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Tests.Kube.Client;

public sealed class SelectorTests
{
    [Theory]
    [InlineData("app=web", "app=web")]
    [InlineData("app==web", "app=web")]
    [InlineData(" tier != db , app = web ", "app=web,tier!=db")]
    [InlineData("env in (prod, dev),!legacy", "env in (dev,prod),!legacy")]
    [InlineData("env notin (a,b)", "env notin (a,b)")]
    [InlineData("karpenter.sh/nodepool", "karpenter.sh/nodepool")]
    [InlineData("count>3,count<10", "count>3,count<10")]
    [InlineData("k=", "k=")]
    public void Label_selectors_parse_into_the_canonical_form(string text, string canonical)
    {
        Assert.Equal(canonical, LabelSelector.Parse(text).ToString());
        Assert.Equal(canonical, LabelSelector.Parse(canonical).ToString());
    }

    [Theory]
    [InlineData("app=web,", "expected a key")]
    [InlineData("app in prod", "expected '('")]
    [InlineData("app=we b", "expected ','")]
    [InlineData("Bad_Prefix.com/x=y", "prefix part")]
    [InlineData("app=-bad-", "invalid label value")]
    [InlineData("n>abc", "integer")]
    [InlineData("app foo (x)", "found 'foo'")]
    public void Invalid_label_selectors_are_refused_with_the_reason(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => LabelSelector.Parse(text));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.False(LabelSelector.TryParse(text, out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void Label_selectors_match_like_the_api_server()
    {
        var labels = new Dictionary<string, string> { ["app"] = "web", ["n"] = "5" };

        Assert.True(LabelSelector.Parse("app=web").Matches(labels));
        Assert.False(LabelSelector.Parse("app=db").Matches(labels));
        Assert.True(LabelSelector.Parse("tier!=db").Matches(labels)); // != matches objects without the key
        Assert.True(LabelSelector.Parse("tier notin (db)").Matches(labels));
        Assert.False(LabelSelector.Parse("tier in (db)").Matches(labels));
        Assert.True(LabelSelector.Parse("app,!tier").Matches(labels));
        Assert.True(LabelSelector.Parse("n>4,n<6").Matches(labels));
        Assert.False(LabelSelector.Parse("app>4").Matches(labels)); // non-integer value never matches
        Assert.True(LabelSelector.Everything.Matches(null));
        Assert.False(LabelSelector.Nothing.Matches(labels));
    }

    [Fact]
    public void A_V1LabelSelector_converts_with_null_meaning_nothing_and_empty_meaning_everything()
    {
        var selector = LabelSelector.FromV1(new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["app"] = "web" },
            MatchExpressions = [new V1LabelSelectorRequirement { Key = "zone", OperatorProperty = "In", Values = ["a", "b"] }, new V1LabelSelectorRequirement { Key = "legacy", OperatorProperty = "DoesNotExist" }],
        });

        Assert.Equal("app=web,!legacy,zone in (a,b)", selector.ToString());
        Assert.True(LabelSelector.FromV1(null).IsNothing);
        Assert.True(LabelSelector.FromV1(new V1LabelSelector()).IsEverything);
        Assert.Throws<FormatException>(() => LabelSelector.FromV1(new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "a", OperatorProperty = "Gt", Values = ["1"] }] }));
    }

    [Fact]
    public void Label_selectors_build_in_code()
    {
        var selector = LabelSelector.Everything.Exists("karpenter.sh/nodepool").NotIn("karpenter.sh/capacity-type", "spot").Equal("a", "b");

        Assert.Equal("a=b,karpenter.sh/capacity-type notin (spot),karpenter.sh/nodepool", selector.ToString());
        Assert.Equal(selector.ToString(), LabelSelector.Parse(selector.ToString()).ToString());
    }

    [Fact]
    public void Field_selectors_escape_and_parse_round_trip()
    {
        var selector = FieldSelector.OneTermEqual("spec.nodeName", "node-1").NotEqual("metadata.name", "a,b=c\\d");

        Assert.Equal(@"spec.nodeName=node-1,metadata.name!=a\,b\=c\\d", selector.ToString());
        var parsed = FieldSelector.Parse(selector.ToString());
        Assert.Equal(selector.Requirements, parsed.Requirements);
    }

    [Fact]
    public void Field_selectors_allow_an_empty_value_and_double_equals()
    {
        var parsed = FieldSelector.Parse("spec.nodeName=,status.phase==Running");

        Assert.Equal([new FieldRequirement("spec.nodeName", true, ""), new FieldRequirement("status.phase", true, "Running")], parsed.Requirements);
        Assert.True(parsed.Matches(f => f == "status.phase" ? "Running" : null));
        Assert.False(parsed.Matches(f => f == "spec.nodeName" ? "n1" : "Running"));
    }

    [Theory]
    [InlineData("spec.nodeName")]
    [InlineData("a=b=c")]
    [InlineData(@"a=b\x")]
    [InlineData("=x")]
    public void Invalid_field_selectors_are_refused(string text) =>
        Assert.Throws<FormatException>(() => FieldSelector.Parse(text));
}
