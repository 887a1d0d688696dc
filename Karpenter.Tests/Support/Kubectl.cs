using System.Diagnostics;
using Karpenter.Tests.Sim.KubeApi;

namespace Karpenter.Tests.Support;

/// <summary>Runs the real <c>kubectl</c> (see <see cref="KubectlFidelityTests.FindKubectl"/>) against a kubeconfig, bounded by 60 s.</summary>
internal static class Kubectl
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(string kubeconfig, string cacheDirectory, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(KubectlFidelityTests.FindKubectl()!);
        foreach (var arg in new[] { "--kubeconfig", kubeconfig, "--cache-dir", cacheDirectory }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        return await ToolProcess.RunAsync(start);
    }

    /// <summary>As <see cref="RunAsync"/>, failing the test unless kubectl exits 0; returns its output.</summary>
    public static async Task<string> ExpectAsync(string kubeconfig, string cacheDirectory, params string[] args)
    {
        var (exit, output, error) = await RunAsync(kubeconfig, cacheDirectory, args);
        Assert.True(exit == 0, $"kubectl {string.Join(' ', args)} failed ({exit}): {error}");
        return output;
    }
}
