using k8s.Models;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Sim.World;
using Karpenter.Tests.Sim.World;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static Karpenter.Tests.Sim.World.WorkloadBuilders;
using CapacityTypes = Karpenter.Entities.WellKnown.CapacityTypes;

namespace Karpenter.Tests.Core.Disruption;

/// <summary>
/// The whole operator, unchanged, in a simulated world (API server, kubelets, scheduler, ReplicaSets, the taint eviction
/// controller, EC2 with its interruption queue) on the world's accelerated clock: what upstream's end-to-end suites check,
/// the interruption path and the chaos suite's runaway scale-up.
/// </summary>
public sealed class OperatorInWorldTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_spot_interruption_drains_the_node_through_termination_and_no_pod_is_lost()
    {
        using var logs = new CollectedLogs(LogLevel.Information, 400);
        await using var world = await StartAsync(capacityType: CapacityTypes.Spot, consolidation: "Never", logs);
        await world.Client.CreateAsync(Deployment("web", replicas: 4, cpu: "500m", memory: "512Mi"));
        await world.UntilAsync(w => RunningApps(w, "web") == 4, Patience, "the four web pods to run");

        var victim = world.Nodes().First(n => world.Pods("default").Any(p => p.Spec.NodeName == n.Metadata.Name && AppOf(p) == "web"));
        var instanceId = victim.Spec.ProviderID.Split('/')[^1];
        var claimName = (await world.Client.ListAsync<NodeClaim>()).Items.Single(c => c.Status?.ProviderId == victim.Spec.ProviderID).Metadata.Name;
        var interruptedAt = world.Clock.GetUtcNow();
        var reclaimAt = world.Aws.World.InterruptSpotInstance(instanceId);

        // The NodeClaim is deleted, the node drained and its instance terminated by Karpenter, before EC2 reclaims it.
        await UntilAsync(async () => world.Nodes().All(n => n.Metadata.Name != victim.Metadata.Name) && await world.Client.TryGetAsync<NodeClaim>(claimName) is null,
            "the interrupted node and its NodeClaim to be gone");
        var allEvents = (await world.Client.ListAsync<Eventsv1Event>()).Items.Where(e => e.EventTime >= interruptedAt.UtcDateTime && e.Reason != "FailedScheduling").OrderBy(e => e.EventTime).Select(e => $"{e.EventTime:HH:mm:ss} {e.Reason}/{e.Regarding?.Name}: {e.Note}");
        Assert.True(world.Clock.GetUtcNow() < reclaimAt, $"Karpenter finished the termination before EC2 reclaimed the instance at {reclaimAt:HH:mm:ss}: {string.Join(" | ", allEvents)}; logs: {string.Join(" | ", logs.Entries.Where(l => l.Contains("nterrupt", StringComparison.Ordinal) || l.StartsWith("Warn", StringComparison.Ordinal) || l.StartsWith("Err", StringComparison.Ordinal)).TakeLast(40))}");
        var instance = world.Aws.World.FindInstance(instanceId)!;
        Assert.Equal("Client.UserInitiatedShutdown", instance.StateReason);

        // Every replica runs again, elsewhere: the evicted pods were provisioned for.
        await world.UntilAsync(w => RunningApps(w, "web") == 4 && w.Pods("default").All(p => p.Spec.NodeName != victim.Metadata.Name),
            Patience, "the four web pods to run on other nodes");
        var events = (await world.Client.ListAsync<Eventsv1Event>()).Items;
        Assert.Contains(events, e => e.Reason == EventReasons.TerminatingOnInterruption && e.Regarding?.Name == claimName);
        Assert.Contains(events, e => e.Reason == EventReasons.Evicted);
    }

    [Fact]
    public async Task A_controller_that_keeps_tainting_nodes_does_not_cause_a_runaway_scale_up()
    {
        // Upstream's chaos suite: every Karpenter node gets a NoExecute taint its pod does not tolerate, so the pod is
        // evicted, goes pending and makes Karpenter launch again; consolidation must reclaim the empty tainted nodes.
        using var logs = new CollectedLogs(LogLevel.Information, 400);
        await using var world = await StartAsync(capacityType: CapacityTypes.OnDemand, consolidation: "0s", logs);
        using var stop = new CancellationTokenSource();
        var created = new HashSet<string>(StringComparer.Ordinal);
        var samples = new List<int>();
        var chaos = Task.Run(() => TaintEveryNodeAsync(world, created, samples, stop.Token));
        try
        {
            await world.Client.CreateAsync(Deployment("victim", replicas: 1, cpu: "500m", memory: "512Mi"));
            // At least twelve simulated minutes and eight launches (a loaded machine slows the operator against the
            // paced clock: 14 launches in 12 minutes at load 1, 7 at load 4), at most thirty minutes.
            var start = world.Clock.GetUtcNow();
            await world.UntilAsync(
                w => w.Clock.GetUtcNow() >= start + TimeSpan.FromMinutes(30) || (w.Clock.GetUtcNow() >= start + TimeSpan.FromMinutes(12) && LaunchedCount(created, samples) >= 8),
                TimeSpan.FromMinutes(4), "twelve simulated minutes and eight launches");
        }
        finally
        {
            await stop.CancelAsync();
            await chaos;
        }

        var events = (await world.Client.ListAsync<Eventsv1Event>()).Items
            .Where(e => e.Reason is not ("Scheduled" or "Pulled" or "Created" or "Started" or "Killing" or "SuccessfulCreate" or "FailedScheduling"))
            .GroupBy(e => $"{e.Reason}: {e.Note}").Select(g => $"{g.Count()}x {g.Key}").Take(40);
        int[] live;
        int launched;
        lock (samples)
        {
            live = [.. samples];
            launched = created.Count;
        }

        output.WriteLine($"launched {launched} node(s); live nodes every 5 s: {string.Join(",", live)}");

        // The chaos was real (Karpenter kept launching: without consolidation every launch would still be up), yet the
        // live node count stayed bounded: empty tainted nodes were reclaimed within the default budget (10%, one at a time).
        Assert.True(launched >= 8, $"the taint loop should have made Karpenter launch repeatedly; it launched {launched} node(s)");
        Assert.True(live.Max() <= 7, $"the node count ran away: at most {live.Max()} nodes were up at once ({launched} launched); samples: {string.Join(",", live)}; events: {string.Join(" | ", events)}; logs: {string.Join(" | ", logs.Entries.Where(l => l.Contains("isrupt", StringComparison.Ordinal)).TakeLast(30))}");
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>How many nodes the rogue loop has seen so far (it records them under the samples' lock).</summary>
    private static int LaunchedCount(HashSet<string> created, List<int> samples)
    {
        lock (samples)
        {
            return created.Count;
        }
    }

    /// <summary>The rogue controller: every 5 s (world time), a <c>chaos=true:NoExecute</c> taint on every Karpenter node without it.</summary>
    private static async Task TaintEveryNodeAsync(SimulatedWorld world, HashSet<string> created, List<int> samples, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var nodes = world.Nodes().Where(n => n.Metadata.Labels?.ContainsKey(Labels.NodePool) == true).ToList();
            lock (samples)
            {
                created.UnionWith(nodes.Select(n => n.Metadata.Uid));
                samples.Add(nodes.Count(n => n.Metadata.DeletionTimestamp is null));
            }

            foreach (var node in nodes.Where(n => n.Metadata.DeletionTimestamp is null && n.Spec?.Taints?.Any(t => t.Key == "chaos") != true))
            {
                var tainted = KubeObjects.DeepClone(node);
                tainted.Spec ??= new V1NodeSpec();
                tainted.Spec.Taints = [.. tainted.Spec.Taints ?? [], new V1Taint { Key = "chaos", Value = "true", Effect = Taints.EffectNoExecute }];
                try
                {
                    await world.Client.PatchFromAsync(node, tainted, optimisticLock: true, CancellationToken.None);
                }
                catch (KubeApiException)
                {
                    // A stale cache or a node on its way out: the next round sees it again.
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5), world.Clock, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task<SimulatedWorld> StartAsync(string capacityType, string consolidation, CollectedLogs logs)
    {
        var world = await SimulatedWorld.StartAsync(new SimulatedWorldOptions
        {
            Speed = 30,
            SystemDaemonSets = false,
            StartTime = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero),
        });
        try
        {
            await OperatorLauncher.StartAsync(world, logging: b =>
            {
                b.ClearProviders();
                b.AddProvider(logs);
            });
            await world.Client.CreateAsync(k8s.KubernetesYaml.Deserialize<EC2NodeClass>($"""
                apiVersion: karpenter.k8s.aws/v1
                kind: EC2NodeClass
                metadata:
                  name: default
                spec:
                  instanceProfile: KarpenterNodeInstanceProfile-{world.ClusterName}
                  amiSelectorTerms:
                  - alias: al2023@latest
                  subnetSelectorTerms:
                  - tags:
                      karpenter.sh/discovery: {world.ClusterName}
                  securityGroupSelectorTerms:
                  - tags:
                      karpenter.sh/discovery: {world.ClusterName}
                """));
            var disruption = $"consolidationPolicy: WhenEmptyOrUnderutilized\n    consolidateAfter: {consolidation}";
            await world.Client.CreateAsync(k8s.KubernetesYaml.Deserialize<NodePool>($"""
                apiVersion: karpenter.sh/v1
                kind: NodePool
                metadata:
                  name: default
                spec:
                  template:
                    spec:
                      nodeClassRef:
                        group: karpenter.k8s.aws
                        kind: EC2NodeClass
                        name: default
                      requirements:
                      - key: karpenter.sh/capacity-type
                        operator: In
                        values: ["{capacityType}"]
                      - key: karpenter.k8s.aws/instance-family
                        operator: In
                        values: ["m5", "c5", "t3"]
                  disruption:
                    {disruption}
                """));
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    private static int RunningApps(SimulatedWorld world, string app) =>
        world.Pods("default").Count(p => AppOf(p) == app && IsRunning(p) && p.Metadata.DeletionTimestamp is null);

    /// <summary>Polls an asynchronous condition (real time) while the world's clock runs on.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }
    }
}
