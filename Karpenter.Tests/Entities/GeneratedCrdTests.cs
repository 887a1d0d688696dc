using Karpenter.Entities;
using Karpenter.Kube.Generation;

namespace Karpenter.Tests.Entities;

public sealed class GeneratedCrdTests
{
    private static readonly IReadOnlyList<k8s.Models.V1CustomResourceDefinition> Crds =
        new CrdGenerator(new CrdGeneratorOptions { ConversionService = new WebhookService("karpenter", "karpenter") }).GenerateAll(KarpenterApi.EntityTypes);

    [Fact]
    public void There_is_one_crd_per_kind_with_v1_stored()
    {
        Assert.Equal(["ec2nodeclasses.karpenter.k8s.aws", "nodeclaims.karpenter.sh", "nodepools.karpenter.sh"], Crds.Select(c => c.Metadata.Name));
        Assert.All(Crds, c => Assert.Equal("v1", Assert.Single(c.Spec.Versions, v => v.Storage).Name));
        Assert.All(Crds, c => Assert.Equal(["karpenter"], c.Spec.Names.Categories));
        Assert.All(Crds, c => Assert.Equal("Cluster", c.Spec.Scope));
    }

    [Fact]
    public void NodePool_and_EC2NodeClass_serve_v1beta1_through_the_conversion_webhook()
    {
        foreach (var name in new[] { "nodepools.karpenter.sh", "ec2nodeclasses.karpenter.k8s.aws" })
        {
            var crd = Crds.Single(c => c.Metadata.Name == name);
            Assert.Equal(["v1", "v1beta1"], crd.Spec.Versions.Select(v => v.Name));
            Assert.All(crd.Spec.Versions, v => Assert.True(v.Served));
            Assert.Equal("Webhook", crd.Spec.Conversion.Strategy);
        }

        Assert.Null(Crds.Single(c => c.Metadata.Name == "nodeclaims.karpenter.sh").Spec.Conversion);
    }

    [Fact]
    public void Every_generated_schema_is_structural()
    {
        foreach (var version in Crds.SelectMany(c => c.Spec.Versions))
        {
            Assert.Empty(StructuralSchema.Violations(version.Schema.OpenAPIV3Schema));
        }
    }

    [Fact]
    public void NodePool_has_upstreams_printer_columns_and_scale_subresource()
    {
        var v1 = Crds.Single(c => c.Metadata.Name == "nodepools.karpenter.sh").Spec.Versions[0];

        Assert.Equal(["NodeClass", "Nodes", "Ready", "Age", "Weight", "CPU", "Memory"], v1.AdditionalPrinterColumns.Select(c => c.Name));
        Assert.Equal(".spec.replicas", v1.Subresources.Scale.SpecReplicasPath);
        Assert.Equal(".status.nodes", v1.Subresources.Scale.StatusReplicasPath);
        Assert.Equal(["ec2nc", "ec2ncs"], Crds.Single(c => c.Metadata.Name == "ec2nodeclasses.karpenter.k8s.aws").Spec.Names.ShortNames);
    }
}
