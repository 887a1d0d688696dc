using System.Reflection;
using k8s.Models;
using Karpenter.Kube.Entities;

namespace Karpenter.Kube.Generation;

/// <summary>Options of <see cref="RbacGenerator"/>.</summary>
public sealed record RbacGeneratorOptions
{
    /// <summary>The name of the ServiceAccount, roles and bindings.</summary>
    public string Name { get; init; } = "karpenter";

    /// <summary>The namespace the operator runs in (of the ServiceAccount, the Role and the RoleBinding).</summary>
    public string Namespace { get; init; } = "karpenter";

    /// <summary>When set, the Role lets the operator hold this leader-election Lease.</summary>
    public string? LeaderElectionLease { get; init; } = "karpenter-leader-election";

    /// <summary>
    /// Lets the operator record events cluster-wide (it records them on pods and nodes in every namespace), in both
    /// <c>events.k8s.io</c> and the core group.
    /// </summary>
    public bool RecordEvents { get; init; } = true;
}

/// <summary>The ServiceAccount, ClusterRole, ClusterRoleBinding, Role and RoleBinding of the operator.</summary>
public sealed record RbacManifests(
    V1ServiceAccount ServiceAccount,
    V1ClusterRole ClusterRole,
    V1ClusterRoleBinding ClusterRoleBinding,
    V1Role Role,
    V1RoleBinding RoleBinding)
{
    public IEnumerable<object> All => [ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding];
}

/// <summary>
/// Aggregates <see cref="EntityRbacAttribute"/> and <see cref="GenericRbacAttribute"/> declarations, from the
/// classes (or assemblies) that need the access, into one ClusterRole and one namespaced Role, with rules merged per
/// resource and grouped by verbs.
/// </summary>
public sealed class RbacGenerator(RbacGeneratorOptions? options = null)
{
    private readonly RbacGeneratorOptions _options = options ?? new RbacGeneratorOptions();

    public RbacManifests Generate(IEnumerable<ICustomAttributeProvider> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var grants = new List<Grant>();
        foreach (var source in sources)
        {
            foreach (var entity in source.GetCustomAttributes(typeof(EntityRbacAttribute), inherit: false).Cast<EntityRbacAttribute>())
            {
                foreach (var type in entity.Entities)
                {
                    var meta = EntityMetadata.Of(type);
                    var resource = entity.Subresource is null ? meta.Plural : $"{meta.Plural}/{entity.Subresource}";
                    grants.Add(new Grant(entity.Scope, meta.Group, resource, null, null, entity.Verbs));
                }
            }

            foreach (var generic in source.GetCustomAttributes(typeof(GenericRbacAttribute), inherit: false).Cast<GenericRbacAttribute>())
            {
                foreach (var url in generic.NonResourceUrls)
                {
                    grants.Add(new Grant(RbacScope.Cluster, null, null, null, url, generic.Verbs));
                }

                foreach (var group in generic.Groups)
                {
                    foreach (var resource in generic.Resources)
                    {
                        if (generic.ResourceNames.Length == 0)
                        {
                            grants.Add(new Grant(generic.Scope, group, resource, null, null, generic.Verbs));
                        }

                        foreach (var resourceName in generic.ResourceNames)
                        {
                            grants.Add(new Grant(generic.Scope, group, resource, resourceName, null, generic.Verbs));
                        }
                    }
                }
            }
        }

        if (_options.LeaderElectionLease is { } lease)
        {
            // Creating a Lease cannot be limited by name; holding it can.
            grants.Add(new Grant(RbacScope.Namespace, "coordination.k8s.io", "leases", null, null, RbacVerbs.Get | RbacVerbs.Watch | RbacVerbs.Create));
            grants.Add(new Grant(RbacScope.Namespace, "coordination.k8s.io", "leases", lease, null, RbacVerbs.Patch | RbacVerbs.Update));
        }

        if (_options.RecordEvents)
        {
            grants.Add(new Grant(RbacScope.Cluster, "events.k8s.io", "events", null, null, RbacVerbs.Create | RbacVerbs.Patch));
            grants.Add(new Grant(RbacScope.Cluster, string.Empty, "events", null, null, RbacVerbs.Create | RbacVerbs.Patch));
        }

        var name = _options.Name;
        var ns = _options.Namespace;
        var subject = new Rbacv1Subject { Kind = "ServiceAccount", Name = name, NamespaceProperty = ns };
        return new RbacManifests(
            new V1ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns } },
            new V1ClusterRole
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "ClusterRole",
                Metadata = new V1ObjectMeta { Name = name },
                Rules = Rules(grants.Where(g => g.Scope == RbacScope.Cluster)),
            },
            new V1ClusterRoleBinding
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "ClusterRoleBinding",
                Metadata = new V1ObjectMeta { Name = name },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = name },
                Subjects = [subject],
            },
            new V1Role
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "Role",
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
                Rules = Rules(grants.Where(g => g.Scope == RbacScope.Namespace)),
            },
            new V1RoleBinding
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "RoleBinding",
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = name },
                Subjects = [subject],
            });
    }

    /// <summary>Verbs are unioned per (group, resource, name); then resources with equal verbs share one rule.</summary>
    private static List<V1PolicyRule> Rules(IEnumerable<Grant> grants)
    {
        var merged = grants
            .Where(g => g.Verbs != RbacVerbs.None)
            .GroupBy(g => (g.Group, g.Resource, g.ResourceName, g.Url))
            .Select(g => g.First() with { Verbs = g.Aggregate(RbacVerbs.None, (v, x) => v | x.Verbs) })
            .ToList();

        var rules = new List<V1PolicyRule>();
        rules.AddRange(merged
            .Where(g => g.Url is not null)
            .GroupBy(g => g.Verbs)
            .Select(g => new V1PolicyRule
            {
                NonResourceURLs = g.Select(x => x.Url!).Order(StringComparer.Ordinal).ToList(),
                Verbs = VerbNames(g.Key),
            }));
        rules.AddRange(merged
            .Where(g => g.Url is null)
            .GroupBy(g => (g.Group, g.ResourceName, g.Verbs))
            .Select(g => new V1PolicyRule
            {
                ApiGroups = [g.Key.Group!],
                Resources = g.Select(x => x.Resource!).Order(StringComparer.Ordinal).ToList(),
                ResourceNames = g.Key.ResourceName is null ? null : [g.Key.ResourceName],
                Verbs = VerbNames(g.Key.Verbs),
            }));

        return rules
            .OrderBy(r => r.ApiGroups?[0] ?? "~", StringComparer.Ordinal)
            .ThenBy(r => string.Join(",", r.Resources ?? r.NonResourceURLs), StringComparer.Ordinal)
            .ThenBy(r => r.ResourceNames?[0] ?? string.Empty, StringComparer.Ordinal)
            .ToList();
    }

    private static List<string> VerbNames(RbacVerbs verbs)
    {
        var names = new List<string>();
        foreach (var (flag, name) in new[]
                 {
                     (RbacVerbs.Get, "get"), (RbacVerbs.List, "list"), (RbacVerbs.Watch, "watch"), (RbacVerbs.Create, "create"),
                     (RbacVerbs.Update, "update"), (RbacVerbs.Patch, "patch"), (RbacVerbs.Delete, "delete"),
                     (RbacVerbs.DeleteCollection, "deletecollection"),
                 })
        {
            if (verbs.HasFlag(flag))
            {
                names.Add(name);
            }
        }

        return names;
    }

    private sealed record Grant(RbacScope Scope, string? Group, string? Resource, string? ResourceName, string? Url, RbacVerbs Verbs);
}
