using Karpenter.Kube.Entities;
using Karpenter.Kube.Generation;
using Karpenter.Tests.Kube.Generation.Samples;

namespace Karpenter.Tests.Kube.Generation;

public sealed class RbacGeneratorTests
{
    [EntityRbac(typeof(V1Widget), Verbs = RbacVerbs.Read)]
    [EntityRbac(typeof(V1Widget), Verbs = RbacVerbs.Patch | RbacVerbs.Update, Subresource = "status")]
    [GenericRbac(Groups = [""], Resources = ["nodes"], Verbs = RbacVerbs.Read | RbacVerbs.Patch)]
    private sealed class WidgetController;

    [EntityRbac(typeof(V1Widget), Verbs = RbacVerbs.Get | RbacVerbs.Delete)]
    [EntityRbac(typeof(V1Alpha1Gadget), Verbs = RbacVerbs.Read)]
    [GenericRbac(Groups = [""], Resources = ["pods/eviction"], Verbs = RbacVerbs.Create)]
    [GenericRbac(Groups = [""], Resources = ["configmaps"], ResourceNames = ["settings"], Verbs = RbacVerbs.Get, Scope = RbacScope.Namespace)]
    [GenericRbac(NonResourceUrls = ["/metrics"], Verbs = RbacVerbs.Get)]
    private sealed class GarbageCollector;

    private static RbacManifests Generate(RbacGeneratorOptions? options = null) =>
        new RbacGenerator(options).Generate([typeof(WidgetController), typeof(GarbageCollector)]);

    [Fact]
    public void Rbac_matches_its_golden_file()
    {
        GoldenFile.ExpectMatches("Golden/rbac.yaml", ManifestYaml.SerializeAll(Generate().All));
    }

    [Fact]
    public void Verbs_for_one_resource_from_several_classes_are_merged_into_one_rule()
    {
        var rules = Generate().ClusterRole.Rules;

        var widgets = Assert.Single(rules, r => r.Resources?.Contains("widgets") == true);
        Assert.Equal(["get", "list", "watch", "delete"], widgets.Verbs);
        Assert.Equal(["example.com"], widgets.ApiGroups);
    }

    [Fact]
    public void Resources_with_the_same_group_and_verbs_share_a_rule()
    {
        var rules = Generate().ClusterRole.Rules;

        var gadgets = Assert.Single(rules, r => r.Resources?.Contains("gadgets") == true);
        Assert.Equal(["gadgets"], gadgets.Resources);
        var status = Assert.Single(rules, r => r.Resources?.Contains("widgets/status") == true);
        Assert.Equal(["update", "patch"], status.Verbs);
    }

    [Fact]
    public void The_leader_election_lease_is_granted_in_the_namespace_and_held_only_by_name()
    {
        var role = Generate().Role;

        var byName = Assert.Single(role.Rules, r => r.ResourceNames?.Contains("karpenter-leader-election") == true);
        Assert.Equal(["update", "patch"], byName.Verbs);
        var create = Assert.Single(role.Rules, r => r.Resources?.Contains("leases") == true && r.ResourceNames is null);
        Assert.Equal(["get", "watch", "create"], create.Verbs);
        Assert.Contains(role.Rules, r => r.ResourceNames?.Contains("settings") == true);
        Assert.DoesNotContain(Generate().ClusterRole.Rules, r => r.Resources?.Contains("leases") == true);
    }

    [Fact]
    public void Bindings_tie_the_roles_to_the_service_account()
    {
        var rbac = Generate(new RbacGeneratorOptions { Name = "op", Namespace = "ops", LeaderElectionLease = null, RecordEvents = false });

        Assert.Equal("op", rbac.ServiceAccount.Metadata.Name);
        Assert.Equal("ops", rbac.ServiceAccount.Metadata.NamespaceProperty);
        Assert.Equal("op", rbac.ClusterRoleBinding.RoleRef.Name);
        Assert.Equal("ClusterRole", rbac.ClusterRoleBinding.RoleRef.Kind);
        Assert.Equal("ops", Assert.Single(rbac.RoleBinding.Subjects).NamespaceProperty);
        Assert.DoesNotContain(rbac.Role.Rules, r => r.Resources?.Contains("leases") == true);
        Assert.DoesNotContain(rbac.ClusterRole.Rules, r => r.Resources?.Contains("events") == true);
        Assert.Contains(rbac.ClusterRole.Rules, r => r.NonResourceURLs?.Contains("/metrics") == true);
    }
}
