using k8s.Models;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.State;

/// <summary>
/// What the cluster state knows of a NodeClaim: enough to model it as capacity before its node registers, and to
/// charge it to its NodePool's limits.
/// </summary>
public sealed record StateNodeClaim
{
    public required string Name { get; init; }

    public string? NodePoolName { get; init; }

    public string? ProviderId { get; init; }

    /// <summary>The node it became, once registered.</summary>
    public string? NodeName { get; init; }

    /// <summary>Its requirements (instance types, zones, capacity types) and labels.</summary>
    public required Requirements Requirements { get; init; }

    /// <summary>Its taints (startup taints are left out: pods need not tolerate them to be provisioned for).</summary>
    public IReadOnlyList<V1Taint> Taints { get; init; } = [];

    /// <summary>Its startup taints: a node of it carries them until some agent removes them at start-up.</summary>
    public IReadOnlyList<V1Taint> StartupTaints { get; init; } = [];

    /// <summary>Whether its node is initialized (ready, startup taints gone, resources registered).</summary>
    public bool Initialized { get; init; }

    /// <summary>Capacity once launched; before that, nothing is known for sure.</summary>
    public Resources Capacity { get; init; }

    public Resources Allocatable { get; init; }

    /// <summary>What the scheduler planned onto it (pods plus DaemonSet overhead).</summary>
    public Resources Requests { get; init; }

    public bool Deleting { get; init; }

    /// <summary>The instance types it may still become (its <c>node.kubernetes.io/instance-type</c> requirement), empty when unconstrained.</summary>
    public IReadOnlyList<string> InstanceTypeOptions =>
        Requirements.TryGet(Labels.InstanceType, out var r) && !r.Complement ? r.Values : [];

    /// <summary>
    /// The state view of a NodeClaim resource: spec requirements intersected with its labels (launch adds the chosen
    /// instance type, zone and capacity type), spec taints, requests, and the capacity the launch reported. Invalid
    /// requirements (a hand-written NodeClaim) are skipped rather than thrown.
    /// </summary>
    public static StateNodeClaim FromNodeClaim(NodeClaim nodeClaim)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var requirements = new Requirements();
        foreach (var r in nodeClaim.Spec?.Requirements ?? [])
        {
            if (Requirement.Create(Requirements.NormalizeKey(r.Key ?? string.Empty), r.Operator, r.Values, r.MinValues, out _) is { } requirement)
            {
                requirements.Add(requirement);
            }
        }

        foreach (var (key, value) in nodeClaim.Metadata?.Labels ?? new Dictionary<string, string>())
        {
            requirements.Add(Requirement.In(Requirements.NormalizeKey(key), value));
        }

        return new StateNodeClaim
        {
            Name = nodeClaim.Metadata?.Name ?? string.Empty,
            NodePoolName = nodeClaim.NodePoolName,
            ProviderId = string.IsNullOrEmpty(nodeClaim.Status?.ProviderId) ? null : nodeClaim.Status.ProviderId,
            NodeName = string.IsNullOrEmpty(nodeClaim.Status?.NodeName) ? null : nodeClaim.Status.NodeName,
            Requirements = requirements,
            Taints = [.. (nodeClaim.Spec?.Taints ?? []).Select(t => t.ToV1Taint())],
            StartupTaints = [.. (nodeClaim.Spec?.StartupTaints ?? []).Select(t => t.ToV1Taint())],
            Initialized = nodeClaim.Status?.Conditions?.Any(c => c.Type == ConditionTypes.Initialized && c.Status == "True") == true,
            Capacity = Resources.FromList(nodeClaim.Status?.Capacity),
            Allocatable = Resources.FromList(nodeClaim.Status?.Allocatable),
            Requests = Resources.FromList(nodeClaim.Spec?.Resources?.Requests),
            Deleting = nodeClaim.Metadata?.DeletionTimestamp is not null,
        };
    }
}
