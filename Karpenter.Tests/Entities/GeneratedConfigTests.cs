using Karpenter.Operator.Commands;
using Karpenter.Tests.Aws;

namespace Karpenter.Tests.Entities;

/// <summary>
/// <c>config/</c> is committed output of <c>karpenter manifests</c>: these tests fail when the types (or the generators)
/// changed and the files were not regenerated with <c>make manifests</c>, or when a stale file lingers.
/// </summary>
public sealed class GeneratedConfigTests
{
    private static readonly string Config = Path.Combine(AwsTestPaths.RepoRoot, "config");
    private static readonly SortedDictionary<string, string> Generated = Manifests.Generate(new ManifestOptions());

    [Fact]
    public void Every_generated_file_is_committed_unchanged()
    {
        var stale = new List<string>();
        foreach (var (relative, content) in Generated)
        {
            var path = Path.Combine(Config, relative);
            if (!File.Exists(path))
            {
                stale.Add($"{relative} is missing");
            }
            else if (File.ReadAllText(path).ReplaceLineEndings("\n") != content)
            {
                stale.Add($"{relative} differs from what the types generate");
            }
        }

        Assert.True(stale.Count == 0, string.Join("\n", stale) + "\nRun `make manifests` and commit config/.");
    }

    [Fact]
    public void No_yaml_in_config_is_left_over_from_an_earlier_generation()
    {
        var committed = Directory.EnumerateFiles(Config, "*.yaml", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Config, p).Replace(Path.DirectorySeparatorChar, '/'));

        var leftovers = committed.Where(p => !Generated.ContainsKey(p)).ToList();

        Assert.True(leftovers.Count == 0, $"Not generated any more: {string.Join(", ", leftovers)}. Delete them and run `make manifests`.");
    }

    [Fact]
    public void The_top_level_kustomization_includes_every_base()
    {
        var top = Generated["kustomization.yaml"];

        foreach (var directory in Generated.Keys.Where(k => k.Contains('/', StringComparison.Ordinal)).Select(k => k[..k.IndexOf('/', StringComparison.Ordinal)]).Distinct())
        {
            Assert.Contains($"- {directory}\n", top, StringComparison.Ordinal);
        }

        Assert.Contains("namespace: kube-system", top, StringComparison.Ordinal);
    }
}
