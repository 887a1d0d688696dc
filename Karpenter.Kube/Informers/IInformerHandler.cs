namespace Karpenter.Kube.Informers;

/// <summary>
/// Receives an informer's changes, in order, on the informer's loop: keep handlers quick (enqueue keys) and never
/// block. Exceptions are logged and do not stop the informer.
/// </summary>
public interface IInformerHandler<in T>
{
    void OnAdd(T obj);

    void OnUpdate(T oldObj, T newObj);

    /// <summary>
    /// The object is gone: a DELETED event, or a re-list no longer containing it (a synthetic delete carrying the
    /// last state the cache knew).
    /// </summary>
    void OnDelete(T obj);
}

/// <summary>An event handler from delegates.</summary>
public sealed class InformerHandler<T>(Action<T>? onAdd = null, Action<T, T>? onUpdate = null, Action<T>? onDelete = null) : IInformerHandler<T>
{
    public void OnAdd(T obj) => onAdd?.Invoke(obj);

    public void OnUpdate(T oldObj, T newObj) => onUpdate?.Invoke(oldObj, newObj);

    public void OnDelete(T obj) => onDelete?.Invoke(obj);
}

/// <summary>Factories of <see cref="InformerHandler{T}"/>.</summary>
public static class InformerHandler
{
    /// <summary>One callback for every change (the current object; the last known one for deletes).</summary>
    public static InformerHandler<T> Any<T>(Action<T> onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        return new(onChange, (_, n) => onChange(n), onChange);
    }
}
