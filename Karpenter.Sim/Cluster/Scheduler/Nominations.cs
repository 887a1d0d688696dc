using k8s.Models;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Sim.Cluster.Scheduler;

/// <summary>
/// Where Karpenter expects a pod to land, read from its latest <c>Nominated</c> event on the pod ("Pod should schedule
/// on: nodeclaim/default-x7k2q, node/ip-10-0-1-23.ec2.internal"; a bare node name is accepted too) and from
/// <c>status.nominatedNodeName</c>. A NodeClaim resolves to the Node it owns (the owner reference registration adds).
/// </summary>
internal static class Nominations
{
    private const string Prefix = "Pod should schedule on:";

    public static HashSet<string> NodesFor(V1Pod pod, ClusterCaches caches, ILookup<string, string> nodesByNodeClaim)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(pod.Status?.NominatedNodeName))
        {
            result.Add(pod.Status.NominatedNodeName);
        }

        var latest = caches.Nominations.ByIndex(ClusterCaches.ByInvolvedObject, pod.Metadata.Uid)
            .Where(e => e.Reason == EventReasons.Nominated)
            .MaxBy(When);
        if (latest?.Message is not { Length: > 0 } message)
        {
            return result;
        }

        var targets = message.StartsWith(Prefix, StringComparison.Ordinal) ? message[Prefix.Length..] : message;
        foreach (var target in targets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (target.StartsWith("nodeclaim/", StringComparison.Ordinal))
            {
                result.UnionWith(nodesByNodeClaim[target["nodeclaim/".Length..]]);
            }
            else if (target.StartsWith("node/", StringComparison.Ordinal))
            {
                result.Add(target["node/".Length..]);
            }
            else if (!target.Contains('/', StringComparison.Ordinal))
            {
                result.Add(target);
            }
        }

        return result;
    }

    /// <summary>NodeClaim name → the nodes that NodeClaim owns.</summary>
    public static ILookup<string, string> NodesByNodeClaim(IEnumerable<V1Node> nodes) =>
        nodes.SelectMany(n => (n.Metadata.OwnerReferences ?? []).Where(o => o.Kind == "NodeClaim").Select(o => (Claim: o.Name, Node: n.Metadata.Name)))
            .ToLookup(x => x.Claim, x => x.Node, StringComparer.Ordinal);

    private static DateTime When(Corev1Event e) =>
        e.LastTimestamp ?? e.EventTime ?? e.FirstTimestamp ?? e.Metadata?.CreationTimestamp ?? DateTime.MinValue;
}
