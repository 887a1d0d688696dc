namespace Karpenter.Tests.Sim.Aws;

/// <summary>A fact that is skipped, with the reason, when a command-line tool it drives is not on PATH.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresToolFactAttribute : FactAttribute
{
    public RequiresToolFactAttribute(string tool)
    {
        Tool = tool;
        if (FindOnPath(tool) is null)
        {
            Skip = $"'{tool}' is not on PATH; install it to run this test (it is present on our machines and in CI).";
        }
    }

    public string Tool { get; }

    public static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
}
