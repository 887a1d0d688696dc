using Karpenter.Aws.InstanceProfiles;
using Karpenter.Aws.LaunchTemplates;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Kube.Finalizers;
using Karpenter.Kube.Informers;
using Microsoft.Extensions.Logging;

namespace Karpenter.Aws.NodeClasses;

/// <summary>
/// The <c>nodeclass</c> controller (upstream <c>pkg/controllers/nodeclass</c>): keeps an EC2NodeClass's status (subnets,
/// security groups, AMIs, instance profile, conditions) resolved, and owns the <c>karpenter.k8s.aws/termination</c>
/// finalizer: a deleted NodeClass waits until no NodeClaim uses it (saying so in an event every 10 minutes), then its
/// managed instance profile and its launch templates are deleted.
/// </summary>
public sealed partial class NodeClassController(FinalizerClient finalizers, IKubeClient client, NodeClassStatusResolver resolver,
    InstanceProfileProvider profiles, LaunchTemplateProvider launchTemplates, InformerFactory informers, IEventRecorder events,
    ILogger<NodeClassController> logger) : FinalizingReconciler<EC2NodeClass>(finalizers)
{
    public const string Name = "nodeclass";

    private readonly Informer<NodeClaim> _nodeClaims = informers.Get<NodeClaim>();

    protected override string Finalizer => Finalizers.AwsTermination;

    protected override async Task<ReconcileResult> ReconcileLiveAsync(EC2NodeClass entity, CancellationToken cancellationToken)
    {
        var original = Clone(entity);
        var modified = Clone(entity);
        var requeue = await resolver.ResolveAsync(modified, cancellationToken);
        try
        {
            await client.PatchStatusFromAsync(original, modified, cancellationToken: cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            return ReconcileResult.Done;
        }
        var ready = modified.GetCondition(ConditionTypes.Ready);
        if (ready?.Status == "False" && original.GetCondition(ConditionTypes.Ready)?.Message != ready.Message)
        {
            LogNotReady(logger, entity.Metadata.Name, ready.Reason ?? "", ready.Message ?? "");
        }
        return ReconcileResult.After(requeue);
    }

    protected override async Task<FinalizeOutcome> FinalizeAsync(EC2NodeClass entity, CancellationToken cancellationToken)
    {
        var users = await NodeClaimsUsingAsync(entity.Metadata.Name, cancellationToken);
        if (users.Count > 0)
        {
            events.Publish(new KubeEvent(entity, EventTypes.Normal, "WaitingOnNodeClaimTermination",
                $"Waiting on NodeClaim termination for {string.Join(", ", users.Order(StringComparer.Ordinal).Take(5))}{(users.Count > 5 ? $" and {users.Count - 5} other(s)" : "")}")
            {
                DedupeValues = [entity.Metadata.Name],
                DedupeTimeout = TimeSpan.FromMinutes(10),
            });
            return FinalizeOutcome.Pending(TimeSpan.FromMinutes(10));
        }
        if (!string.IsNullOrEmpty(entity.Spec.Role))
        {
            var name = string.IsNullOrEmpty(entity.Status.InstanceProfile)
                ? profiles.ProfileName(entity.Metadata.Name, entity.Metadata.Uid ?? "")
                : entity.Status.InstanceProfile;
            await profiles.DeleteAsync(name, cancellationToken);
        }
        await launchTemplates.DeleteAllAsync(entity.Metadata.Name, cancellationToken);
        LogFinalized(logger, entity.Metadata.Name);
        return FinalizeOutcome.Done;
    }

    private async Task<List<string>> NodeClaimsUsingAsync(string nodeClassName, CancellationToken cancellationToken)
    {
        IEnumerable<NodeClaim> claims = _nodeClaims.HasSynced
            ? _nodeClaims.List()
            : (await client.ListAllAsync<NodeClaim>(cancellationToken: cancellationToken)).Items;
        return [.. claims.Where(c => c.Spec.NodeClassRef.Name == nodeClassName && c.Spec.NodeClassRef.Kind == "EC2NodeClass")
            .Select(c => c.Metadata.Name)];
    }

    /// <summary>Reconcile a NodeClass when its spec changes or its deletion starts, not on its own status writes.</summary>
    public static bool UpdateFilter(EC2NodeClass oldObject, EC2NodeClass newObject)
    {
        ArgumentNullException.ThrowIfNull(oldObject);
        ArgumentNullException.ThrowIfNull(newObject);
        return oldObject.Metadata.Generation != newObject.Metadata.Generation
            || (oldObject.Metadata.DeletionTimestamp is null) != (newObject.Metadata.DeletionTimestamp is null)
            || !(oldObject.Metadata.Finalizers ?? []).SequenceEqual(newObject.Metadata.Finalizers ?? []);
    }

    internal static EC2NodeClass Clone(EC2NodeClass nodeClass) =>
        k8s.KubernetesJson.Deserialize<EC2NodeClass>(k8s.KubernetesJson.Serialize(nodeClass));

    [LoggerMessage(EventId = 2400, Level = LogLevel.Warning, Message = "EC2NodeClass {NodeClass} is not ready: {Reason}: {Message}")]
    private static partial void LogNotReady(ILogger logger, string nodeClass, string reason, string message);

    [LoggerMessage(EventId = 2401, Level = LogLevel.Information, Message = "EC2NodeClass {NodeClass} finalized: its instance profile and launch templates are deleted")]
    private static partial void LogFinalized(ILogger logger, string nodeClass);
}
