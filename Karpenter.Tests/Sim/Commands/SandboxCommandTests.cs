using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Karpenter.Sim.Commands;
using Karpenter.Tests.Entities;
using Karpenter.Tests.Sim.KubeApi;
using Karpenter.Tests.Support;

namespace Karpenter.Tests.Sim.Commands;

/// <summary>
/// <c>sandbox --kubeconfig PATH</c> as a user drives it: it prints where the API server, the kubeconfig and the AWS
/// endpoint are; <c>kubectl apply</c> of the seed manifests and a Deployment, then <c>kubectl scale</c>, makes a NodeClaim that becomes Ready and
/// that <c>kubectl get nodeclaims</c> shows with upstream's columns; an interrupt ends it cleanly.
/// </summary>
public sealed partial class SandboxCommandTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _directory = Directory.CreateTempSubdirectory("sandbox-").FullName;

    [GeneratedRegex(@"kubeconfig:\s+(\S+)")]
    private static partial Regex KubeconfigLine();

    [GeneratedRegex(@"AWS endpoint:\s+(http://127\.0\.0\.1:\d+/?)")]
    private static partial Regex AwsLine();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    [SkippableFact]
    public async Task The_sandbox_serves_kubectl_launches_a_Ready_NodeClaim_for_a_Deployment_and_stops_cleanly_when_interrupted()
    {
        Skip.If(KubectlFidelityTests.FindKubectl() is null, "kubectl is not on the PATH: the sandbox test drives the sandbox with it (it is present on our machines and in CI).");
        Skip.If(EntitiesTestPaths.Seeds is null, "../shared/examples/seed (next to the repository) is absent: the sandbox test applies the seed manifests from there.");
        var output = new CapturingWriter();
        var root = new RootCommand { SandboxCommand.Create() };
        using var stop = new CancellationTokenSource();
        var run = root.Parse(["sandbox", "--kubeconfig", Path.Combine(_directory, "kubeconfig"), "--speed", "20"])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = new CapturingWriter() }, stop.Token);
        try
        {
            // The kubeconfig and the AWS endpoint are printed one line after the other: wait for both.
            var kubeconfig = await UntilAsync(
                () => Task.FromResult(KubeconfigLine().Match(output.Text) is { Success: true } m && AwsLine().IsMatch(output.Text) ? m.Groups[1].Value : null),
                "the sandbox to print its kubeconfig and AWS endpoint", output, run);
            Assert.Equal(Path.Combine(_directory, "kubeconfig"), kubeconfig);

            await ExpectKubectlAsync(kubeconfig, "apply", "-f", EntitiesTestPaths.Seeds!);
            await ExpectKubectlAsync(kubeconfig, "apply", "-f", Write("deployment.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: { name: inflate, namespace: default }
                spec:
                  replicas: 0
                  selector: { matchLabels: { app: inflate } }
                  template:
                    metadata: { labels: { app: inflate } }
                    spec:
                      containers:
                        - name: inflate
                          image: public.ecr.aws/eks-distro/kubernetes/pause:3.7
                          resources: { requests: { cpu: 500m, memory: 256Mi } }
                """));

            // What a user tries first: scale the Deployment through its scale subresource.
            Assert.Contains("deployment.apps/inflate scaled", await ExpectKubectlAsync(kubeconfig, "scale", "deployment", "inflate", "--replicas", "2"), StringComparison.Ordinal);

            var table = await UntilAsync(
                async () =>
                {
                    var text = await ExpectKubectlAsync(kubeconfig, "get", "nodeclaims");
                    return text.Split('\n').Skip(1).Any(l => Regex.IsMatch(l, @"\sTrue\s")) ? text : null;
                },
                "a NodeClaim to become Ready in `kubectl get nodeclaims`",
                output,
                run);
            var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var header = Regex.Split(lines[0].Trim(), @"\s+");
            Assert.Equal(["NAME", "TYPE", "CAPACITY", "ZONE", "NODE", "READY", "AGE"], header);
            var ready = Regex.Split(lines.Skip(1).First(l => Regex.IsMatch(l, @"\sTrue\s")).Trim(), @"\s+");
            Assert.StartsWith("general-purpose-", ready[0], StringComparison.Ordinal);
            Assert.Matches(@"^t3a?\.", ready[1]);
            Assert.Matches("^(spot|on-demand)$", ready[2]);
            Assert.StartsWith("us-east-1", ready[3], StringComparison.Ordinal);
            Assert.StartsWith("ip-", ready[4], StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
        }

        Assert.Equal(0, await run.WaitAsync(Patience));
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private Task<string> ExpectKubectlAsync(string kubeconfig, params string[] args) => Kubectl.ExpectAsync(kubeconfig, Path.Combine(_directory, "cache"), args);

    /// <summary>Polls (real time, bounded) until <paramref name="probe"/> returns a value; fails with the sandbox's output.</summary>
    private static async Task<string> UntilAsync(Func<Task<string?>> probe, string what, CapturingWriter output, Task<int> run)
    {
        var started = Stopwatch.StartNew();
        while (started.Elapsed < Patience)
        {
            Assert.False(run.IsCompleted, $"the sandbox exited ({(run.IsCompletedSuccessfully ? run.Result.ToString(System.Globalization.CultureInfo.InvariantCulture) : run.Exception?.Message)}) while waiting for {what}:\n{output.Text}");
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
        }

        Assert.Fail($"timed out after {Patience.TotalSeconds} s waiting for {what}; the sandbox printed:\n{output.Text}");
        return null!;
    }
}
