using Karpenter.Tests.Aws;

namespace Karpenter.Tests.Entities;

/// <summary>Where the example manifests (in the repository) and the seed manifests (in ../shared) are.</summary>
internal static class EntitiesTestPaths
{
    public static string Examples { get; } = Path.Combine(AwsTestPaths.RepoRoot, "examples", "manifests");

    /// <summary>The two v1beta1 manifests of the product brief, or null when ../shared is absent.</summary>
    public static string? Seeds
    {
        get
        {
            var data = AwsTestPaths.SharedData;
            var seeds = data is null ? null : Path.GetFullPath(Path.Combine(data, "..", "examples", "seed"));
            return seeds is not null && Directory.Exists(seeds) ? seeds : null;
        }
    }

    public static IEnumerable<string> ExampleFiles() => Directory.EnumerateFiles(Examples, "*.yaml").Order(StringComparer.Ordinal);
}
