using System.Reflection;

namespace Karpenter.Tests.Architecture;

/// <summary>
/// The dependency directions of DESIGN.md, checked on the compiled assemblies so that a stray
/// project reference fails the build's tests rather than eroding the layering silently.
/// </summary>
public sealed class ProjectDependencyTests
{
    public static TheoryData<string, string[]> Allowed => new()
    {
        { "Karpenter.Kube", [] },
        { "Karpenter.Entities", ["Karpenter.Kube"] },
        { "Karpenter.Core", ["Karpenter.Entities", "Karpenter.Kube"] },
        { "Karpenter.Aws", ["Karpenter.Core", "Karpenter.Entities", "Karpenter.Kube"] },
        { "Karpenter.Operator", ["Karpenter.Aws", "Karpenter.Core", "Karpenter.Entities", "Karpenter.Kube"] },
        { "Karpenter.Sim", ["Karpenter.Operator", "Karpenter.Aws", "Karpenter.Core", "Karpenter.Entities", "Karpenter.Kube"] },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Project_references_only_the_layers_below_it(string project, string[] allowed)
    {
        var assembly = Assembly.Load(project);
        var ours = assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(n => n.StartsWith("Karpenter.", StringComparison.Ordinal))
            .ToArray();

        var forbidden = ours.Except(allowed).ToArray();

        Assert.True(forbidden.Length == 0, $"{project} references {string.Join(", ", forbidden)}, which DESIGN.md does not allow.");
    }
}
