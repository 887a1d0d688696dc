using k8s.Models;

namespace Karpenter.Kube.Conditions;

/// <summary>Condition statuses.</summary>
public static class ConditionStatus
{
    public const string True = "True";
    public const string False = "False";
    public const string Unknown = "Unknown";
}

/// <summary>
/// Helpers over a <c>status.conditions</c> list (<see cref="V1Condition"/>), following the API conventions:
/// one entry per type, <c>lastTransitionTime</c> changes only when the status changes, <c>observedGeneration</c>
/// records the generation the writer saw.
/// </summary>
public static class ConditionList
{
    /// <summary>The condition of <paramref name="type"/>, or null.</summary>
    public static V1Condition? Get(IEnumerable<V1Condition>? conditions, string type) =>
        conditions?.FirstOrDefault(c => c.Type == type);

    public static bool IsTrue(IEnumerable<V1Condition>? conditions, string type) => Get(conditions, type)?.Status == ConditionStatus.True;

    public static bool IsFalse(IEnumerable<V1Condition>? conditions, string type) => Get(conditions, type)?.Status == ConditionStatus.False;

    /// <summary>Missing or Unknown.</summary>
    public static bool IsUnknown(IEnumerable<V1Condition>? conditions, string type) =>
        Get(conditions, type) is not { } c || c.Status == ConditionStatus.Unknown;

    /// <summary>
    /// Sets a condition; returns true when anything changed. The transition time moves to <paramref name="now"/> only
    /// when the status changes (or the condition is new). Reason must be CamelCase and non-empty per the API.
    /// </summary>
    public static bool Set(IList<V1Condition> conditions, string type, string status, string reason, string? message, long? observedGeneration, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(status);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        message ??= string.Empty;
        var existing = Get(conditions, type);
        if (existing is null)
        {
            conditions.Add(new V1Condition
            {
                Type = type,
                Status = status,
                Reason = reason,
                Message = message,
                ObservedGeneration = observedGeneration,
                LastTransitionTime = Truncate(now),
            });
            return true;
        }

        var changed = false;
        if (existing.Status != status)
        {
            existing.Status = status;
            existing.LastTransitionTime = Truncate(now);
            changed = true;
        }

        if (existing.Reason != reason)
        {
            existing.Reason = reason;
            changed = true;
        }

        if ((existing.Message ?? string.Empty) != message)
        {
            existing.Message = message;
            changed = true;
        }

        if (existing.ObservedGeneration != observedGeneration)
        {
            existing.ObservedGeneration = observedGeneration;
            changed = true;
        }

        return changed;
    }

    /// <summary>Removes the condition of <paramref name="type"/>; true when there was one.</summary>
    public static bool Remove(IList<V1Condition> conditions, string type)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        var existing = Get(conditions, type);
        return existing is not null && conditions.Remove(existing);
    }

    // metav1.Time has second precision on the wire; keep it so a re-read compares equal.
    private static DateTime Truncate(DateTimeOffset now) =>
        new(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
}

/// <summary>
/// A root condition (usually <c>Ready</c>) computed from dependent conditions, as Karpenter's operatorpkg
/// <c>ConditionSet</c>: the root is True when every dependent is True, False (with the first False dependent's
/// reason and message) when any is False, and Unknown otherwise.
/// </summary>
public sealed class ConditionSet
{
    public ConditionSet(string root, params string[] dependents)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(dependents);
        Root = root;
        Dependents = dependents;
    }

    public string Root { get; }

    public IReadOnlyList<string> Dependents { get; }

    /// <summary>Adds every missing dependent (and the root) as Unknown, "AwaitingReconciliation".</summary>
    public bool Initialize(IList<V1Condition> conditions, long? observedGeneration, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        var changed = false;
        foreach (var type in Dependents.Append(Root))
        {
            if (ConditionList.Get(conditions, type) is null)
            {
                changed |= ConditionList.Set(conditions, type, ConditionStatus.Unknown, "AwaitingReconciliation", "object is awaiting reconciliation", observedGeneration, now);
            }
        }

        return changed;
    }

    /// <summary>Sets a dependent and recomputes the root; true when anything changed.</summary>
    public bool Set(IList<V1Condition> conditions, string type, string status, string reason, string? message, long? observedGeneration, DateTimeOffset now)
    {
        var changed = ConditionList.Set(conditions, type, status, reason, message, observedGeneration, now);
        return RecomputeRoot(conditions, observedGeneration, now) | changed;
    }

    public bool SetTrue(IList<V1Condition> conditions, string type, long? observedGeneration, DateTimeOffset now) =>
        Set(conditions, type, ConditionStatus.True, type, string.Empty, observedGeneration, now);

    public bool SetFalse(IList<V1Condition> conditions, string type, string reason, string message, long? observedGeneration, DateTimeOffset now) =>
        Set(conditions, type, ConditionStatus.False, reason, message, observedGeneration, now);

    public bool SetUnknown(IList<V1Condition> conditions, string type, string reason, string message, long? observedGeneration, DateTimeOffset now) =>
        Set(conditions, type, ConditionStatus.Unknown, reason, message, observedGeneration, now);

    /// <summary>Recomputes the root from the dependents.</summary>
    public bool RecomputeRoot(IList<V1Condition> conditions, long? observedGeneration, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        var deps = Dependents.Select(t => (Type: t, Condition: ConditionList.Get(conditions, t))).ToArray();
        if (deps.FirstOrDefault(d => d.Condition?.Status == ConditionStatus.False) is { Condition: { } failed } f)
        {
            return ConditionList.Set(conditions, Root, ConditionStatus.False, failed.Reason ?? f.Type, failed.Message, observedGeneration, now);
        }

        if (deps.All(d => d.Condition?.Status == ConditionStatus.True))
        {
            return ConditionList.Set(conditions, Root, ConditionStatus.True, Root, string.Empty, observedGeneration, now);
        }

        var unknown = deps.First(d => d.Condition?.Status != ConditionStatus.True);
        return ConditionList.Set(
            conditions,
            Root,
            ConditionStatus.Unknown,
            unknown.Condition?.Reason ?? "AwaitingReconciliation",
            unknown.Condition?.Message ?? $"{unknown.Type} is unknown",
            observedGeneration,
            now);
    }
}
