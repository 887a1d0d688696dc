using k8s;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Informers;
using Karpenter.Kube.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Karpenter.Kube.Hosting;

/// <summary>
/// Registers controllers (and, in <see cref="KubeOperatorServiceCollectionExtensions"/>, everything they run on).
/// Returned by <c>services.AddKubeOperator()</c>; one composition root per project calls it.
/// </summary>
public sealed class KubeOperatorBuilder
{
    internal KubeOperatorBuilder(IServiceCollection services) => Services = services;

    public IServiceCollection Services { get; }

    /// <summary>
    /// Registers an object controller named <paramref name="name"/> (e.g. <c>nodeclaim.lifecycle</c>): every change of a
    /// <typeparamref name="TEntity"/> enqueues its key, and <typeparamref name="TReconciler"/> (a singleton) reconciles
    /// the cached object. Configure workers, rate limiter and secondary watches with <paramref name="configure"/>.
    /// </summary>
    public KubeOperatorBuilder AddController<TEntity, TReconciler>(string name, Action<ControllerBuilder<TEntity>>? configure = null)
        where TEntity : class, IKubernetesObject<V1ObjectMeta>
        where TReconciler : class, IReconciler<TEntity>
    {
        Services.TryAddSingleton<TReconciler>();
        InformerScope? scope = null;
        var registration = new ControllerRegistration(name, services =>
        {
            var reconciler = services.GetRequiredService<TReconciler>();
            var informer = services.GetRequiredService<InformerFactory>().Get<TEntity>(scope);
            return async (key, ct) => informer.Get(key) is { } entity
                ? await reconciler.ReconcileAsync(entity, ct)
                : ReconcileResult.Done;
        });
        var builder = new ControllerBuilder<TEntity>(registration);
        configure?.Invoke(builder);
        scope = builder.Scope;
        builder.Finish();
        Services.AddSingleton(registration);
        return this;
    }

    /// <summary>
    /// Registers a singleton controller: one fixed key (<c>ObjectKey.Cluster(name)</c>) enqueued at start, one worker;
    /// <typeparamref name="TReconciler"/> requeues itself with <see cref="ReconcileResult.After"/> and may be
    /// triggered by watches or <see cref="ControllerManager.Trigger"/>.
    /// </summary>
    public KubeOperatorBuilder AddSingletonController<TReconciler>(string name, Action<SingletonControllerBuilder>? configure = null)
        where TReconciler : class, ISingletonReconciler
    {
        Services.TryAddSingleton<TReconciler>();
        var registration = new ControllerRegistration(name, services =>
        {
            var reconciler = services.GetRequiredService<TReconciler>();
            return (_, ct) => reconciler.ReconcileAsync(ct);
        })
        {
            InitialKey = ObjectKey.Cluster(name),
        };
        configure?.Invoke(new SingletonControllerBuilder(registration));
        Services.AddSingleton(registration);
        return this;
    }

    /// <summary>Serves <typeparamref name="TValidator"/> (a singleton) as the validating webhook of <typeparamref name="TEntity"/>.</summary>
    public KubeOperatorBuilder AddValidator<TEntity, TValidator>()
        where TEntity : class, IKubernetesObject<V1ObjectMeta>
        where TValidator : class, IAdmissionValidator<TEntity>
    {
        Services.TryAddSingleton<TValidator>();
        Services.AddSingleton(WebhookEndpoints.Validator<TEntity, TValidator>());
        return this;
    }

    /// <summary>Serves <typeparamref name="TMutator"/> (a singleton) as the mutating webhook of <typeparamref name="TEntity"/>.</summary>
    public KubeOperatorBuilder AddMutator<TEntity, TMutator>()
        where TEntity : class, IKubernetesObject<V1ObjectMeta>
        where TMutator : class, IAdmissionMutator<TEntity>
    {
        Services.TryAddSingleton<TMutator>();
        Services.AddSingleton(WebhookEndpoints.Mutator<TEntity, TMutator>());
        return this;
    }

    /// <summary>Serves <typeparamref name="THandler"/> (a singleton) as the conversion webhook of <paramref name="group"/>/<paramref name="kind"/>.</summary>
    public KubeOperatorBuilder AddConversion<THandler>(string group, string kind)
        where THandler : class, IConversionHandler
    {
        Services.TryAddSingleton<THandler>();
        Services.AddSingleton(WebhookEndpoints.Conversion<THandler>(group, kind));
        return this;
    }
}
