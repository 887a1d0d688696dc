using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Sim.Aws.World;
using Karpenter.Sim.Cluster.Kubelet.Bootstrap;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WellKnownLabels = Karpenter.Entities.WellKnown.Labels;
using WellKnownTaints = Karpenter.Entities.WellKnown.Taints;

namespace Karpenter.Sim.Cluster.Kubelet;

/// <summary>
/// The kubelets starting up: for every instance that has been running for <see cref="KubeletOptions.RegistrationDelay"/>,
/// read its user data as the image's bootstrap would, measure the machine and register the Node (NotReady, with the
/// taints from the user data). User data that would not boot records a <see cref="BootFailure"/> and no Node ever
/// appears, which is what Karpenter's registration timeout must handle.
/// </summary>
public sealed class KubeletBootstrapController(
    AwsWorld aws,
    SimulatedNodes nodes,
    IKubeClient client,
    ComponentEvents events,
    ClusterObserver observer,
    IOptions<KubeletOptions> options,
    TimeProvider time,
    ILogger<KubeletBootstrapController> logger) : ISingletonReconciler
{
    public const string Name = "kubelet.bootstrap";

    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StaleNameRetry = TimeSpan.FromSeconds(5);
    private readonly KubeletOptions _options = options.Value;

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        var wake = Resync;
        foreach (var instance in aws.Instances())
        {
            var now = time.GetUtcNow();
            var node = nodes.Observe(instance, now);
            if (node is not { Phase: SimulatedNodePhase.Booting })
            {
                continue;
            }

            var due = node.RunningSince + _options.RegistrationDelay;
            if (due > now)
            {
                wake = Min(wake, due - now);
                continue;
            }

            if (!await RegisterAsync(node, cancellationToken))
            {
                wake = Min(wake, StaleNameRetry);
            }
        }

        return ReconcileResult.After(wake);
    }

    /// <summary>Boots one machine; false when it must try again later.</summary>
    private async Task<bool> RegisterAsync(SimulatedNode node, CancellationToken cancellationToken)
    {
        var instance = node.Instance;
        NodeBootstrapConfig config;
        NodeShape shape;
        try
        {
            var format = UserDataReader.FormatOfImage(instance.ImageName, instance.Platform);
            config = UserDataReader.Read(instance.UserData, format);
            CheckCluster(config);
            var type = aws.Catalog.Find(instance.InstanceType)
                ?? throw new BootstrapException($"kubelet: instance type {instance.InstanceType} is not in the catalog");
            shape = NodeShape.Measure(type, instance, config, _options);
        }
        catch (Exception e) when (e is BootstrapException or FormatException or OverflowException)
        {
            var now = time.GetUtcNow();
            nodes.Failed(node, e.Message, now);
            observer.Publish(new ClusterEvent(now, ClusterEventKind.NodeBootFailed, null, node.NodeName, node.NodeName, $"{instance.InstanceId}: {e.Message}"));
            logger.BootFailed(instance.InstanceId, instance.InstanceType, e.Message);
            return true;
        }

        node.Config = config;
        node.Shape = shape;
        var body = BuildNode(node, config, shape, time.GetUtcNow());
        V1Node created;
        try
        {
            created = await client.CreateAsync(body, cancellationToken);
        }
        catch (KubeAlreadyExistsException)
        {
            var existing = await client.TryGetAsync<V1Node>(node.NodeName, cancellationToken: cancellationToken);
            if (existing is null)
            {
                return false;
            }

            if (existing.Spec?.ProviderID != node.ProviderId)
            {
                // The private IP (and so the name) was reused while the old instance's Node is still being deleted.
                logger.StaleNodeName(node.NodeName, existing.Spec?.ProviderID);
                return false;
            }

            created = existing;
        }

        var registeredAt = time.GetUtcNow();
        nodes.Registered(node, registeredAt);
        events.For(Components.Kubelet).Publish(new KubeEvent(created, EventTypes.Normal, "Starting", "Starting kubelet."));
        observer.Publish(new ClusterEvent(registeredAt, ClusterEventKind.NodeRegistered, null, node.NodeName, node.NodeName, $"{instance.InstanceId} ({instance.InstanceType}, {instance.AvailabilityZone}, {instance.CapacityType})"));
        logger.NodeRegistered(node.NodeName, instance.InstanceId, instance.InstanceType);
        return true;
    }

    /// <summary>The kubelet must reach and trust this cluster's API server, and authenticate to this cluster.</summary>
    private void CheckCluster(NodeBootstrapConfig config)
    {
        if (!string.Equals(config.ClusterName, _options.ClusterName, StringComparison.Ordinal))
        {
            throw new BootstrapException(
                $"kubelet: Unauthorized: the user data joins cluster '{config.ClusterName}', but this is cluster '{_options.ClusterName}', whose API server rejects the node's token");
        }

        if (_options.ClusterEndpoint is { } endpoint && config.ApiServerEndpoint is { } given &&
            !string.Equals(given.TrimEnd('/'), endpoint.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
        {
            throw new BootstrapException($"kubelet: cannot reach the API server at {given}: this cluster's endpoint is {endpoint}");
        }

        if (_options.ClusterCertificateAuthority is { } expected && config.CertificateAuthority is { } carried && !SameCertificate(expected, carried))
        {
            throw new BootstrapException(
                $"kubelet: tls: failed to verify certificate: x509: certificate signed by unknown authority (the user data's cluster CA is not the CA of {config.ApiServerEndpoint})");
        }
    }

    private static bool SameCertificate(string expectedBase64, string carriedBase64)
    {
        try
        {
            using var a = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(Convert.FromBase64String(expectedBase64)));
            using var b = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(Convert.FromBase64String(carriedBase64)));
            return a.RawDataMemory.Span.SequenceEqual(b.RawDataMemory.Span);
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private V1Node BuildNode(SimulatedNode node, NodeBootstrapConfig config, NodeShape shape, DateTimeOffset now)
    {
        var instance = node.Instance;
        var labels = new Dictionary<string, string>(config.Labels, StringComparer.Ordinal)
        {
            [WellKnownLabels.Hostname] = node.NodeName,
            [WellKnownLabels.Os] = shape.Os,
            [WellKnownLabels.Arch] = shape.Arch,
            [WellKnownLabels.BetaOs] = shape.Os,
            [WellKnownLabels.BetaArch] = shape.Arch,
        };
        if (shape.WindowsBuild is { } build)
        {
            labels[WellKnownLabels.WindowsBuild] = build;
        }

        var taints = config.Taints.Select(t => new V1Taint { Key = t.Key, Value = t.Value, Effect = t.Effect }).ToList();
        if (_options.ExternalCloudProvider)
        {
            taints.Add(new V1Taint { Key = WellKnownTaints.CloudProviderUninitializedKey, Value = "true", Effect = WellKnownTaints.EffectNoSchedule });
        }
        else
        {
            foreach (var (key, value) in CloudLabels(instance))
            {
                labels[key] = value;
            }
        }

        var at = now.UtcDateTime;
        return new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta
            {
                Name = node.NodeName,
                Labels = labels,
                Annotations = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["alpha.kubernetes.io/provided-node-ip"] = instance.PrivateIpAddress,
                    ["node.alpha.kubernetes.io/ttl"] = "0",
                    ["volumes.kubernetes.io/controller-managed-attach-detach"] = "true",
                },
            },
            Spec = new V1NodeSpec { ProviderID = node.ProviderId, Taints = taints },
            Status = new V1NodeStatus
            {
                Capacity = shape.Capacity.ToList(),
                Allocatable = shape.Allocatable.ToList(),
                Conditions =
                [
                    new V1NodeCondition { Type = "MemoryPressure", Status = "False", Reason = "KubeletHasSufficientMemory", Message = "kubelet has sufficient memory available", LastHeartbeatTime = at, LastTransitionTime = at },
                    new V1NodeCondition { Type = "DiskPressure", Status = "False", Reason = "KubeletHasNoDiskPressure", Message = "kubelet has no disk pressure", LastHeartbeatTime = at, LastTransitionTime = at },
                    new V1NodeCondition { Type = "PIDPressure", Status = "False", Reason = "KubeletHasSufficientPID", Message = "kubelet has sufficient PID available", LastHeartbeatTime = at, LastTransitionTime = at },
                    new V1NodeCondition
                    {
                        Type = "Ready",
                        Status = "False",
                        Reason = "KubeletNotReady",
                        Message = "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
                        LastHeartbeatTime = at,
                        LastTransitionTime = at,
                    },
                ],
                Addresses =
                [
                    new V1NodeAddress { Type = "InternalIP", Address = instance.PrivateIpAddress },
                    new V1NodeAddress { Type = "InternalDNS", Address = instance.PrivateDnsName },
                    new V1NodeAddress { Type = "Hostname", Address = instance.PrivateDnsName },
                ],
                DaemonEndpoints = new V1NodeDaemonEndpoints { KubeletEndpoint = new V1DaemonEndpoint { Port = 10250 } },
                NodeInfo = shape.SystemInfo,
            },
        };
    }

    /// <summary>The labels the cloud provider sets on a node (the cloud controller manager on EKS).</summary>
    internal static IEnumerable<KeyValuePair<string, string>> CloudLabels(InstanceSnapshot instance)
    {
        var region = instance.AvailabilityZone[..^1];
        yield return new(WellKnownLabels.InstanceType, instance.InstanceType);
        yield return new(WellKnownLabels.BetaInstanceType, instance.InstanceType);
        yield return new(WellKnownLabels.TopologyZone, instance.AvailabilityZone);
        yield return new(WellKnownLabels.BetaZone, instance.AvailabilityZone);
        yield return new(WellKnownLabels.TopologyRegion, region);
        yield return new(WellKnownLabels.BetaRegion, region);
        yield return new(WellKnownLabels.TopologyZoneId, instance.AvailabilityZoneId);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
