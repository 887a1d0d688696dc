using System.Reflection;
using k8s.Models;
using Karpenter.Entities;
using Karpenter.Kube.Generation;

namespace Karpenter.Operator.Commands;

/// <summary>What <see cref="Manifests.Generate"/> writes: the namespace the operator runs in and its image.</summary>
internal sealed record ManifestOptions
{
    public string Namespace { get; init; } = "kube-system";

    public string Name { get; init; } = "karpenter";

    public string Image { get; init; } = "karpenter-dotnet:latest";
}

/// <summary>
/// Everything <c>config/</c> holds, generated from the types: CRDs (kustomize base <c>crds/</c>), RBAC (<c>rbac/</c>),
/// webhook configurations and their Service (<c>webhooks/</c>), the Deployment (<c>deployment/</c>), and a top-level
/// kustomization that ties them together.
/// </summary>
internal static class Manifests
{
    /// <summary>The assemblies whose classes (and assembly attributes) declare the RBAC the operator needs.</summary>
    private static readonly Assembly[] RbacAssemblies =
    [
        typeof(Karpenter.Kube.Entities.CustomKubernetesEntity).Assembly,
        typeof(KarpenterApi).Assembly,
        typeof(Karpenter.Core.Scheduling.Requirement).Assembly,
        typeof(Karpenter.Aws.AwsOptions).Assembly,
        typeof(Manifests).Assembly,
    ];

    /// <summary>Relative path (with forward slashes) to file content, in a stable order.</summary>
    public static SortedDictionary<string, string> Generate(ManifestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var service = new WebhookService(options.Name, options.Namespace);

        var crds = new CrdGenerator(new CrdGeneratorOptions { ConversionService = service }).GenerateAll(KarpenterApi.EntityTypes);
        var crdFiles = crds.Select(c => $"{c.Spec.Group}_{c.Spec.Names.Plural}.yaml").ToList();
        foreach (var (crd, file) in crds.Zip(crdFiles))
        {
            files[$"crds/{file}"] = ManifestYaml.SerializeAll([crd]);
        }

        files["crds/kustomization.yaml"] = Kustomization(crdFiles);

        var rbac = new RbacGenerator(new RbacGeneratorOptions { Name = options.Name, Namespace = options.Namespace })
            .Generate(RbacSources());
        files["rbac/service_account.yaml"] = ManifestYaml.SerializeAll([rbac.ServiceAccount]);
        files["rbac/cluster_role.yaml"] = ManifestYaml.SerializeAll([rbac.ClusterRole]);
        files["rbac/cluster_role_binding.yaml"] = ManifestYaml.SerializeAll([rbac.ClusterRoleBinding]);
        files["rbac/role.yaml"] = ManifestYaml.SerializeAll([rbac.Role]);
        files["rbac/role_binding.yaml"] = ManifestYaml.SerializeAll([rbac.RoleBinding]);
        files["rbac/kustomization.yaml"] = Kustomization(
            ["service_account.yaml", "cluster_role.yaml", "cluster_role_binding.yaml", "role.yaml", "role_binding.yaml"]);

        var webhookFiles = new List<string>();
        if (WebhookConfigurationGenerator.Validating($"validation.webhook.{options.Name}.sh", service, KarpenterApi.AdmissionWebhooks) is { } validating)
        {
            files["webhooks/validating_webhook_configuration.yaml"] = ManifestYaml.SerializeAll([validating]);
            webhookFiles.Add("validating_webhook_configuration.yaml");
        }

        if (WebhookConfigurationGenerator.Mutating($"defaulting.webhook.{options.Name}.sh", service, KarpenterApi.AdmissionWebhooks) is { } mutating)
        {
            files["webhooks/mutating_webhook_configuration.yaml"] = ManifestYaml.SerializeAll([mutating]);
            webhookFiles.Add("mutating_webhook_configuration.yaml");
        }

        files["webhooks/kustomization.yaml"] = Kustomization(webhookFiles);

        files["deployment/service.yaml"] = ManifestYaml.SerializeAll([Deployment.Service(options)]);
        files["deployment/deployment.yaml"] = ManifestYaml.SerializeAll([Deployment.Create(options)]);
        files["deployment/pod_disruption_budget.yaml"] = ManifestYaml.SerializeAll([Deployment.Budget(options)]);
        files["deployment/kustomization.yaml"] = Kustomization(["service.yaml", "deployment.yaml", "pod_disruption_budget.yaml"]);

        files["kustomization.yaml"] = Kustomization(["crds", "rbac", "webhooks", "deployment"], options.Namespace);
        return files;
    }

    /// <summary>Writes the files under <paramref name="directory"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string directory, ManifestOptions options)
    {
        var written = new List<string>();
        foreach (var (relative, content) in Generate(options))
        {
            var path = Path.Combine(directory, relative.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
            written.Add(path);
        }

        return written;
    }

    private static IEnumerable<ICustomAttributeProvider> RbacSources() =>
        RbacAssemblies.SelectMany(a => a.GetTypes().Cast<ICustomAttributeProvider>().Prepend(a));

    private static string Kustomization(IReadOnlyList<string> resources, string? ns = null)
    {
        var document = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["apiVersion"] = "kustomize.config.k8s.io/v1beta1",
            ["kind"] = "Kustomization",
        };
        if (ns is not null)
        {
            document["namespace"] = ns;
        }

        document["resources"] = resources.ToList();
        return ManifestYaml.Serialize(document);
    }
}
