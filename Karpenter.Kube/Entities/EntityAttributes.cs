namespace Karpenter.Kube.Entities;

/// <summary>Whether objects of a kind live in a namespace or in the cluster.</summary>
public enum EntityScope
{
    Namespaced,
    Cluster,
}

/// <summary>The CRD's <c>spec.scope</c> (default <see cref="EntityScope.Namespaced"/>).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EntityScopeAttribute(EntityScope scope) : Attribute
{
    public EntityScope Scope { get; } = scope;
}

/// <summary><c>spec.names.shortNames</c>.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ShortNamesAttribute(params string[] names) : Attribute
{
    public IReadOnlyList<string> Names { get; } = names;
}

/// <summary><c>spec.names.categories</c> (so that <c>kubectl get karpenter</c> lists the kind).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class CategoriesAttribute(params string[] categories) : Attribute
{
    public IReadOnlyList<string> Categories { get; } = categories;
}

/// <summary>This version is the one stored in etcd. Exactly one version of a multi-version CRD carries it.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class StorageVersionAttribute : Attribute;

/// <summary>Whether the API server serves this version (default true).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ServedAttribute(bool served) : Attribute
{
    public bool Served { get; } = served;
}

/// <summary>This version is deprecated: the API server returns <see cref="Warning"/> to clients that use it.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class DeprecatedVersionAttribute : Attribute
{
    public string? Warning { get; init; }
}

/// <summary>An <c>additionalPrinterColumns</c> entry; columns appear in the order the attributes are declared.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class PrinterColumnAttribute(string name, string type, string jsonPath) : Attribute
{
    public string Name { get; } = name;

    /// <summary>An OpenAPI type: <c>string</c>, <c>integer</c>, <c>number</c>, <c>boolean</c> or <c>date</c>.</summary>
    public string Type { get; } = type;

    public string JsonPath { get; } = jsonPath;

    /// <summary>0 shows the column always; higher values only with <c>-o wide</c>.</summary>
    public int Priority { get; init; }

    public string? Description { get; init; }

    public string? Format { get; init; }
}

/// <summary>The scale subresource, so that <c>kubectl scale</c> and autoscalers can drive the kind.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ScaleSubresourceAttribute(string specReplicasPath, string statusReplicasPath) : Attribute
{
    public string SpecReplicasPath { get; } = specReplicasPath;

    public string StatusReplicasPath { get; } = statusReplicasPath;

    public string? LabelSelectorPath { get; init; }
}

/// <summary>Turns the status subresource off for an entity that has a <c>status</c> (on by default).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class NoStatusSubresourceAttribute : Attribute;
