using System.Reflection;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Karpenter.Kube.Entities;

/// <summary>
/// The base of every custom resource: <c>apiVersion</c>, <c>kind</c> and <c>metadata</c>, with the identity taken from the
/// class's <see cref="KubernetesEntityAttribute"/> when the object was not read from the wire.
/// </summary>
public abstract class CustomKubernetesEntity : IKubernetesObject<V1ObjectMeta>
{
    private string? _apiVersion;
    private string? _kind;

    /// <summary>
    /// APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized
    /// schemas to the latest internal value, and may reject unrecognized values.
    /// </summary>
    [JsonPropertyName("apiVersion")]
    public string ApiVersion
    {
        get => _apiVersion ??= EntityMetadata.Of(GetType()).ApiVersion;
        set => _apiVersion = value;
    }

    /// <summary>
    /// Kind is a string value representing the REST resource this object represents. Servers may infer this from the
    /// endpoint the client submits requests to. Cannot be updated. In CamelCase.
    /// </summary>
    [JsonPropertyName("kind")]
    public string Kind
    {
        get => _kind ??= EntityMetadata.Of(GetType()).Kind;
        set => _kind = value;
    }

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();
}

/// <summary>A custom resource with a <c>spec</c>.</summary>
public abstract class CustomKubernetesEntity<TSpec> : CustomKubernetesEntity, ISpec<TSpec>
    where TSpec : new()
{
    [JsonPropertyName("spec")]
    public TSpec Spec { get; set; } = new();
}

/// <summary>
/// A custom resource with a <c>spec</c> and a <c>status</c>. The CRD generator gives such a resource the status subresource.
/// </summary>
public abstract class CustomKubernetesEntity<TSpec, TStatus> : CustomKubernetesEntity<TSpec>, IStatus<TStatus>
    where TSpec : new()
    where TStatus : new()
{
    [JsonPropertyName("status")]
    public TStatus Status { get; set; } = new();
}

/// <summary>The list form of a custom resource, as LIST returns it.</summary>
public sealed class CustomKubernetesList<TEntity> : IKubernetesObject<V1ListMeta>, IItems<TEntity>
    where TEntity : CustomKubernetesEntity
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = EntityMetadata.Of<TEntity>().ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = EntityMetadata.Of<TEntity>().ListKind;

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<TEntity> Items { get; set; } = [];
}

/// <summary>The identity of an entity type: group, version, kind and resource names, from <see cref="KubernetesEntityAttribute"/>.</summary>
public sealed record EntityMetadata(string Group, string Version, string Kind, string Plural)
{
    /// <summary><c>group/version</c>, or just the version for the core group.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public string ListKind => Kind + "List";

    public string Singular => Kind.ToLowerInvariant();

    /// <summary>The CRD's name, <c>plural.group</c>.</summary>
    public string CrdName => $"{Plural}.{Group}";

    /// <summary>The key KubernetesYaml's type maps use: <c>group/version/Kind</c>.</summary>
    public string TypeMapKey => $"{ApiVersion}/{Kind}";

    public static EntityMetadata Of<TEntity>() => Of(typeof(TEntity));

    public static EntityMetadata Of(Type entityType)
    {
        ArgumentNullException.ThrowIfNull(entityType);
        var attribute = entityType.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new ArgumentException($"{entityType.FullName} has no [KubernetesEntity] attribute.", nameof(entityType));
        var kind = string.IsNullOrEmpty(attribute.Kind) ? entityType.Name : attribute.Kind;
        var version = string.IsNullOrEmpty(attribute.ApiVersion) ? "v1" : attribute.ApiVersion;
        var plural = string.IsNullOrEmpty(attribute.PluralName) ? kind.ToLowerInvariant() + "s" : attribute.PluralName;
        return new EntityMetadata(attribute.Group ?? string.Empty, version, kind, plural);
    }
}
