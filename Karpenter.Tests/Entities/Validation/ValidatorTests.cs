using System.Text.Json.Nodes;
using FluentValidation;
using FluentValidation.Results;
using k8s;
using Karpenter.Entities;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.Validation;
using Karpenter.Kube.Entities;

namespace Karpenter.Tests.Entities.Validation;

public sealed class ValidatorTests
{
    private static readonly NodePoolValidator NodePools = new();
    private static readonly NodeClaimValidator NodeClaims = new();
    private static readonly EC2NodeClassValidator NodeClasses = new();

    public static TheoryData<InvalidManifest> CelAndWebhookCases => new(InvalidManifests.All.Where(c => c.By != RefusedBy.Schema));

    public static TheoryData<InvalidManifest> SchemaCases => new(InvalidManifests.All.Where(c => c.By == RefusedBy.Schema));

    public static TheoryData<string> Examples => new(EntitiesTestPaths.ExampleFiles().Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_manifest_is_valid_without_warnings(string file)
    {
        foreach (var obj in KarpenterApi.LoadYaml(File.ReadAllText(Path.Combine(EntitiesTestPaths.Examples, file))))
        {
            var result = Validate(obj, old: null);

            Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors.Select(e => e.ErrorMessage)));
        }
    }

    [Theory]
    [InlineData("NodePool")]
    [InlineData("NodeClaim")]
    [InlineData("EC2NodeClass")]
    public void The_base_objects_of_the_invalid_manifests_are_valid(string kind)
    {
        var result = Validate(Typed(InvalidManifests.Base(kind)), Typed(InvalidManifests.Base(kind)));

        Assert.True(result.IsValid, string.Join("\n", result.Errors.Select(e => e.ErrorMessage)));
    }

    [Theory]
    [MemberData(nameof(CelAndWebhookCases))]
    public void Every_cel_rule_and_webhook_check_refuses_its_manifest_with_the_field_and_reason(InvalidManifest manifest)
    {
        var result = Validate(Typed(manifest.Build()), manifest.BuildOld() is { } old ? Typed(old) : null);

        var errors = result.Errors.Where(e => e.Severity == Severity.Error).Select(e => e.ErrorMessage).ToList();
        Assert.True(errors.Any(e => e.Contains(manifest.Expected, StringComparison.Ordinal)),
            $"expected: {manifest.Expected}\ngot:\n  {string.Join("\n  ", errors)}");
    }

    [Theory]
    [MemberData(nameof(SchemaCases))]
    public void Every_bound_is_refused_by_the_webhook_too_unless_the_typed_object_cannot_carry_it(InvalidManifest manifest)
    {
        CustomKubernetesEntity typed;
        try
        {
            typed = Typed(manifest.Build());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
        {
            // An out-of-enum value or a malformed quantity does not decode: the webhook host refuses the request as
            // undecodable, naming the path (the API server's schema has refused it before the webhook is called).
            return;
        }

        var errors = Validate(typed, manifest.BuildOld() is { } old ? Typed(old) : null).Errors.Select(e => e.ErrorMessage).ToList();
        if (LostWhenTyped.Contains(manifest.Name))
        {
            return;
        }

        Assert.True(errors.Any(e => e.Contains(manifest.Expected, StringComparison.Ordinal)),
            $"expected: {manifest.Expected}\ngot:\n  {string.Join("\n  ", errors)}");
    }

    /// <summary>
    /// Absent required fields whose C# property has a default the typed object serializes: the webhook sees the
    /// default. Only the API server's schema (which runs before any webhook, CEL or not) reports these.
    /// </summary>
    private static readonly HashSet<string> LostWhenTyped = new(StringComparer.Ordinal)
    {
        "consolidateAfter missing", "template missing", "requirements missing", "nodeClassRef missing",
        "NodePool: operator missing", "NodeClaim: operator missing", "NodePool: taint effect missing", "NodeClaim: taint effect missing",
        "subnet terms missing", "network card index missing",
    };

    [Fact]
    public void Capacity_types_karpenter_does_not_know_are_admitted_with_a_warning()
    {
        var pool = (NodePool)Typed(InvalidManifests.Base("NodePool"));
        pool.Spec.Template.Spec.Requirements[0].Values = ["spot", "preemptible"];

        var result = NodePools.Validate(pool, null);

        var warning = Assert.Single(result.Errors);
        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Contains("\"preemptible\"", warning.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Well_known_labels_and_their_deprecated_spellings_are_allowed_as_requirement_keys()
    {
        var pool = (NodePool)Typed(InvalidManifests.Base("NodePool"));
        pool.Spec.Template.Spec.Requirements =
        [
            new NodePoolRequirement { Key = "beta.kubernetes.io/arch", Operator = "In", Values = ["arm64"] },
            new NodePoolRequirement { Key = "node.kubernetes.io/instance-type", Operator = "In", Values = ["m7g.large"] },
            new NodePoolRequirement { Key = "topology.k8s.aws/zone-id", Operator = "Exists" },
            new NodePoolRequirement { Key = "example.com/team", Operator = "In", Values = ["a"] },
            new NodePoolRequirement { Key = "node-restriction.kubernetes.io/pool", Operator = "Exists" },
        ];

        Assert.True(NodePools.Validate(pool, null).IsValid);
    }

    [Fact]
    public void The_restricted_label_message_names_the_allowed_labels_and_the_restricted_domains()
    {
        var message = RestrictedLabels.Check("foo.k8s.io/bar");

        Assert.NotNull(message);
        Assert.Contains("karpenter.k8s.aws/instance-family", message, StringComparison.Ordinal);
        Assert.Contains("[k8s.io karpenter.k8s.aws karpenter.sh kubernetes.io]", message, StringComparison.Ordinal);
        Assert.Null(RestrictedLabels.Check("kops.k8s.io/instancegroup"));
    }

    [Fact]
    public void A_nodeclaim_may_carry_the_nodepool_label_a_nodepool_may_not()
    {
        var claim = (NodeClaim)Typed(InvalidManifests.Base("NodeClaim"));

        Assert.True(NodeClaims.Validate(claim, null).IsValid);
        Assert.Contains(RequirementRules.KeyRuleFailures("karpenter.sh/nodepool", nodePoolKeyAllowed: false), m => m.Contains("nodepool", StringComparison.Ordinal));
    }

    private static CustomKubernetesEntity Typed(JsonObject obj) => obj["kind"]!.GetValue<string>() switch
    {
        "NodePool" => KubernetesJson.Deserialize<NodePool>(obj.ToJsonString()),
        "NodeClaim" => KubernetesJson.Deserialize<NodeClaim>(obj.ToJsonString()),
        "EC2NodeClass" => KubernetesJson.Deserialize<EC2NodeClass>(obj.ToJsonString()),
        var kind => throw new ArgumentException(kind),
    };

    private static ValidationResult Validate(object entity, object? old) => entity switch
    {
        NodePool p => NodePools.Validate(p, (NodePool?)old),
        NodeClaim c => NodeClaims.Validate(c, (NodeClaim?)old),
        EC2NodeClass n => NodeClasses.Validate(n, (EC2NodeClass?)old),
        _ => throw new ArgumentException(entity.GetType().Name),
    };
}
