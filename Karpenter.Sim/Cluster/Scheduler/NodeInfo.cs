using k8s.Models;
using Karpenter.Sim.Cluster.Resources;

namespace Karpenter.Sim.Cluster.Scheduler;

/// <summary>A node as one scheduling pass sees it: what is allocatable, what its pods request, their host ports.</summary>
internal sealed class NodeInfo
{
    private readonly HashSet<(string Ip, string Protocol, int Port)> _ports = [];

    public NodeInfo(V1Node node)
    {
        Node = node;
        Allocatable = ResourceAmounts.From(node.Status?.Allocatable);
    }

    public V1Node Node { get; }

    public string Name => Node.Metadata.Name;

    public IDictionary<string, string> Labels => Node.Metadata.Labels ?? new Dictionary<string, string>();

    public ResourceAmounts Allocatable { get; }

    public ResourceAmounts Requested { get; private set; } = ResourceAmounts.Empty;

    public List<V1Pod> Pods { get; } = [];

    public void Add(V1Pod pod, ResourceAmounts requests)
    {
        Pods.Add(pod);
        Requested = Requested.Add(requests);
        foreach (var port in HostPorts(pod))
        {
            _ports.Add(port);
        }
    }

    /// <summary>Whether a wanted host port collides (0.0.0.0 collides with every address of the same protocol and port).</summary>
    public bool PortConflicts(IEnumerable<(string Ip, string Protocol, int Port)> wanted) =>
        wanted.Any(w => _ports.Any(u => u.Protocol == w.Protocol && u.Port == w.Port && (u.Ip == w.Ip || u.Ip == "0.0.0.0" || w.Ip == "0.0.0.0")));

    public static IEnumerable<(string Ip, string Protocol, int Port)> HostPorts(V1Pod pod) =>
        (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? [])
            .SelectMany(c => c.Ports ?? [])
            .Where(p => p.HostPort is > 0)
            .Select(p => (string.IsNullOrEmpty(p.HostIP) ? "0.0.0.0" : p.HostIP, p.Protocol ?? "TCP", p.HostPort!.Value));
}
