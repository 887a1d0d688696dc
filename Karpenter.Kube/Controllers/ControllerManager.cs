using System.Diagnostics;
using Karpenter.Kube.Client;
using Karpenter.Kube.Informers;
using Karpenter.Kube.Queue;
using Microsoft.Extensions.Logging;

namespace Karpenter.Kube.Controllers;

/// <summary>
/// Every registered controller, created eagerly (queues exist from the start, so triggers are never lost) and
/// reachable by name, e.g. to trigger a singleton from outside its watches.
/// </summary>
public sealed class ControllerManager : IDisposable
{
    private readonly Dictionary<string, (Controller Controller, ControllerRegistration Registration)> _controllers = new(StringComparer.Ordinal);
    private readonly IServiceProvider _services;
    private readonly InformerFactory _informers;
    private readonly Lock _wireLock = new();
    private IReadOnlyList<(Controller Controller, IReadOnlyList<IInformer> Informers)>? _wired;

    public ControllerManager(
        IEnumerable<ControllerRegistration> registrations,
        IServiceProvider services,
        InformerFactory informers,
        TimeProvider time,
        ILoggerFactory loggers,
        ControllerMetrics metrics,
        WorkQueueMetrics queueMetrics)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(informers);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggers);
        _services = services;
        _informers = informers;
        ActivitySource = new ActivitySource(ControllerMetrics.ActivitySourceName);
        foreach (var registration in registrations)
        {
            if (_controllers.ContainsKey(registration.Name))
            {
                throw new InvalidOperationException($"Two controllers are registered as '{registration.Name}'; controller names must be unique.");
            }

            // The reconciler is resolved on first use, so reconcilers may depend on this manager.
            var reconcile = new Lazy<Func<ObjectKey, CancellationToken, Task<ReconcileResult>>>(() => registration.ReconcileFactory(services));
            var controller = new Controller(
                registration.Name,
                (key, ct) => reconcile.Value(key, ct),
                registration.Workers,
                registration.RateLimiter(time),
                time,
                loggers.CreateLogger($"Karpenter.Kube.Controllers.{registration.Name}"),
                ActivitySource,
                metrics,
                queueMetrics);
            if (registration.InitialKey is { } initial)
            {
                controller.Enqueue(initial);
            }

            _controllers[registration.Name] = (controller, registration);
        }
    }

    /// <summary>The source of every reconcile span.</summary>
    public ActivitySource ActivitySource { get; }

    public IReadOnlyCollection<Controller> Controllers => _controllers.Values.Select(c => c.Controller).ToArray();

    /// <summary>The controller named <paramref name="name"/>.</summary>
    public Controller Get(string name) =>
        _controllers.TryGetValue(name, out var c) ? c.Controller : throw new KeyNotFoundException($"No controller is registered as '{name}'.");

    /// <summary>Triggers <paramref name="key"/> in controller <paramref name="name"/>.</summary>
    public void Enqueue(string name, ObjectKey key) => Get(name).Enqueue(key);

    /// <summary>Triggers a singleton controller.</summary>
    public void Trigger(string singletonName) => Get(singletonName).Enqueue(ObjectKey.Cluster(singletonName));

    /// <summary>
    /// Subscribes every controller to its informers (once) and returns, per controller, the informers it must wait for.
    /// </summary>
    public IReadOnlyList<(Controller Controller, IReadOnlyList<IInformer> Informers)> Wire()
    {
        lock (_wireLock)
        {
            return _wired ??= _controllers.Values
                .Select(c => (c.Controller, (IReadOnlyList<IInformer>)c.Registration.Sources.Select(s => s(_services, _informers, c.Controller)).Distinct().ToArray()))
                .ToArray();
        }
    }

    public void Dispose() => ActivitySource.Dispose();
}
