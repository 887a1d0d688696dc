using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using k8s;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Sim.Clock;
using Karpenter.Sim.Scenarios;
using Karpenter.Sim.World;
using Microsoft.Extensions.Logging;

namespace Karpenter.Tests.Sim.Cluster.Workloads;

/// <summary>
/// A scale-up in the simulated world reaches Karpenter as it would in a cluster: kube-controller-manager creates the
/// pods within a fraction of a second, so the provisioner's batch window (1 s idle) collects them all in one batch.
/// On a 120× clock the real milliseconds between the ReplicaSet's slow-start rounds used to be simulated seconds, and
/// the provisioner saw a batch of 1 pod, then the rest: extra small nodes a cluster would not launch.
/// </summary>
public sealed partial class ScaleUpBatchingTests
{
    private const int Replicas = 40;

    /// <summary>A real-time safety net for the operator to get its NodePool ready (wide: the machine may be loaded).</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_scale_from_zero_to_40_pods_at_120x_reaches_the_provisioner_as_one_batch()
    {
        var batches = new ProvisionerBatches();
        await using var world = await SimulatedWorld.StartAsync(new SimulatedWorldOptions { Speed = 120 });
        await OperatorLauncher.StartAsync(world, logging: b =>
        {
            b.ClearProviders();
            b.AddProvider(batches);
        });
        await world.Client.CreateAsync(KubernetesYaml.Deserialize<EC2NodeClass>("""
            apiVersion: karpenter.k8s.aws/v1
            kind: EC2NodeClass
            metadata: { name: default }
            spec:
              instanceProfile: KarpenterNodeInstanceProfile-my-cluster
              amiSelectorTerms: [{ alias: al2023@latest }]
              subnetSelectorTerms: [{ tags: { karpenter.sh/discovery: my-cluster } }]
              securityGroupSelectorTerms: [{ tags: { karpenter.sh/discovery: my-cluster } }]
            """));
        await world.Client.CreateAsync(KubernetesYaml.Deserialize<NodePool>("""
            apiVersion: karpenter.sh/v1
            kind: NodePool
            metadata: { name: general-purpose }
            spec:
              template:
                spec:
                  nodeClassRef: { group: karpenter.k8s.aws, kind: EC2NodeClass, name: default }
                  requirements:
                    - { key: karpenter.k8s.aws/instance-family, operator: In, values: ["t3", "t3a"] }
            """));
        await SimulationWait.UntilAsync(
            world.Clock,
            async ct => (await world.Client.TryGetAsync<NodePool>("general-purpose", cancellationToken: ct))?.GetCondition(ConditionTypes.Ready)?.Status == "True",
            Patience,
            "the NodePool to be Ready",
            world.Describe);
        var scenario = ScenarioReader.Read($$"""
            name: burst
            duration: 30s
            workloads:
              - { name: burst, replicas: 0, cpu: 500m, memory: 1Gi }
            timeline:
              - { at: 10s, scale: { workload: burst, replicas: {{Replicas}} } }
            """, "burst.yaml", Path.GetTempPath());

        await new ScenarioRunner(scenario, world).RunAsync();

        // The solve takes real time (a simulated minute on a loaded machine at 120×): wait for the first batch to close.
        await SimulationWait.UntilAsync(world.Clock, () => batches.Seen.Count > 0, Patience, "the provisioner to close its first batch", world.Describe);
        var seen = batches.Seen;
        var first = seen[0];
        Assert.True(first.Pods == Replicas, $"the provisioner's first batch held {first.Pods} of the {Replicas} pods; batches: {string.Join("; ", seen)}");
    }

    /// <summary>One provisioning batch as the provisioner logs it.</summary>
    private sealed record Batch(int Pods, int NodeClaims, string Message)
    {
        public override string ToString() => Message;
    }

    [GeneratedRegex(@"^batch of (\d+) pod\(s\): (\d+) nodeclaim\(s\) created")]
    private static partial Regex BatchLine();

    /// <summary>Keeps the provisioner's "batch of N pod(s): M nodeclaim(s) created, …" lines, in order.</summary>
    private sealed class ProvisionerBatches : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<Batch> _seen = new();

        public IReadOnlyList<Batch> Seen => [.. _seen];

        public ILogger CreateLogger(string categoryName) => categoryName.StartsWith("Karpenter.Core.Provisioning", StringComparison.Ordinal)
            ? this
            : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (BatchLine().Match(message) is { Success: true } m)
            {
                _seen.Enqueue(new Batch(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), message));
            }
        }

        public void Dispose()
        {
        }
    }
}
