using k8s;
using k8s.Models;
using Karpenter.Sim.KubeApi;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Support;

/// <summary>
/// One in-memory API server per test class (use with <c>IClassFixture&lt;KubeApiFixture&gt;</c>), on a
/// <see cref="FakeTimeProvider"/> the tests step. Tests share the server, so each should work in its own
/// namespace (<see cref="CreateNamespaceAsync"/>) or use unique names.
/// </summary>
public sealed class KubeApiFixture : IAsyncLifetime
{
    private int _namespaces;

    /// <summary>The server's clock; step it to make time pass (graceful deletion, history window, bookmarks).</summary>
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    public KubeApiServer Server { get; private set; } = null!;

    /// <summary>A KubernetesClient talking to <see cref="Server"/> over HTTP.</summary>
    public IKubernetes Client { get; private set; } = null!;

    /// <summary>Options for the server; override in a derived fixture to change them.</summary>
    public KubeApiServerOptions Options { get; } = new();

    public async Task InitializeAsync()
    {
        Options.TimeProvider = Clock;
        Server = await KubeApiServer.StartAsync(Options);
        Client = NewClient();
    }

    /// <summary>A separate client (e.g. to run a watch alongside requests).</summary>
    public IKubernetes NewClient() => new Kubernetes(Server.ClientConfiguration);

    /// <summary>Creates a fresh namespace with a unique name and returns the name.</summary>
    public async Task<string> CreateNamespaceAsync(string prefix = "test")
    {
        var name = $"{prefix}-{Interlocked.Increment(ref _namespaces)}";
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
