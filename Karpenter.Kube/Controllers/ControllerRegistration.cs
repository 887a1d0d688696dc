using Karpenter.Kube.Client;
using Karpenter.Kube.Informers;
using Karpenter.Kube.Queue;

namespace Karpenter.Kube.Controllers;

/// <summary>
/// A controller as registered in DI (built by <c>AddController</c>/<c>AddSingletonController</c>); the host turns
/// each into a running <see cref="Controller"/>.
/// </summary>
public sealed class ControllerRegistration
{
    internal ControllerRegistration(string name, Func<IServiceProvider, Func<ObjectKey, CancellationToken, Task<ReconcileResult>>> reconcileFactory)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        ReconcileFactory = reconcileFactory;
    }

    public string Name { get; }

    /// <summary>Concurrent reconciles (of different keys). Default 1, as controller-runtime.</summary>
    public int Workers { get; internal set; } = 1;

    /// <summary>The retry limiter; default: 5 ms..1000 s per key MaxOf 10/s burst 100.</summary>
    public Func<TimeProvider, IRateLimiter<ObjectKey>> RateLimiter { get; internal set; } = RateLimiters.DefaultController<ObjectKey>;

    /// <summary>A key enqueued as soon as the controller is created (singletons: their fixed key).</summary>
    public ObjectKey? InitialKey { get; internal set; }

    internal Func<IServiceProvider, Func<ObjectKey, CancellationToken, Task<ReconcileResult>>> ReconcileFactory { get; }

    /// <summary>Each source subscribes the controller to an informer and returns that informer (to wait for its sync).</summary>
    internal List<Func<IServiceProvider, InformerFactory, Controller, IInformer>> Sources { get; } = [];
}
