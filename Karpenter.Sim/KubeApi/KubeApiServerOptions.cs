using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.KubeApi;

/// <summary>How a <see cref="KubeApiServer"/> listens and behaves. Validated by <see cref="KubeApiServer.StartAsync"/>.</summary>
public sealed class KubeApiServerOptions
{
    /// <summary>Loopback address to listen on.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks an ephemeral port.</summary>
    public int Port { get; set; }

    /// <summary>Serve HTTPS with <see cref="ServerCertificate"/> (or a generated self-signed CA and serving certificate).</summary>
    public bool UseTls { get; set; }

    /// <summary>The serving certificate (with private key) when <see cref="UseTls"/>; generated when null.</summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>The clock of timestamps, graceful deletion, history retention, bookmarks and watch timeouts.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// The clock webhook call deadlines (<c>timeoutSeconds</c>) run on; null: <see cref="TimeProvider"/>. The simulator
    /// sets real time here: on its accelerated clock a 10 s deadline would pass in a few real milliseconds, less than a
    /// TLS handshake takes.
    /// </summary>
    public TimeProvider? WebhookDeadlineClock { get; set; }

    /// <summary>How long committed changes stay replayable by watches (etcd keeps about five minutes).</summary>
    public TimeSpan HistoryWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Upper bound on the retained change history, whatever its age.</summary>
    public int MaxHistoryEvents { get; set; } = 100_000;

    /// <summary>How often watches that asked for bookmarks get one (the real server: about a minute).</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Watches without <c>timeoutSeconds</c> end after this long (the real server: 30 to 60 minutes).</summary>
    public TimeSpan DefaultWatchTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Events a watch may have queued before it is closed as too slow.</summary>
    public int MaxWatchBacklog { get; set; } = 500_000;

    /// <summary>Request bodies above this size are refused with 413 (kube-apiserver: 3 MiB).</summary>
    public int MaxRequestBodyBytes { get; set; } = 3 * 1024 * 1024;

    /// <summary>Objects whose stored form exceeds this are refused (etcd's request limit, 1.5 MiB).</summary>
    public int MaxObjectBytes { get; set; } = 1536 * 1024;

    /// <summary>
    /// Emulate kube-controller-manager's namespace controller: a deleted namespace's contents are deleted
    /// and the namespace disappears once empty. Off, namespaces stay Terminating forever (as in envtest).
    /// </summary>
    public bool RunNamespaceController { get; set; } = true;

    /// <summary>
    /// Emulate kube-controller-manager's garbage collector: dependents whose owners are gone are deleted, and
    /// DELETE's <c>propagationPolicy</c> <c>Orphan</c> / <c>Foreground</c> add the <c>orphan</c> /
    /// <c>foregroundDeletion</c> finalizer that the collector then resolves (honouring <c>blockOwnerDeletion</c>).
    /// Off by default, as in envtest: then nothing is collected and propagation policies add no finalizer.
    /// Each pass reads every stored object, so leave it off where writes are constant and GC is not wanted.
    /// </summary>
    public bool RunGarbageCollector { get; set; }

    /// <summary>Seed of the randomness behind generated names and fault injection (null: unseeded).</summary>
    public int? RandomSeed { get; set; }

    /// <summary>
    /// Maps a webhook <c>clientConfig.service</c> (namespace, name, port, path) to a URL, as envtest rewrites
    /// services to local URLs; by default <c>https://name.namespace.svc:port/path</c> (unreachable here).
    /// </summary>
    public Func<string, string, int, string?, Uri>? WebhookServiceResolver { get; set; }

    /// <summary>Where the server logs; null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        var problems = new List<string>();
        if (Port is < 0 or > 65535)
        {
            problems.Add($"Port must be between 0 and 65535 (was {Port}).");
        }

        if (!System.Net.IPAddress.TryParse(Host, out var address) || !System.Net.IPAddress.IsLoopback(address))
        {
            problems.Add($"Host must be a loopback IP address such as 127.0.0.1 (was '{Host}').");
        }

        if (HistoryWindow <= TimeSpan.Zero)
        {
            problems.Add("HistoryWindow must be positive.");
        }

        if (MaxHistoryEvents < 1)
        {
            problems.Add("MaxHistoryEvents must be at least 1.");
        }

        if (BookmarkInterval <= TimeSpan.Zero)
        {
            problems.Add("BookmarkInterval must be positive.");
        }

        if (DefaultWatchTimeout <= TimeSpan.Zero)
        {
            problems.Add("DefaultWatchTimeout must be positive.");
        }

        if (MaxWatchBacklog < 1 || MaxRequestBodyBytes < 1024 || MaxObjectBytes < 1024)
        {
            problems.Add("MaxWatchBacklog must be positive; MaxRequestBodyBytes and MaxObjectBytes at least 1024.");
        }

        if (ServerCertificate is { HasPrivateKey: false })
        {
            problems.Add("ServerCertificate must include its private key.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid KubeApiServerOptions: " + string.Join(" ", problems));
        }
    }
}
