using System.Reflection;
using k8s;
using k8s.Models;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Webhooks;

namespace Karpenter.Kube.Generation;

/// <summary>Where the API server sends ConversionReviews for a multi-version CRD.</summary>
public sealed record WebhookService(string Name, string Namespace, int Port = 443);

/// <summary>Options of <see cref="CrdGenerator"/>.</summary>
public sealed record CrdGeneratorOptions
{
    /// <summary>
    /// The service that serves conversion; when set, CRDs with more than one version get <c>strategy: Webhook</c>
    /// on <see cref="WebhookPaths.Convert"/> of their group and kind. When null they get <c>strategy: None</c>.
    /// </summary>
    public WebhookService? ConversionService { get; init; }
}

/// <summary>
/// Reflects entity types (classes with <see cref="KubernetesEntityAttribute"/>) into <c>apiextensions.k8s.io/v1</c>
/// CustomResourceDefinitions, every version of one kind in one CRD.
/// </summary>
public sealed class CrdGenerator(CrdGeneratorOptions? options = null, XmlDocumentation? documentation = null)
{
    private readonly CrdGeneratorOptions _options = options ?? new CrdGeneratorOptions();
    private readonly SchemaBuilder _schemas = new(documentation ?? new XmlDocumentation());

    /// <summary>One CRD per kind, ordered by CRD name.</summary>
    public IReadOnlyList<V1CustomResourceDefinition> GenerateAll(IEnumerable<Type> entityTypes)
    {
        ArgumentNullException.ThrowIfNull(entityTypes);
        return entityTypes
            .GroupBy(t => (EntityMetadata.Of(t).Group, EntityMetadata.Of(t).Kind))
            .Select(g => Generate(g.ToArray()))
            .OrderBy(c => c.Metadata.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The CRD of one kind from the entity types of its versions.</summary>
    public V1CustomResourceDefinition Generate(params Type[] versionTypes)
    {
        ArgumentNullException.ThrowIfNull(versionTypes);
        if (versionTypes.Length == 0)
        {
            throw new ArgumentException("A CRD needs at least one version.", nameof(versionTypes));
        }

        var versions = versionTypes
            .Select(t => (Type: t, Meta: EntityMetadata.Of(t)))
            .OrderByDescending(v => v.Meta.Version, KubernetesVersionComparer.Instance)
            .ToList();
        var first = versions[0].Meta;
        foreach (var (type, meta) in versions)
        {
            if (meta.Group != first.Group || meta.Kind != first.Kind || meta.Plural != first.Plural)
            {
                throw new ArgumentException($"{type.Name} ({meta.ApiVersion} {meta.Kind}/{meta.Plural}) is not a version of {first.Group} {first.Kind}/{first.Plural}.");
            }

            if (!typeof(IKubernetesObject<V1ObjectMeta>).IsAssignableFrom(type))
            {
                throw new ArgumentException($"{type.Name} is not a Kubernetes object (IKubernetesObject<V1ObjectMeta>).");
            }
        }

        if (versions.Select(v => v.Meta.Version).Distinct(StringComparer.Ordinal).Count() != versions.Count)
        {
            throw new ArgumentException($"{first.Kind} declares one version twice.");
        }

        var stored = versions.Where(v => v.Type.GetCustomAttribute<StorageVersionAttribute>() is not null).ToList();
        var storage = (versions.Count, stored.Count) switch
        {
            (1, _) => versions[0].Type,
            (_, 1) => stored[0].Type,
            _ => throw new ArgumentException($"{first.Kind} has {versions.Count} versions; exactly one must carry [StorageVersion], {stored.Count} do."),
        };

        var scopes = versions.Select(v => v.Type.GetCustomAttribute<EntityScopeAttribute>()?.Scope ?? EntityScope.Namespaced).Distinct().ToList();
        if (scopes.Count != 1)
        {
            throw new ArgumentException($"The versions of {first.Kind} disagree on their scope.");
        }

        var crd = new V1CustomResourceDefinition
        {
            ApiVersion = "apiextensions.k8s.io/v1",
            Kind = "CustomResourceDefinition",
            Metadata = new V1ObjectMeta { Name = first.CrdName },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = first.Group,
                Names = new V1CustomResourceDefinitionNames
                {
                    Kind = first.Kind,
                    ListKind = first.ListKind,
                    Plural = first.Plural,
                    Singular = first.Singular,
                    ShortNames = NullIfEmpty(storage.GetCustomAttribute<ShortNamesAttribute>()?.Names),
                    Categories = NullIfEmpty(storage.GetCustomAttribute<CategoriesAttribute>()?.Categories),
                },
                Scope = scopes[0].ToString(),
                Versions = versions.Select(v => Version(v.Type, v.Meta, v.Type == storage)).ToList(),
            },
        };

        if (versions.Count > 1)
        {
            crd.Spec.Conversion = _options.ConversionService is { } service
                ? new V1CustomResourceConversion
                {
                    Strategy = "Webhook",
                    Webhook = new V1WebhookConversion
                    {
                        ConversionReviewVersions = ["v1"],
                        ClientConfig = new Apiextensionsv1WebhookClientConfig
                        {
                            Service = new Apiextensionsv1ServiceReference
                            {
                                Name = service.Name,
                                NamespaceProperty = service.Namespace,
                                Path = WebhookPaths.Convert(first.Group, first.Kind),
                                Port = service.Port,
                            },
                        },
                    },
                }
                : new V1CustomResourceConversion { Strategy = "None" };
        }

        return crd;
    }

    private V1CustomResourceDefinitionVersion Version(Type type, EntityMetadata meta, bool storage)
    {
        var columns = type.GetCustomAttributes<PrinterColumnAttribute>(inherit: false)
            .Select(c => new V1CustomResourceColumnDefinition
            {
                Name = c.Name,
                Type = c.Type,
                JsonPath = c.JsonPath,
                Priority = c.Priority == 0 ? null : c.Priority,
                Description = c.Description,
                Format = c.Format,
            })
            .ToList();

        var hasStatus = type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IStatus<>))
            && type.GetCustomAttribute<NoStatusSubresourceAttribute>() is null;
        var scale = type.GetCustomAttribute<ScaleSubresourceAttribute>();
        var deprecated = type.GetCustomAttribute<DeprecatedVersionAttribute>();

