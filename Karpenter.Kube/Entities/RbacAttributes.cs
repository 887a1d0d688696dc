namespace Karpenter.Kube.Entities;

/// <summary>Kubernetes RBAC verbs, combinable.</summary>
[Flags]
public enum RbacVerbs
{
    None = 0,
    Get = 1,
    List = 2,
    Watch = 4,
    Create = 8,
    Update = 16,
    Patch = 32,
    Delete = 64,
    DeleteCollection = 128,

    /// <summary>Get, list and watch: what an informer needs.</summary>
    Read = Get | List | Watch,

    /// <summary>Every verb, written out one by one rather than as <c>*</c>.</summary>
    All = Read | Create | Update | Patch | Delete | DeleteCollection,
}

/// <summary>Where a permission is granted.</summary>
public enum RbacScope
{
    /// <summary>In the operator's ClusterRole.</summary>
    Cluster,

    /// <summary>In the operator's Role, in its own namespace (leases, its own events).</summary>
    Namespace,
}

/// <summary>
/// Declares, on the class (or assembly) that needs it, access to entity types; the RBAC generator aggregates every
/// such declaration into the operator's roles.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class EntityRbacAttribute(params Type[] entities) : Attribute
{
    public IReadOnlyList<Type> Entities { get; } = entities;

    public RbacVerbs Verbs { get; init; }

    /// <summary>A subresource such as <c>status</c>, <c>scale</c>, or <c>eviction</c>.</summary>
    public string? Subresource { get; init; }

    public RbacScope Scope { get; init; }
}

/// <summary>Declares access to resources that have no entity type here (built-in kinds, subresources, URLs).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class GenericRbacAttribute : Attribute
{
    /// <summary>API groups; <c>""</c> is the core group.</summary>
    public string[] Groups { get; init; } = [];

    public string[] Resources { get; init; } = [];

    public string[] ResourceNames { get; init; } = [];

    public string[] NonResourceUrls { get; init; } = [];

    public RbacVerbs Verbs { get; init; }

    public RbacScope Scope { get; init; }
}
