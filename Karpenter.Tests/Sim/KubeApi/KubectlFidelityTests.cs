using Karpenter.Tests.Support;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>A fact that runs only where <c>kubectl</c> is on the PATH, and says so when it is not.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (KubectlFidelityTests.FindKubectl() is null)
        {
            Skip = "kubectl is not on the PATH: the kubectl fidelity test needs it (it is present on our machines and in CI).";
        }
    }
}

/// <summary>
/// The emulator driven by the real kubectl (1.32 on our machines): apply a CRD and an object, read them
/// as YAML and as printer-column tables, patch, watch, delete with a finalizer pending, and see
/// <c>apply --server-side</c> refused with the real error.
/// </summary>
public sealed class KubectlFidelityTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kubectl-fidelity-").FullName;

    internal static string? FindKubectl() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "kubectl"))
            .FirstOrDefault(File.Exists);

    private async Task<(int Exit, string Out, string Err)> KubectlAsync(params string[] args)
    {
        var kubeconfig = Path.Combine(_directory, "config");
        if (!File.Exists(kubeconfig))
        {
            api.Server.WriteKubeconfig(kubeconfig);
        }

        return await Kubectl.RunAsync(kubeconfig, Path.Combine(_directory, "cache"), args);
    }

    private async Task<string> ExpectKubectlAsync(params string[] args)
    {
        var (exit, output, error) = await KubectlAsync(args);
        Assert.True(exit == 0, $"kubectl {string.Join(' ', args)} failed ({exit}): {error}");
        return output;
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    [KubectlFact]
    public async Task Kubectl_applies_reads_patches_watches_and_deletes_custom_resources()
    {
        var crd = Write("crd.json", CustomResourceTests.WidgetCrd("sprockets", "Sprocket"));
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/sprockets.example.com created", await ExpectKubectlAsync("apply", "-f", crd), StringComparison.Ordinal);

        var widget = Write("s1.yaml", "apiVersion: example.com/v1\nkind: Sprocket\nmetadata:\n  name: s1\n  finalizers: [example.com/hold]\nspec:\n  size: 3\n");
        Assert.Contains("sprocket.example.com/s1 created", await ExpectKubectlAsync("apply", "-f", widget), StringComparison.Ordinal);

        var yaml = await ExpectKubectlAsync("get", "sprockets.v1.example.com", "s1", "-o", "yaml");
        Assert.Contains("size: 3", yaml, StringComparison.Ordinal);
        Assert.Contains("color: red", yaml, StringComparison.Ordinal);

        var table = await ExpectKubectlAsync("get", "sprockets.v1.example.com");
        var header = table.Split('\n')[0];
        Assert.Matches(@"^NAME\s+SIZE\s+READY\s+AGE", header);
        Assert.Matches(@"s1\s+3\s+", table);

        // A watch sees the patch.
        var watch = KubectlAsync("get", "sprockets.v1.example.com", "--watch-only", "-o", "custom-columns=NAME:.metadata.name,SIZE:.spec.size", "--request-timeout=8s");
        await Task.Delay(1500);
        Assert.Contains("patched", await ExpectKubectlAsync("patch", "sprockets.v1.example.com", "s1", "--type", "merge", "-p", "{\"spec\":{\"size\":5}}"), StringComparison.Ordinal);
        var watched = await watch;
        Assert.Matches(@"s1\s+5", watched.Out);

        var strategic = await KubectlAsync("patch", "sprockets.v1.example.com", "s1", "--type", "strategic", "-p", "{\"spec\":{\"size\":6}}");
        Assert.NotEqual(0, strategic.Exit);
        Assert.Contains("the body of the request was in an unknown format", strategic.Err, StringComparison.Ordinal);

        Assert.Contains("deleted", await ExpectKubectlAsync("delete", "sprockets.v1.example.com", "s1", "--wait=false"), StringComparison.Ordinal);
        Assert.Contains("deletionTimestamp", await ExpectKubectlAsync("get", "sprockets.v1.example.com", "s1", "-o", "yaml"), StringComparison.Ordinal);
        await ExpectKubectlAsync("patch", "sprockets.v1.example.com", "s1", "--type", "json", "-p", "[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]");
        var gone = await KubectlAsync("get", "sprockets.v1.example.com", "s1");
        Assert.NotEqual(0, gone.Exit);
        Assert.Contains("NotFound", gone.Err, StringComparison.Ordinal);

        var serverSide = await KubectlAsync("apply", "--server-side", "-f", widget);
        Assert.NotEqual(0, serverSide.Exit);
        Assert.Contains("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json", serverSide.Err, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Kubectl_reads_built_in_tables_and_field_errors()
    {
        var namespaces = await ExpectKubectlAsync("get", "namespaces");
        Assert.Matches(@"^NAME\s+STATUS\s+AGE", namespaces);
        Assert.Matches(@"kube-system\s+Active", namespaces);

        var run = await ExpectKubectlAsync("run", "web", "--image=nginx:1.27", "--restart=Never", "-n", "default");
        Assert.Contains("pod/web created", run, StringComparison.Ordinal);
        var pods = await ExpectKubectlAsync("get", "pods", "-n", "default");
        Assert.Matches(@"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE", pods);
        Assert.Matches(@"web\s+0/1\s+Pending\s+0", pods);

        var bad = await KubectlAsync("get", "pods", "-n", "default", "--field-selector", "spec.bogus=1");
        Assert.NotEqual(0, bad.Exit);
        Assert.Contains("field label not supported: spec.bogus", bad.Err, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Kubectl_scales_a_deployment_through_the_scale_subresource()
    {
        var deployment = Write("web.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: inflate
              namespace: default
            spec:
              replicas: 0
              selector:
                matchLabels: {app: inflate}
              template:
                metadata:
                  labels: {app: inflate}
                spec:
                  containers:
                  - name: inflate
                    image: public.ecr.aws/eks-distro/kubernetes/pause:3.7
            """);
        await ExpectKubectlAsync("apply", "-f", deployment);

        Assert.Contains("deployment.apps/inflate scaled", await ExpectKubectlAsync("scale", "deployment", "inflate", "-n", "default", "--replicas", "5"), StringComparison.Ordinal);

        Assert.Equal("5", await ExpectKubectlAsync("get", "deployment", "inflate", "-n", "default", "-o", "jsonpath={.spec.replicas}"));
        Assert.Matches(@"inflate\s+0/5\s", await ExpectKubectlAsync("get", "deployment", "inflate", "-n", "default"));

        // A precondition that does not hold is kubectl's own error, after it read the Scale; nothing changes.
        var precondition = await KubectlAsync("scale", "deployment", "inflate", "-n", "default", "--current-replicas=9", "--replicas", "2");
        Assert.NotEqual(0, precondition.Exit);
        Assert.Contains("Expected replicas to be 9, was 5", precondition.Err, StringComparison.Ordinal);

        // With a precondition that holds, kubectl reads the Scale and PUTs it back.
        Assert.Contains("deployment.apps/inflate scaled", await ExpectKubectlAsync("scale", "deployment", "inflate", "-n", "default", "--current-replicas=5", "--replicas", "2"), StringComparison.Ordinal);
        Assert.Equal("2", await ExpectKubectlAsync("get", "deployment", "inflate", "-n", "default", "-o", "jsonpath={.spec.replicas}"));

        // kubectl reads the Deployment first (a 404 there) and reports that it had nothing to scale.
        var missing = await KubectlAsync("scale", "deployment", "ghost", "-n", "default", "--replicas", "1");
        Assert.NotEqual(0, missing.Exit);
        Assert.Contains("no objects passed to scale", missing.Err, StringComparison.Ordinal);
    }

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
}
