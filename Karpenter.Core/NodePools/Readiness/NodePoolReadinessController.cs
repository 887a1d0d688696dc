using FluentValidation;
using Karpenter.Entities.V1;
using Karpenter.Entities.Validation;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;
using Karpenter.Kube.Controllers;

namespace Karpenter.Core.NodePools.Readiness;

/// <summary>
/// <c>nodepool.readiness</c> and <c>nodepool.validation</c> (upstream): a NodePool's <c>NodeClassReady</c> mirrors the
/// <c>Ready</c> condition of the NodeClass it references (False when it is missing or of a kind this operator does not
/// serve, Unknown while it reports nothing), <c>ValidationSucceeded</c> is the verdict of the same validator the
/// admission webhook runs (so a NodePool admitted by an API server without CEL or webhooks is still caught), and
/// <c>Ready</c> is their conjunction; <c>NodeRegistrationHealthy</c> returns to Unknown when the NodePool or its
/// NodeClass changes (<see cref="NodePoolRegistrationHealth"/>). A launch refuses NodeClaims of a NodePool that is not Ready.
/// </summary>
public sealed class NodePoolReadinessController(IKubeClient client, INodeClassReadiness nodeClasses, NodePoolValidator validator, TimeProvider time) : IReconciler<NodePool>
{
    public const string Name = "nodepool.readiness";

    /// <summary>NodePool conditions: Ready = ValidationSucceeded ∧ NodeClassReady (upstream <c>nodepool_status.go</c>).</summary>
    public static ConditionSet Conditions { get; } = new(ConditionTypes.Ready, ConditionTypes.ValidationSucceeded, ConditionTypes.NodeClassReady);

    public async Task<ReconcileResult> ReconcileAsync(NodePool entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.IsBeingDeleted())
        {
            return ReconcileResult.Done;
        }

        var modified = KubeObjects.DeepClone(entity);
        modified.Status ??= new NodePoolStatus();
        var conditions = modified.Status.Conditions ??= [];
        var now = time.GetUtcNow();
        var generation = entity.Metadata.Generation;
        var changed = Conditions.Initialize(conditions, generation, now);

        var reference = entity.Spec?.Template?.Spec?.NodeClassRef;
        var (status, reason, message) = NodeClassReady(reference);
        changed |= Conditions.Set(conditions, ConditionTypes.NodeClassReady, status, reason, message, generation, now);

        var errors = validator.Validate(entity, null).Errors.Where(e => e.Severity == Severity.Error).ToList();
        if (errors.Count == 0)
        {
            changed |= Conditions.SetTrue(conditions, ConditionTypes.ValidationSucceeded, generation, now);
        }
        else
        {
            changed |= Conditions.SetFalse(conditions, ConditionTypes.ValidationSucceeded, "NodePoolValidationFailed",
                string.Join("; ", errors.Select(e => $"{e.PropertyName}: {e.ErrorMessage}")), generation, now);
        }

        // NodeRegistrationHealthy only on NodePools whose NodeClass kind this operator serves, as upstream.
        if (reference is not null && nodeClasses.Find(reference) is { } nodeClass)
        {
            changed |= NodePoolRegistrationHealth.ResetOnChange(entity, modified.Status, nodeClass.Generation, now);
        }

        if (!changed)
        {
            return ReconcileResult.Done;
        }

        try
        {
            await client.PatchStatusFromAsync(entity, modified, optimisticLock: true, cancellationToken);
        }
        catch (KubeConflictException)
        {
            return ReconcileResult.RequeueRateLimited;
        }
        catch (KubeNotFoundException)
        {
        }

        return ReconcileResult.Done;
    }

    private (string Status, string Reason, string Message) NodeClassReady(NodeClassReference? reference)
    {
        if (reference is null)
        {
            return (ConditionStatus.False, "NodeClassNotFound", "The NodePool references no NodeClass");
        }

        if (nodeClasses.Find(reference) is not { } state)
        {
            return reference.Group == nodeClasses.Kind.Group && reference.Kind == nodeClasses.Kind.Kind
                ? (ConditionStatus.Unknown, "AwaitingReconciliation", "The NodeClass cache has not synced")
                : (ConditionStatus.False, "NodeClassNotFound", $"This operator serves {nodeClasses.Kind.Kind}.{nodeClasses.Kind.Group}, not {reference.Kind}.{reference.Group}");
        }

        if (!state.Exists)
        {
            return (ConditionStatus.False, "NodeClassNotFound", $"{reference.Kind} {reference.Name} not found on cluster");
        }

        return state.Ready?.Status switch
        {
            ConditionStatus.True => (ConditionStatus.True, ConditionTypes.NodeClassReady, string.Empty),
            ConditionStatus.False => (ConditionStatus.False, "NodeClassNotReady", $"{reference.Kind} {reference.Name} is not ready: {state.Ready.Reason} {state.Ready.Message}".TrimEnd()),
            _ => (ConditionStatus.Unknown, "NodeClassReadinessUnknown", $"{reference.Kind} {reference.Name} does not report readiness yet"),
        };
    }
}
