using k8s;
using k8s.Models;
using Karpenter.Entities;
using Karpenter.Kube.Client;
using Karpenter.Kube.Generation;
using Karpenter.Sim.Clock;

namespace Karpenter.Sim.World;

/// <summary>
/// Karpenter's CRDs for a world: the manifests in a directory (the repository's generated <c>config/</c>), or, when
/// none are there, the CRDs the same generator makes from the API types. Installed and awaited until Established.
/// </summary>
internal static class CrdInstaller
{
    /// <summary>The conversion webhook service of the generated multi-version CRDs (the chart's service and port).</summary>
    public static readonly WebhookService ConversionService = new("karpenter", "kube-system", 8443);

    public static IReadOnlyList<V1CustomResourceDefinition> Resolve(string? directory)
    {
        var dir = directory ?? FindRepositoryConfig();
        if (dir is not null)
        {
            var fromFiles = Load(dir);
            if (fromFiles.Count > 0 || directory is not null)
            {
                return fromFiles;
            }
        }

        return new CrdGenerator(new CrdGeneratorOptions { ConversionService = ConversionService }).GenerateAll(KarpenterApi.EntityTypes);
    }

    public static IReadOnlyList<V1CustomResourceDefinition> Load(string directory)
    {
        var result = new List<V1CustomResourceDefinition>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var text = File.ReadAllText(file);
            if (!text.Contains("CustomResourceDefinition", StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                result.AddRange(KubernetesYaml.LoadAllFromString(text).OfType<V1CustomResourceDefinition>());
            }
            catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidOperationException or ArgumentException)
            {
                throw new InvalidOperationException($"CRD manifest {file} could not be read: {e.Message}", e);
            }
        }

        return result;
    }

    public static async Task InstallAsync(IKubeClient client, IReadOnlyList<V1CustomResourceDefinition> crds, TimeProvider clock, CancellationToken cancellationToken)
    {
        foreach (var crd in crds)
        {
            crd.ApiVersion = "apiextensions.k8s.io/v1";
            crd.Kind = "CustomResourceDefinition";
            try
            {
                await client.CreateAsync(crd, cancellationToken);
            }
            catch (KubeAlreadyExistsException)
            {
                // Installed before (a world reusing a server); keep it.
            }
        }

        foreach (var crd in crds)
        {
            await SimulationWait.UntilAsync(
                clock,
                async ct => (await client.GetAsync<V1CustomResourceDefinition>(crd.Metadata.Name, cancellationToken: ct)).Status?.Conditions?
                    .Any(c => c.Type == "Established" && c.Status == "True") == true,
                TimeSpan.FromSeconds(30),
                $"CRD {crd.Metadata.Name} to be Established",
                cancellationToken: cancellationToken);
        }
    }

    /// <summary>The repository's <c>config/</c> (next to <c>Karpenter.sln</c>, walking up from the running assembly), if any.</summary>
    private static string? FindRepositoryConfig()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Karpenter.sln")))
            {
                var config = Path.Combine(dir.FullName, "config");
                return Directory.Exists(config) ? config : null;
            }
        }

        return null;
    }
}
