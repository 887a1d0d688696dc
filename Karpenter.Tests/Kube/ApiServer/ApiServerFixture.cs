using k8s;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Sim.KubeApi;
using Microsoft.Extensions.Options;

namespace Karpenter.Tests.Kube.ApiServer;

/// <summary>
/// One Kubernetes API emulator per test class, reached over HTTP by the real <see cref="KubeClient"/>, so the runtime
/// is checked against the same wire protocol and error shapes a real API server uses.
/// </summary>
public abstract class ApiServerTest : IAsyncLifetime, IDisposable
{
    private readonly List<IDisposable> _disposables = [];

    protected KubeApiServer Server { get; private set; } = null!;

    protected IKubeClient Client { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Server = await KubeApiServer.StartAsync();
        Client = NewClient();
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var d in _disposables)
        {
            d.Dispose();
        }

        await Server.DisposeAsync();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>A separate client (its own connection pool), as another process would have.</summary>
    protected IKubeClient NewClient()
    {
        var kubernetes = new Kubernetes(Server.ClientConfiguration);
        _disposables.Add(kubernetes);
        return new KubeClient(kubernetes, Options.Create(new KubeClientOptions { RequestTimeout = TimeSpan.FromSeconds(20) }));
    }

    protected static V1Pod Pod(string name, string ns = "default", IDictionary<string, string>? labels = null, IList<string>? finalizers = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels, Finalizers = finalizers },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "registry.k8s.io/pause:3.10" }] },
    };

    protected static V1Node Node(string name, IList<string>? finalizers = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Finalizers = finalizers },
        Spec = new V1NodeSpec(),
    };

    protected static async Task Eventually(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            try
            {
                await Task.Delay(5, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting until {what}");
            }
        }
    }
}
