using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Karpenter.Aws.Sdk;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.Amis;

/// <summary>An EC2NodeClass <c>amiSelectorTerms</c> entry.</summary>
public sealed record AmiSelector(string? Alias = null, string? Id = null, string? Name = null, string? Owner = null,
    IReadOnlyDictionary<string, string>? Tags = null, string? SsmParameter = null);

/// <summary>A resolved AMI and the instance types it is for (architecture, and GPU/accelerator variant for aliases).</summary>
public sealed record ResolvedAmi(string Id, string Name, DateTimeOffset CreationDate, bool Deprecated, Requirements Requirements);

/// <summary>Why the AMI selector terms of a NodeClass cannot be resolved (becomes the AMIsReady condition's message).</summary>
public sealed class AmiResolutionException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}

/// <summary>
/// Resolves AMI selector terms (upstream <c>pkg/providers/amifamily/ami.go</c>): an alias through the public SSM parameters of
/// its family (each path tried, failures ignored), other terms through DescribeImages (ids in one <c>image-id</c> filter;
/// name, owner and tags per term, owners <c>self,amazon</c> by default for a name; <c>ssmParameter</c> read first). For each
/// distinct requirement set the newest non-deprecated image wins. Results are cached for <c>AMI_REFRESH_INTERVAL</c>; SSM
/// values for 24 hours (5 minutes for a user's parameter).
/// </summary>
public sealed class AmiProvider(IAmazonEC2 ec2, IAmazonSimpleSystemsManagement ssm, TimeProvider time, IOptions<AwsOptions> options)
{
    private readonly TtlCache<string, IReadOnlyList<ResolvedAmi>> _cache = new(time, options.Value.AmiRefreshInterval);
    private readonly TtlCache<string, string> _ssm = new(time, TimeSpan.FromHours(24));

    public static readonly IReadOnlySet<string> AliasFamilies = new HashSet<string>(StringComparer.Ordinal)
    {
        "al2", "al2023", "bottlerocket", "windows2019", "windows2022", "windows2025",
    };

    /// <summary>The AMI family an alias names (<c>al2023@latest</c> → AL2023), or null when it is not an alias.</summary>
    public static AmiFamily? FamilyOfAlias(string alias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        return alias.Split('@')[0].ToLowerInvariant() switch
        {
            "al2" => AmiFamily.AL2,
            "al2023" => AmiFamily.AL2023,
            "bottlerocket" => AmiFamily.Bottlerocket,
            "windows2019" => AmiFamily.Windows2019,
            "windows2022" => AmiFamily.Windows2022,
            "windows2025" => AmiFamily.Windows2025,
            _ => null,
        };
    }

