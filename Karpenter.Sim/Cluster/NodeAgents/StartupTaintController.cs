using k8s.Models;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Sim.Cluster.Kubelet;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Sim.Cluster.NodeAgents;

/// <summary>
/// The node agents that own a node's startup taints (a CNI or storage agent removing its own taint once it is up):
/// <see cref="KubeletOptions.StartupTaintDelay"/> after a node turns Ready, the taints its NodeClaim lists in
/// <c>spec.startupTaints</c> are removed, which is what lets Karpenter initialize the node. The NodeClaim is matched by
/// provider ID; a node without one (no Karpenter, or not launched by it) is left alone.
/// </summary>
public sealed class StartupTaintController(
    SimulatedNodes nodes,
    IKubeClient client,
    IOptions<KubeletOptions> options,
    TimeProvider time,
    ILogger<StartupTaintController> logger) : IReconciler<V1Node>
{
    public const string Name = "node-agents.startup-taints";

    private static readonly TimeSpan Recheck = TimeSpan.FromSeconds(15);
    private readonly KubeletOptions _options = options.Value;

    public async Task<ReconcileResult> ReconcileAsync(V1Node entity, CancellationToken cancellationToken)
    {
        var node = nodes.ByNodeName(entity.Metadata.Name);
        var taints = entity.Spec?.Taints ?? [];
        if (node is null || !node.InstanceAlive || node.ProviderId != entity.Spec?.ProviderID || taints.Count == 0)
        {
            return ReconcileResult.Done;
        }

        var ready = entity.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready" && c.Status == "True");
        if (ready?.LastTransitionTime is not { } readySince)
        {
            return ReconcileResult.Done;
        }

        var due = new DateTimeOffset(DateTime.SpecifyKind(readySince, DateTimeKind.Utc)) + _options.StartupTaintDelay;
        var now = time.GetUtcNow();
        if (due > now)
        {
            return ReconcileResult.After(due - now);
        }

        var (installed, startup) = await StartupTaintsAsync(entity.Spec!.ProviderID, cancellationToken);
        if (startup is null)
        {
            // No NodeClaim (yet): Karpenter may still be writing its status; look again a little later. Without
            // Karpenter's CRDs there is nothing to wait for.
            return installed ? ReconcileResult.After(Recheck) : ReconcileResult.Done;
        }

        var remaining = taints.Where(t => !startup.Any(s => s.Key == t.Key && s.Effect == t.Effect && (s.Value ?? string.Empty) == (t.Value ?? string.Empty))).ToList();
        if (remaining.Count == taints.Count)
        {
            return ReconcileResult.Done;
        }

        var original = KubeObjects.DeepClone(entity);
        var modified = KubeObjects.DeepClone(entity);
        modified.Spec.Taints = remaining;
        try
        {
            await client.PatchFromAsync(original, modified, optimisticLock: true, cancellationToken);
        }
        catch (KubeApiException e) when (e is KubeConflictException or KubeNotFoundException)
        {
            return ReconcileResult.RequeueRateLimited;
        }

        logger.StartupTaintsRemoved(entity.Metadata.Name, taints.Count - remaining.Count);
        return ReconcileResult.Done;
    }

    private async Task<(bool Installed, IReadOnlyList<Taint>? Taints)> StartupTaintsAsync(string providerId, CancellationToken cancellationToken)
    {
        KubeList<NodeClaim> claims;
        try
        {
            claims = await client.ListAsync<NodeClaim>(cancellationToken: cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            // Karpenter's CRDs are not installed: there are no NodeClaims.
            return (false, null);
        }

        var claim = claims.Items.FirstOrDefault(c => c.Status?.ProviderId == providerId);
        return (true, claim is null ? null : claim.Spec?.StartupTaints ?? []);
    }
}