        return new V1CustomResourceDefinitionVersion
        {
            Name = meta.Version,
            Served = type.GetCustomAttribute<ServedAttribute>()?.Served ?? true,
            Storage = storage,
            Deprecated = deprecated is null ? null : true,
            DeprecationWarning = deprecated?.Warning,
            AdditionalPrinterColumns = columns.Count > 0 ? columns : null,
            Schema = new V1CustomResourceValidation { OpenAPIV3Schema = _schemas.ForEntity(type) },
            Subresources = hasStatus || scale is not null
                ? new V1CustomResourceSubresources
                {
                    Status = hasStatus ? new Dictionary<string, object>() : null,
                    Scale = scale is null
                        ? null
                        : new V1CustomResourceSubresourceScale
                        {
                            SpecReplicasPath = scale.SpecReplicasPath,
                            StatusReplicasPath = scale.StatusReplicasPath,
                            LabelSelectorPath = scale.LabelSelectorPath,
                        },
                }
                : null,
        };
    }

    private static List<string>? NullIfEmpty(IReadOnlyList<string>? values) => values is { Count: > 0 } ? values.ToList() : null;
}

/// <summary>Orders Kubernetes API versions by priority: GA above beta above alpha, then by number (v2 &gt; v1, v1beta2 &gt; v1beta1).</summary>
public sealed class KubernetesVersionComparer : IComparer<string>
{
    public static KubernetesVersionComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        var (xKnown, xMajor, xStage, xMinor) = Parse(x);
        var (yKnown, yMajor, yStage, yMinor) = Parse(y);
        if (xKnown != yKnown)
        {
            return xKnown ? 1 : -1;
        }

        if (!xKnown)
        {
            return string.CompareOrdinal(y, x);
        }

        return xStage != yStage ? xStage.CompareTo(yStage)
            : xMajor != yMajor ? xMajor.CompareTo(yMajor)
            : xMinor.CompareTo(yMinor);
    }

    private static (bool Known, int Major, int Stage, int Minor) Parse(string? version)
    {
        var match = System.Text.RegularExpressions.Regex.Match(version ?? string.Empty, "^v([0-9]+)(?:(alpha|beta)([0-9]+))?$");
        if (!match.Success)
        {
            return (false, 0, 0, 0);
        }

        var stage = match.Groups[2].Value switch { "alpha" => 0, "beta" => 1, _ => 2 };
        var minor = match.Groups[3].Success ? int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return (true, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), stage, minor);
    }
}
