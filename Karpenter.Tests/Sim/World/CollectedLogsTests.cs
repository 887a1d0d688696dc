using Karpenter.Kube.Client;
using Karpenter.Sim.World;
using Microsoft.Extensions.Logging;

namespace Karpenter.Tests.Sim.World;

/// <summary>The simulator's log collection: conflicts are counted by controller and resource, everything else kept as it came.</summary>
public sealed partial class CollectedLogsTests
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciler error")]
    private static partial void ReconcilerError(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "something")]
    private static partial void Something(ILogger logger);

    [Fact]
    public void Optimistic_concurrency_conflicts_are_counted_by_controller_and_resource_and_other_errors_kept()
    {
        var logs = new CollectedLogs();
        var lifecycle = logs.CreateLogger("Karpenter.Kube.Controllers.node-lifecycle");
        var tagging = logs.CreateLogger("Karpenter.Kube.Controllers.nodeclaim.tagging");
        for (var i = 0; i < 3; i++)
        {
            ReconcilerError(lifecycle, new KubeConflictException($"Operation cannot be fulfilled on nodes \"ip-10-0-0-{i}.ec2.internal\": the object has been modified; please apply your changes to the latest version and try again"));
        }

        ReconcilerError(tagging, new KubeConflictException("Operation cannot be fulfilled on nodeclaims.karpenter.sh \"default-x\": the object has been modified"));
        ReconcilerError(lifecycle, new KubeNotFoundException("nodes \"ip-10-0-0-9.ec2.internal\" not found"));

        Assert.Equal(new Dictionary<string, int> { ["node-lifecycle on nodes"] = 3, ["nodeclaim.tagging on nodeclaims.karpenter.sh"] = 1 }, logs.Conflicts);
        var entry = Assert.Single(logs.Entries);
        Assert.Contains("not found", entry, StringComparison.Ordinal);
        Assert.Equal("4 optimistic-concurrency conflict(s) logged at Error and retried (the object changed between read and write): node-lifecycle on nodes ×3, nodeclaim.tagging on nodeclaims.karpenter.sh ×1", logs.ConflictSummary());
    }

    [Fact]
    public void Without_conflicts_there_is_no_summary_line()
    {
        var logs = new CollectedLogs();
        Something(logs.CreateLogger("x"));

        Assert.Null(logs.ConflictSummary());
        Assert.Equal(["Warning x: something"], logs.Entries);
    }
}
