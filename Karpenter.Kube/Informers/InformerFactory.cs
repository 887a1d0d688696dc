using k8s;
using k8s.Models;
using Karpenter.Kube.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Kube.Informers;

/// <summary>
/// The process's shared informers: one per type and <see cref="InformerScope"/>, so every controller and cluster-state
/// view reads the same cache and the API server sees one LIST and WATCH per type. Informers asked for after
/// <see cref="Start"/> start at once.
/// </summary>
public sealed class InformerFactory : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(Type, InformerScope), IInformer> _informers = [];
    private readonly List<Task> _running = [];
    private readonly IKubeClient _client;
    private readonly InformerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private CancellationTokenSource? _stop;

    public InformerFactory(IKubeClient client, IOptions<InformerOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggers);
        _client = client;
        _options = options.Value;
        _time = time;
        _loggers = loggers;
    }

    /// <summary>Every informer created so far.</summary>
    public IReadOnlyList<IInformer> Informers
    {
        get
        {
            lock (_lock)
            {
                return [.. _informers.Values];
            }
        }
    }

    /// <summary>Whether every informer created so far has synced.</summary>
    public bool AllSynced => Informers.All(i => i.HasSynced);

    /// <summary>The shared informer of <typeparamref name="T"/> in <paramref name="scope"/> (everything by default).</summary>
    public Informer<T> Get<T>(InformerScope? scope = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        scope ??= InformerScope.All;
        lock (_lock)
        {
            if (_informers.TryGetValue((typeof(T), scope), out var existing))
            {
                return (Informer<T>)existing;
            }

            var informer = new Informer<T>(_client, scope, _options, _time, _loggers.CreateLogger($"Karpenter.Kube.Informers.Informer<{typeof(T).Name}>"));
            _informers[(typeof(T), scope)] = informer;
            if (_stop is not null)
            {
                _running.Add(informer.RunAsync(_stop.Token));
            }

            return informer;
        }
    }

    /// <summary>Waits until every informer created so far has synced.</summary>
    public Task WaitForSyncAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Informers.Select(i => i.WaitForSyncAsync(cancellationToken)));

    /// <summary>Starts every informer (existing and future) until <paramref name="cancellationToken"/> is cancelled.</summary>
    public void Start(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_stop is not null)
            {
                throw new InvalidOperationException("The informers were already started.");
            }

            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            foreach (var informer in _informers.Values)
            {
                _running.Add(informer.RunAsync(_stop.Token));
            }
        }
    }

    /// <summary>Stops every informer and waits for their loops to end.</summary>
    public async Task StopAsync()
    {
        Task[] running;
        lock (_lock)
        {
            _stop?.Cancel();
            running = [.. _running];
        }

        await Task.WhenAll(running);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop?.Dispose();
    }
}
