using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Karpenter.Sim.Aws.Catalog;

namespace Karpenter.Sim.Aws.World;

/// <summary>
/// The state of the emulated AWS account in one region: network, images, parameters, instance types and their
/// capacity, launch templates, instances, IAM instance profiles and SQS queues, all moving on one clock.
/// The wire handlers and the simulator both act on it; every mutation happens under one lock and lifecycle
/// transitions are scheduled on the <see cref="TimeProvider"/>, so an accelerated or fake clock drives them.
/// </summary>
public sealed partial class AwsWorld : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Random _random;
    private readonly PriorityQueue<Action, (DateTimeOffset Due, long Sequence)> _schedule = new();
    private readonly List<Channel<InstanceEvent>> _watchers = [];
    private long _sequence;
    private ITimer? _timer;
    private DateTimeOffset? _timerDue;
    private bool _disposed;

    internal AwsWorld(AwsEmulatorOptions options, InstanceTypeCatalog catalog)
    {
        Options = options;
        Time = options.TimeProvider;
        Catalog = catalog;
        Region = options.Region;
        AccountId = options.AccountId;
        _random = new Random(options.Seed);
        StartTime = Time.GetUtcNow();
        Faults = new FaultInjector(this);
        Seed();
    }

    public string Region { get; }

    /// <summary>Throttling, server errors and failed launches to inject.</summary>
    public FaultInjector Faults { get; }

    public string AccountId { get; }

    /// <summary>The instance types the region offers.</summary>
    public InstanceTypeCatalog Catalog { get; }

    public IReadOnlyList<ZoneInfo> Zones => ZoneList.Select(z => new ZoneInfo(z.Name, z.ZoneId)).ToList();

    internal AwsEmulatorOptions Options { get; }

    internal TimeProvider Time { get; }

    internal DateTimeOffset StartTime { get; }

    internal DateTimeOffset Now => Time.GetUtcNow();

    internal List<Zone> ZoneList { get; } = [];

    /// <summary>Runs <paramref name="action"/> under the world's lock after due lifecycle transitions have run.</summary>
    internal T Locked<T>(Func<T> action)
    {
        lock (_gate)
        {
            RunDue();
            return action();
        }
    }

    internal void Locked(Action action)
    {
        lock (_gate)
        {
            RunDue();
            action();
        }
    }

    /// <summary>A new EC2-style identifier: <c>prefix-</c> and 17 hex digits, drawn from the seeded generator.</summary>
    internal string NewId(string prefix, int digits = 17)
    {
        Span<byte> bytes = stackalloc byte[(digits + 1) / 2];
        _random.NextBytes(bytes);
        return prefix + "-" + Convert.ToHexStringLower(bytes)[..digits];
    }

    internal string NewGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        _random.NextBytes(bytes);
        return new Guid(bytes).ToString();
    }

    internal double NextDouble() => _random.NextDouble();

    // ---- the clock ----------------------------------------------------------------------------------------------

    /// <summary>Schedules <paramref name="action"/> to run under the lock once the clock reaches <paramref name="due"/>.</summary>
    internal void Schedule(DateTimeOffset due, Action action)
    {
        _schedule.Enqueue(action, (due, _sequence++));
        ArmTimer();
    }

    private void RunDue()
    {
        var now = Now;
        while (_schedule.TryPeek(out _, out var key) && key.Due <= now)
        {
            _schedule.Dequeue()();
        }

        ArmTimer();
    }

    private void ArmTimer()
    {
        if (_disposed)
        {
            return;
        }

        if (!_schedule.TryPeek(out _, out var key))
        {
            return;
        }

        if (_timerDue == key.Due && _timer is not null)
        {
            return;
        }

        _timerDue = key.Due;
        // At least one tick: a zero due time would make some clocks call back synchronously, inside this lock.
        var delay = key.Due - Now;
        if (delay < TimeSpan.FromTicks(1))
        {
            delay = TimeSpan.FromTicks(1);
        }

        if (_timer is null)
        {
            _timer = Time.CreateTimer(static state => ((AwsWorld)state!).OnTimer(), this, delay, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            _timerDue = null;
            RunDue();
        }
    }

    /// <summary>Runs every transition that is due on the clock now. The timer does this too; tests may call it directly.</summary>
    public void Tick() => Locked(() => { });

    // ---- observation --------------------------------------------------------------------------------------------

    /// <summary>
    /// Every instance event from this call on, in order, until <paramref name="cancellationToken"/> is cancelled.
    /// Each call gets its own unbounded stream (registered before this method returns), so a slow reader never
    /// blocks the world and no event between the call and the first read is lost.
    /// </summary>
    public IAsyncEnumerable<InstanceEvent> WatchInstancesAsync(CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<InstanceEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            _watchers.Add(channel);
        }

        return Read(channel, cancellationToken);
    }

    private async IAsyncEnumerable<InstanceEvent> Read(Channel<InstanceEvent> channel, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return item;
            }
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(channel);
            }
        }
    }

    private void Publish(InstanceEventKind kind, Ec2Instance instance)
    {
        if (_watchers.Count == 0)
        {
            return;
        }

        var evt = new InstanceEvent(kind, SnapshotOf(instance), Now);
        foreach (var watcher in _watchers)
        {
            watcher.Writer.TryWrite(evt);
        }
    }

    /// <summary>All instances EC2 still reports (terminated ones for an hour), ordered by launch.</summary>
    public IReadOnlyList<InstanceSnapshot> Instances() => Locked(() => InstanceList.Select(SnapshotOf).ToList());

    public InstanceSnapshot? FindInstance(string instanceId) =>
        Locked(() => InstancesById.TryGetValue(instanceId, out var i) ? SnapshotOf(i) : null);

    public IReadOnlyList<SubnetSnapshot> Subnets() => Locked(() => SubnetList.Select(s => s.Snapshot()).ToList());

    internal InstanceSnapshot SnapshotOf(Ec2Instance i) => new()
    {
        InstanceId = i.Id,
        InstanceType = i.Type.Name,
        AvailabilityZone = i.Zone,
        AvailabilityZoneId = i.Subnet.Zone.ZoneId,
        SubnetId = i.Subnet.Id,
        VpcId = i.Subnet.Vpc.Id,
        ImageId = i.ImageId,
        ImageName = i.Image?.Name,
        Architecture = i.Type.Architecture,
        Platform = i.Image?.Platform,
        RootDeviceName = i.Image?.RootDeviceName,
        BlockDevices = i.Template?.BlockDevices.Select(b => new BlockDeviceSnapshot(b.DeviceName, b.VolumeSize)).ToList() ?? [],
        CapacityType = i.CapacityType,
        State = i.State,
        LaunchTime = i.LaunchTime,
        PrivateIpAddress = i.PrivateIp,
        PrivateDnsName = i.PrivateDnsName(Region),
        UserDataBase64 = i.UserData,
        Tags = new Dictionary<string, string>(i.TagMap, StringComparer.Ordinal),
        SecurityGroupIds = i.Groups.Select(g => g.Id).ToList(),
        IamInstanceProfileArn = i.ProfileArn,
        LaunchTemplateId = i.LaunchTemplateId,
        LaunchTemplateName = i.LaunchTemplateName,
        StateReason = i.StateReasonCode,
        InterruptionTime = i.InterruptionTime,
    };

    internal static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryComplete();
            }
        }
    }
}