    public async Task<IReadOnlyList<ResolvedAmi>> ListAsync(IReadOnlyList<AmiSelector> terms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Count == 0)
        {
            throw new AmiResolutionException("AMINotFound", "amiSelectorTerms is empty");
        }
        var version = options.Value.KubernetesVersion;
        var key = version + "|" + string.Join("|", terms.Select(t =>
            $"{t.Alias}/{t.Id}/{t.Name}/{t.Owner}/{t.SsmParameter}/{string.Join(",", (t.Tags ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value))}"));
        if (_cache.TryGet(key, out var cached))
        {
            return cached;
        }
        var queries = terms.FirstOrDefault(t => !string.IsNullOrEmpty(t.Alias)) is { } aliasTerm
            ? [await AliasQueryAsync(aliasTerm.Alias!, version, cancellationToken)]
            : await TermQueriesAsync(terms, cancellationToken);
        var images = new Dictionary<string, ResolvedAmi>(StringComparer.Ordinal);
        var now = time.GetUtcNow();
        foreach (var query in queries)
        {
            if (query.Filters.Count == 0 && query.Owners.Count == 0)
            {
                continue;
            }
            var request = new DescribeImagesRequest
            {
                Filters = [.. query.Filters, Ec2Filters.Of("state", "available")],
                Owners = query.Owners.Count > 0 ? [.. query.Owners] : null,
                IncludeDeprecated = true,
                MaxResults = 1000,
            };
            await foreach (var image in ec2.Paginators.DescribeImages(request).Images.WithCancellation(cancellationToken))
            {
                var arch = image.Architecture?.Value switch
                {
                    "x86_64" => "amd64",
                    "arm64" => "arm64",
                    _ => null,
                };
                if (arch is null)
                {
                    continue;
                }
                var variants = query.Variants.TryGetValue(image.ImageId, out var known) ? known : [AmiVariant.Any];
                foreach (var variant in variants)
                {
                    var requirements = variant.Requirements(arch);
                    var candidate = new ResolvedAmi(image.ImageId, image.Name ?? "", ParseDate(image.CreationDate),
                        IsDeprecated(image.DeprecationTime, now), requirements);
                    var reqKey = requirements.ToString();
                    if (!images.TryGetValue(reqKey, out var existing) || Compare(candidate, existing) < 0)
                    {
                        images[reqKey] = candidate;
                    }
                }
            }
        }
        var result = images.Values.OrderBy(a => a, Comparer<ResolvedAmi>.Create(Compare)).ToList();
        _cache.Set(key, result);
        return result;
    }

    /// <summary>For each instance type, the first AMI (in preference order) whose requirements it is compatible with.</summary>
    public static IReadOnlyDictionary<string, List<T>> MapToInstanceTypes<T>(IReadOnlyList<ResolvedAmi> amis, IEnumerable<T> instanceTypes,
        Func<T, Requirements> requirementsOf)
    {
        ArgumentNullException.ThrowIfNull(amis);
        ArgumentNullException.ThrowIfNull(instanceTypes);
        ArgumentNullException.ThrowIfNull(requirementsOf);
        var result = new Dictionary<string, List<T>>(StringComparer.Ordinal);
        foreach (var it in instanceTypes)
        {
            var reqs = requirementsOf(it);
            if (amis.FirstOrDefault(a => reqs.Intersects(a.Requirements) is null) is { } ami)
            {
                if (!result.TryGetValue(ami.Id, out var list))
                {
                    result[ami.Id] = list = [];
                }
                list.Add(it);
            }
        }
        return result;
    }

    /// <summary>Non-deprecated first, then the newest, then by name.</summary>
    internal static int Compare(ResolvedAmi a, ResolvedAmi b)
    {
        if (a.Deprecated != b.Deprecated)
        {
            return a.Deprecated ? 1 : -1;
        }
        var byDate = b.CreationDate.CompareTo(a.CreationDate);
        if (byDate != 0)
        {
            return byDate;
        }
        var byName = string.CompareOrdinal(a.Name, b.Name);
        return byName != 0 ? byName : string.CompareOrdinal(a.Requirements.ToString(), b.Requirements.ToString());
    }

    private async Task<Query> AliasQueryAsync(string alias, string k8sVersion, CancellationToken cancellationToken)
    {
        var parts = alias.Split('@', 2);
        var family = FamilyOfAlias(alias);
        if (family is null || parts.Length != 2 || parts[1].Length == 0)
        {
            throw new AmiResolutionException("AMINotFound",
                $"alias '{alias}' is not valid: expected <family>@<version> with family one of {string.Join(", ", AliasFamilies.Order(StringComparer.Ordinal))}");
        }
        var version = parts[1];
        if (family.IsWindows && version != "latest")
        {
            throw new AmiResolutionException("AMINotFound", $"alias '{alias}' is not valid: Windows aliases only support @latest");
        }
        if (family == AmiFamily.AL2 && Minor(k8sVersion) >= 33)
        {
            throw new AmiResolutionException("AMINotFound",
                $"alias '{alias}' is not supported: EKS publishes no AL2 AMIs for Kubernetes {k8sVersion} (1.33 and later); use al2023@latest");
        }
        var ids = new Dictionary<string, List<AmiVariant>>(StringComparer.Ordinal);
        foreach (var (path, variant) in SsmPaths(family, k8sVersion, version))
        {
            var id = await TryGetParameterAsync(path, version == "latest" ? TimeSpan.FromHours(24) : TimeSpan.FromDays(365), cancellationToken);
            if (id is null)
            {
                continue; // Not every variant exists for every version; upstream ignores these failures.
            }
            if (!ids.TryGetValue(id, out var list))
            {
                ids[id] = list = [];
            }
            list.Add(variant);
        }
        if (ids.Count == 0)
        {
            throw new AmiResolutionException("AMINotFound",
                $"failed to discover any AMIs for alias '{alias}' (Kubernetes {k8sVersion}): no SSM parameter of the family resolved");
        }
        return new Query([Ec2Filters.Of("image-id", ids.Keys)], [], ids);
    }

    /// <summary>The public SSM parameters of a family's AMIs, with the variant each one is.</summary>
    internal static IEnumerable<(string Path, AmiVariant Variant)> SsmPaths(AmiFamily family, string k8s, string version)
    {
        var latest = version == "latest";
        if (family == AmiFamily.AL2023)
        {
            foreach (var (arch, variants) in new[] { ("x86_64", new[] { "standard", "nvidia", "neuron" }), ("arm64", new[] { "standard", "nvidia" }) })
            {
                foreach (var variant in variants)
                {
                    var name = latest ? "recommended" : $"amazon-eks-node-al2023-{arch}-{variant}-{k8s}-{version}";
                    yield return ($"/aws/service/eks/optimized-ami/{k8s}/amazon-linux-2023/{arch}/{variant}/{name}/image_id", AmiVariant.Named(variant));
                }
            }
        }
        else if (family == AmiFamily.AL2)
        {
            yield return ($"/aws/service/eks/optimized-ami/{k8s}/amazon-linux-2/{(latest ? "recommended" : $"amazon-eks-node-{k8s}-{version}")}/image_id", AmiVariant.Standard);
            yield return ($"/aws/service/eks/optimized-ami/{k8s}/amazon-linux-2-arm64/{(latest ? "recommended" : $"amazon-eks-arm64-node-{k8s}-{version}")}/image_id", AmiVariant.Standard);
            var gpu = $"/aws/service/eks/optimized-ami/{k8s}/amazon-linux-2-gpu/{(latest ? "recommended" : $"amazon-eks-gpu-node-{k8s}-{version}")}/image_id";
            yield return (gpu, AmiVariant.Nvidia);
            yield return (gpu, AmiVariant.Neuron);
        }
        else if (family == AmiFamily.Bottlerocket)
        {
            var v = latest ? "latest" : version.TrimStart('v');
            foreach (var arch in new[] { "x86_64", "arm64" })
            {
                yield return ($"/aws/service/bottlerocket/aws-k8s-{k8s}/{arch}/{v}/image_id", AmiVariant.Standard);
                yield return ($"/aws/service/bottlerocket/aws-k8s-{k8s}-nvidia/{arch}/{v}/image_id", AmiVariant.Nvidia);
            }
        }
        else if (family.IsWindows)
        {
            var year = family.Name["Windows".Length..];
            yield return ($"/aws/service/ami-windows-latest/Windows_Server-{year}-English-Core-EKS_Optimized-{k8s}/image_id", AmiVariant.Standard);
        }
    }

    private async Task<List<Query>> TermQueriesAsync(IReadOnlyList<AmiSelector> terms, CancellationToken cancellationToken)
    {
        var queries = new List<Query>();
        var ids = new List<string>();
        foreach (var term in terms)
        {
            if (!string.IsNullOrEmpty(term.Id))
            {
                ids.Add(term.Id);
                continue;
            }
            if (!string.IsNullOrEmpty(term.SsmParameter))
            {
                var id = await TryGetParameterAsync(term.SsmParameter, TimeSpan.FromMinutes(5), cancellationToken)
                    ?? throw new AmiResolutionException("AMINotFound", $"SSM parameter '{term.SsmParameter}' does not exist or is not readable");
                ids.Add(id);
                continue;
            }
            var filters = new List<Filter>();
            var owners = new List<string>();
            if (!string.IsNullOrEmpty(term.Owner))
            {
                owners.Add(term.Owner);
            }
            if (!string.IsNullOrEmpty(term.Name))
            {
                // Without an owner, only self and Amazon: a name must not pull in someone's public AMI.
                if (owners.Count == 0)
                {
                    owners.AddRange(["self", "amazon"]);
                }
                filters.Add(Ec2Filters.Of("name", term.Name));
            }
            foreach (var (k, v) in (term.Tags ?? new Dictionary<string, string>()).OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                filters.Add(v == "*" ? Ec2Filters.Of("tag-key", k) : Ec2Filters.Of($"tag:{k}", v.Split(',', StringSplitOptions.TrimEntries)));
            }
            queries.Add(new Query(filters, owners, new Dictionary<string, List<AmiVariant>>()));
        }
        if (ids.Count > 0)
        {
            queries.Add(new Query([Ec2Filters.Of("image-id", ids.Distinct(StringComparer.Ordinal))], [], new Dictionary<string, List<AmiVariant>>()));
        }
        return queries;
    }

    private async Task<string?> TryGetParameterAsync(string name, TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (_ssm.TryGet(name, out var cached))
        {
            return cached;
        }
        try
        {
            var response = await ssm.GetParameterAsync(new GetParameterRequest { Name = name }, cancellationToken);
            var value = response.Parameter?.Value;
            if (!string.IsNullOrEmpty(value))
            {
                _ssm.Set(name, value, ttl);
            }
            return value;
        }
        catch (ParameterNotFoundException)
        {
            return null;
        }
    }

    private static bool IsDeprecated(string? deprecationTime, DateTimeOffset now) =>
        !string.IsNullOrEmpty(deprecationTime) && DateTimeOffset.TryParse(deprecationTime, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out var t) && t <= now;

    private static DateTimeOffset ParseDate(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : DateTimeOffset.MinValue;

    private static int Minor(string k8sVersion) =>
        int.TryParse(k8sVersion.Split('.').ElementAtOrDefault(1), CultureInfo.InvariantCulture, out var minor) ? minor : 0;

    private sealed record Query(List<Filter> Filters, List<string> Owners, IReadOnlyDictionary<string, List<AmiVariant>> Variants);
}

