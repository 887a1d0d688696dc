namespace Karpenter.Tests.Aws;

/// <summary>Locates the repository (the directory holding Karpenter.sln) and the shared reference data beside it.</summary>
internal static class AwsTestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// <c>../shared/data</c> relative to the repository root (or beside an ancestor of it, as for a worktree nested one level
    /// deeper), or null when it is not there.
    /// </summary>
    public static string? SharedData
    {
        get
        {
            for (var dir = Directory.GetParent(RepoRoot); dir is not null; dir = dir.Parent)
            {
                var path = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(path))
                {
                    return path;
                }
            }
            return null;
        }
    }

    public static string TestData(params string[] parts) => Path.Combine([RepoRoot, "Karpenter.Tests", "Aws", .. parts]);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Karpenter.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Karpenter.sln not found above {AppContext.BaseDirectory}");
    }
}
