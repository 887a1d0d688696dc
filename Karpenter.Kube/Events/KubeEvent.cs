using k8s;
using k8s.Models;

namespace Karpenter.Kube.Events;

/// <summary>Event types of <c>events.k8s.io/v1</c>.</summary>
public static class EventTypes
{
    public const string Normal = "Normal";
    public const string Warning = "Warning";
}

/// <summary>
/// An event about an object. Repeats with the same reason, object and message (or the same
/// <see cref="DedupeValues"/>, when given) within the recorder's dedupe window are dropped.
/// </summary>
/// <param name="Regarding">The object the event is about.</param>
/// <param name="Type"><see cref="EventTypes.Normal"/> or <see cref="EventTypes.Warning"/>.</param>
/// <param name="Reason">A CamelCase reason, e.g. <c>DisruptionBlocked</c>.</param>
/// <param name="Message">The human-readable note (cut at 1024 characters, the API's limit).</param>
/// <param name="Action">What was done or failed (required by events.k8s.io/v1); defaults to the reason.</param>
public sealed record KubeEvent(IKubernetesObject<V1ObjectMeta> Regarding, string Type, string Reason, string Message, string? Action = null)
{
    /// <summary>Values that identify repeats instead of the message (Karpenter's <c>DedupeValues</c>).</summary>
    public IReadOnlyList<string>? DedupeValues { get; init; }

    /// <summary>Overrides the recorder's dedupe window for this event.</summary>
    public TimeSpan? DedupeTimeout { get; init; }
}

/// <summary>
/// Publishes events without blocking: <see cref="Publish"/> never awaits the API server and never throws for a full
/// buffer or a failed write (both are dropped and counted). Never await events on the reconcile path.
/// </summary>
public interface IEventRecorder
{
    void Publish(KubeEvent kubeEvent);
}