/// <summary>What kind of instance an EKS-optimized AMI is built for.</summary>
public sealed class AmiVariant
{
    private readonly Func<string, Requirements> _requirements;

    private AmiVariant(string name, Func<string, Requirements> requirements)
    {
        Name = name;
        _requirements = requirements;
    }

    /// <summary>A user-selected image: only its architecture constrains it.</summary>
    public static AmiVariant Any { get; } = new("any", arch => new Requirements(Requirement.In(Labels.Arch, arch)));

    public static AmiVariant Standard { get; } = new("standard", arch => new Requirements(
        Requirement.In(Labels.Arch, arch), Requirement.DoesNotExist(Labels.InstanceGpuCount), Requirement.DoesNotExist(Labels.InstanceAcceleratorCount)));

    public static AmiVariant Nvidia { get; } = new("nvidia", arch => new Requirements(
        Requirement.In(Labels.Arch, arch), Requirement.Exists(Labels.InstanceGpuCount)));

    public static AmiVariant Neuron { get; } = new("neuron", arch => new Requirements(
        Requirement.In(Labels.Arch, arch), Requirement.Exists(Labels.InstanceAcceleratorCount)));

    public string Name { get; }

    public Requirements Requirements(string arch) => _requirements(arch);

    public static AmiVariant Named(string name) => name switch
    {
        "nvidia" => Nvidia,
        "neuron" => Neuron,
        _ => Standard,
    };
}
