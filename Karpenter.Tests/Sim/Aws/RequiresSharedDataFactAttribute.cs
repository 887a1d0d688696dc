namespace Karpenter.Tests.Sim.Aws;

/// <summary>
/// A fact that needs a file of the read-only shared data (<c>../shared/data</c> beside the repository, found by
/// walking up from the test assembly to the directory holding <c>Karpenter.sln</c>); skipped with the reason if absent.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresSharedDataFactAttribute : FactAttribute
{
    public RequiresSharedDataFactAttribute(string relativePath)
    {
        if (Find(relativePath) is null)
        {
            Skip = $"shared data file '{relativePath}' was not found in ../shared/data beside the repository.";
        }
    }

    public static string? Find(string relativePath)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Karpenter.sln")))
            {
                var path = Path.Combine(dir.FullName, "..", "shared", "data", relativePath);
                return File.Exists(path) ? Path.GetFullPath(path) : null;
            }
        }

        return null;
    }
}
