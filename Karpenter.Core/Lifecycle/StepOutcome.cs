using Karpenter.Kube.Controllers;

namespace Karpenter.Core.Lifecycle;

/// <summary>
/// What one step of the NodeClaim lifecycle (launch, registration, initialization, liveness) asks of its controller:
/// when to come back, and whether it deleted the NodeClaim (then later steps and the status write are skipped).
/// </summary>
public readonly record struct StepOutcome(ReconcileResult Result, bool Deleted = false)
{
    public static StepOutcome Done => default;

    /// <summary>Retry with the controller's backoff (a failure already recorded in a condition).</summary>
    public static StepOutcome Retry => new(ReconcileResult.RequeueRateLimited);

    /// <summary>The NodeClaim was deleted; its finalizer takes over.</summary>
    public static StepOutcome WasDeleted => new(ReconcileResult.Done, Deleted: true);

    public static StepOutcome After(TimeSpan delay) => new(ReconcileResult.After(delay));

    /// <summary>Combines step results as upstream's <c>result.Min</c>: any rate-limited retry wins, else the earliest requeue.</summary>
    public static ReconcileResult Min(IEnumerable<ReconcileResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        TimeSpan? earliest = null;
        foreach (var r in results)
        {
            if (r.Requeue)
            {
                return ReconcileResult.RequeueRateLimited;
            }

            if (r.RequeueAfter is { } after && after > TimeSpan.Zero && (earliest is null || after < earliest))
            {
                earliest = after;
            }
        }

        return earliest is { } e ? ReconcileResult.After(e) : ReconcileResult.Done;
    }
}
