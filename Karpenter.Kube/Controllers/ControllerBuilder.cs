using k8s;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Informers;
using Karpenter.Kube.Queue;

namespace Karpenter.Kube.Controllers;

/// <summary>Configures an object controller: workers, rate limiter, the primary watch and secondary watches.</summary>
public sealed class ControllerBuilder<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly ControllerRegistration _registration;
    private InformerScope _scope = InformerScope.All;
    private Func<T, T, bool>? _updateFilter;

    internal ControllerBuilder(ControllerRegistration registration) => _registration = registration;

    /// <summary>Concurrent reconciles of different keys (a key never runs twice at once).</summary>
    public ControllerBuilder<T> WithWorkers(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _registration.Workers = workers;
        return this;
    }

    /// <summary>Replaces the default retry limiter (e.g. <see cref="RateLimiters.Exponential{T}"/>).</summary>
    public ControllerBuilder<T> WithRateLimiter(Func<TimeProvider, IRateLimiter<ObjectKey>> rateLimiter)
    {
        ArgumentNullException.ThrowIfNull(rateLimiter);
        _registration.RateLimiter = rateLimiter;
        return this;
    }

    /// <summary>Restricts the primary informer (namespace, selectors).</summary>
    public ControllerBuilder<T> InScope(InformerScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        _scope = scope;
        return this;
    }

    /// <summary>
    /// Only updates of the primary type for which <paramref name="predicate"/>(old, new) holds trigger a reconcile
    /// (adds and deletes always do), e.g. <see cref="Predicates.GenerationChanged"/>.
    /// </summary>
    public ControllerBuilder<T> WithUpdateFilter(Func<T, T, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        _updateFilter = predicate;
        return this;
    }

    /// <summary>
    /// Reconciles the keys <paramref name="map"/> returns whenever an object of <typeparamref name="TOther"/> changes
    /// (for updates, the keys of both old and new states).
    /// </summary>
    public ControllerBuilder<T> Watches<TOther>(Func<TOther, IEnumerable<ObjectKey>> map, InformerScope? scope = null)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(map);
        return Watches<TOther>(_ => map, scope);
    }

    /// <summary>As <see cref="Watches{TOther}(Func{TOther, IEnumerable{ObjectKey}}, InformerScope?)"/>, with a map built from services (e.g. an informer index).</summary>
    public ControllerBuilder<T> Watches<TOther>(Func<IServiceProvider, Func<TOther, IEnumerable<ObjectKey>>> mapFactory, InformerScope? scope = null)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(mapFactory);
        _registration.Sources.Add((services, informers, controller) => Sources.Mapped(services, informers, controller, mapFactory, scope));
        return this;
    }

    /// <summary>Waits for the cache of <typeparamref name="TOther"/> to sync before starting, without watching it.</summary>
    public ControllerBuilder<T> WaitsFor<TOther>(InformerScope? scope = null)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        _registration.Sources.Add((_, informers, _) => informers.Get<TOther>(scope));
        return this;
    }

    internal InformerScope Scope => _scope;

    internal void Finish()
    {
        var scope = _scope;
        var filter = _updateFilter;
        _registration.Sources.Insert(0, (_, informers, controller) =>
        {
            var informer = informers.Get<T>(scope);
            informer.AddEventHandler(new InformerHandler<T>(
                o => controller.Enqueue(ObjectKey.Of(o)),
                (o, n) =>
                {
                    if (filter is null || filter(o, n))
                    {
                        controller.Enqueue(ObjectKey.Of(n));
                    }
                },
                o => controller.Enqueue(ObjectKey.Of(o))));
            return informer;
        });
    }
}

/// <summary>Configures a singleton controller: what triggers its fixed key and which caches it waits for.</summary>
public sealed class SingletonControllerBuilder
{
    private readonly ControllerRegistration _registration;

    internal SingletonControllerBuilder(ControllerRegistration registration) => _registration = registration;

    /// <summary>Replaces the default retry limiter.</summary>
    public SingletonControllerBuilder WithRateLimiter(Func<TimeProvider, IRateLimiter<ObjectKey>> rateLimiter)
    {
        ArgumentNullException.ThrowIfNull(rateLimiter);
        _registration.RateLimiter = rateLimiter;
        return this;
    }

    /// <summary>Triggers the singleton when an object of <typeparamref name="TOther"/> changes (and <paramref name="predicate"/> holds for its new state).</summary>
    public SingletonControllerBuilder Watches<TOther>(Func<TOther, bool>? predicate = null, InformerScope? scope = null)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        var key = ObjectKey.Cluster(_registration.Name);
        _registration.Sources.Add((services, informers, controller) =>
            Sources.Mapped<TOther>(services, informers, controller, _ => o => predicate is null || predicate(o) ? [key] : [], scope));
        return this;
    }

    /// <summary>Waits for the cache of <typeparamref name="TOther"/> to sync before the first run.</summary>
    public SingletonControllerBuilder WaitsFor<TOther>(InformerScope? scope = null)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        _registration.Sources.Add((_, informers, _) => informers.Get<TOther>(scope));
        return this;
    }
}

/// <summary>Ready-made update filters.</summary>
public static class Predicates
{
    /// <summary>Passes updates that changed <c>metadata.generation</c> (spec changes of resources that track it).</summary>
    public static bool GenerationChanged<T>(T oldObj, T newObj)
        where T : IKubernetesObject<V1ObjectMeta> =>
        oldObj?.Metadata?.Generation != newObj?.Metadata?.Generation;

    /// <summary>Passes updates that changed labels.</summary>
    public static bool LabelsChanged<T>(T oldObj, T newObj)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var a = oldObj?.Metadata?.Labels ?? new Dictionary<string, string>();
        var b = newObj?.Metadata?.Labels ?? new Dictionary<string, string>();
        return a.Count != b.Count || a.Any(kv => !b.TryGetValue(kv.Key, out var v) || v != kv.Value);
    }
}

internal static class Sources
{
    public static IInformer Mapped<TOther>(
        IServiceProvider services,
        InformerFactory informers,
        Controller controller,
        Func<IServiceProvider, Func<TOther, IEnumerable<ObjectKey>>> mapFactory,
        InformerScope? scope)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        var map = mapFactory(services);
        var informer = informers.Get<TOther>(scope);
        informer.AddEventHandler(new InformerHandler<TOther>(
            o => EnqueueAll(controller, map(o)),
            (o, n) =>
            {
                EnqueueAll(controller, map(o));
                EnqueueAll(controller, map(n));
            },
            o => EnqueueAll(controller, map(o))));
        return informer;
    }

    private static void EnqueueAll(Controller controller, IEnumerable<ObjectKey> keys)
    {
        foreach (var key in keys)
        {
            controller.Enqueue(key);
        }
    }
}
