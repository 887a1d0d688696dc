using Karpenter.Sim.Aws.Catalog;

namespace Karpenter.Sim.Aws.World;

/// <summary>Instances: launch, the pending → running → shutting-down → terminated lifecycle on the clock, and the simulator's levers.</summary>
public sealed partial class AwsWorld
{
    private int _failNextBoots;

    internal List<Ec2Instance> InstanceList { get; } = [];

    internal Dictionary<string, Ec2Instance> InstancesById { get; } = new(StringComparer.Ordinal);

    internal Dictionary<string, LaunchTemplate> LaunchTemplatesById { get; } = new(StringComparer.Ordinal);

    internal Dictionary<string, LaunchTemplate> LaunchTemplatesByName { get; } = new(StringComparer.Ordinal);

    /// <summary>Everything a launch needs, resolved and validated by the caller.</summary>
    internal sealed record LaunchSpec(
        InstanceTypeInfo Type,
        Subnet Subnet,
        string ImageId,
        Image? Image,
        string CapacityType,
        string? UserData,
        List<SecurityGroup> Groups,
        InstanceProfile? Profile,
        LaunchTemplate? Template,
        string? TemplateVersion,
        LaunchTemplateData? TemplateData,
        IReadOnlyDictionary<string, string> Tags,
        string? ClientToken,
        string? FleetId);

    /// <summary>Creates one pending instance and schedules its boot. The caller has checked capacity.</summary>
    internal Ec2Instance Launch(LaunchSpec spec, string reservationId)
    {
        var ip = spec.Subnet.Allocate() ?? throw new InvalidOperationException($"Subnet {spec.Subnet.Id} has no free address.");
        var instance = new Ec2Instance
        {
            Id = NewId("i"),
            ReservationId = reservationId,
            Type = spec.Type,
            Subnet = spec.Subnet,
            ImageId = spec.ImageId,
            Image = spec.Image,
            CapacityType = spec.CapacityType,
            LaunchTime = Now,
            PrivateIp = ip,
            NetworkInterfaceId = NewId("eni"),
            UserData = spec.UserData,
            Groups = spec.Groups,
            ProfileArn = spec.Profile?.Arn,
            ProfileId = spec.Profile?.Id,
            LaunchTemplateId = spec.Template?.Id,
            LaunchTemplateName = spec.Template?.Name,
            LaunchTemplateVersion = spec.TemplateVersion,
            SpotRequestId = spec.CapacityType == CapacityTypes.Spot ? NewId("sir", 8) : null,
            ClientToken = spec.ClientToken,
            FleetId = spec.FleetId,
            Template = spec.TemplateData,
            State = InstanceState.Pending,
        };
        foreach (var (key, value) in spec.Tags)
        {
            instance.TagMap[key] = value;
        }

        if (spec.Template is not null)
        {
            // EC2 tags instances launched from a template with its id and version.
            instance.TagMap["aws:ec2launchtemplate:id"] = spec.Template.Id;
            instance.TagMap["aws:ec2launchtemplate:version"] = spec.TemplateVersion ?? spec.Template.DefaultVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (spec.FleetId is not null)
        {
            instance.TagMap["aws:ec2:fleet-id"] = spec.FleetId;
        }

        InstanceList.Add(instance);
        InstancesById[instance.Id] = instance;
        Publish(InstanceEventKind.Launched, instance);
        StateChanged(instance);

        var generation = instance.Generation;
        var failBoot = _failNextBoots > 0;
        if (failBoot)
        {
            _failNextBoots--;
        }

        Schedule(Now + Options.InstanceBootTime, () =>
        {
            if (instance.Generation != generation || instance.State != InstanceState.Pending)
            {
                return;
            }

            if (failBoot)
            {
                BeginShutdown(instance, "Server.InternalError", "Server.InternalError: Internal error on launch");
                return;
            }

            SetState(instance, InstanceState.Running);
            Publish(InstanceEventKind.Running, instance);
        });
        return instance;
    }

    /// <summary>Starts termination: shutting-down now, terminated after the shutdown time. No-op once shutting down.</summary>
    internal void BeginShutdown(Ec2Instance instance, string reasonCode, string reasonMessage)
    {
        if (!instance.IsLive)
        {
            return;
        }

        instance.StateReasonCode = reasonCode;
        instance.StateReasonMessage = reasonMessage;
        instance.StateTransitionReason = reasonCode == "Client.UserInitiatedShutdown"
            ? $"User initiated ({Xml(Now)})"
            : $"Service initiated ({Xml(Now)})";
        SetState(instance, InstanceState.ShuttingDown);
        Publish(InstanceEventKind.ShuttingDown, instance);
        var generation = instance.Generation;
        Schedule(Now + Options.InstanceShutdownTime, () =>
        {
            if (instance.Generation != generation)
            {
                return;
            }

            instance.Subnet.Release(instance.PrivateIp);
            instance.TerminatedAt = Now;
            SetState(instance, InstanceState.Terminated);
            Publish(InstanceEventKind.Terminated, instance);
            Schedule(Now + Options.TerminatedInstanceRetention, () =>
            {
                InstanceList.Remove(instance);
                InstancesById.Remove(instance.Id);
            });
        });

        static string Xml(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'GMT'", System.Globalization.CultureInfo.InvariantCulture);
    }

    private void SetState(Ec2Instance instance, InstanceState state)
    {
        instance.State = state;
        instance.Generation++;
        StateChanged(instance);
    }

    private void StateChanged(Ec2Instance instance)
    {
        if (Options.EmitStateChangeNotifications)
        {
            SendEvent(EventBridgeMessages.StateChange(this, instance));
        }
    }

    // ---- levers for the simulator -------------------------------------------------------------------------------

    /// <summary>
    /// Reclaims a spot instance as EC2 does: an "EC2 Spot Instance Interruption Warning" goes to the event queues
    /// now, and the instance is terminated when the notice (two minutes) has passed on the clock.
    /// With <paramref name="poolUnavailableFor"/>, the pool also reports insufficient capacity for that long.
    /// </summary>
    /// <returns>When the instance will be reclaimed.</returns>
    public DateTimeOffset InterruptSpotInstance(string instanceId, TimeSpan? poolUnavailableFor = null) => Locked(() =>
    {
        var instance = LiveInstance(instanceId);
        if (instance.CapacityType != CapacityTypes.Spot)
        {
            throw new InvalidOperationException($"Instance {instanceId} is {instance.CapacityType}; only spot instances are interrupted.");
        }

        if (instance.InterruptionTime is { } pending)
        {
            return pending;
        }

        var at = Now + Options.SpotInterruptionNotice;
        instance.InterruptionTime = at;
        SendEvent(EventBridgeMessages.SpotInterruption(this, instance));
        Publish(InstanceEventKind.SpotInterruptionWarning, instance);
        if (poolUnavailableFor is { } window)
        {
            _iceWindows.Add(new CapacityWindow(instance.Type.Name, instance.Zone, CapacityTypes.Spot, Now, Now + window));
        }

        Schedule(at, () => BeginShutdown(instance, "Server.SpotInstanceTermination", "Server.SpotInstanceTermination: Spot instance termination"));
        return at;
    });

    /// <summary>Sends an "EC2 Instance Rebalance Recommendation" for the instance (no state change follows).</summary>
    public void SendRebalanceRecommendation(string instanceId) => Locked(() =>
    {
        var instance = LiveInstance(instanceId);
        SendEvent(EventBridgeMessages.RebalanceRecommendation(this, instance));
        Publish(InstanceEventKind.RebalanceRecommendation, instance);
    });

    /// <summary>
    /// Sends an AWS Health "scheduledChange" event for the instance (EC2 maintenance). With
    /// <paramref name="terminateAt"/>, the instance is also retired at that time, as EC2 does for retirement events.
    /// </summary>
    public void ScheduleMaintenance(string instanceId, DateTimeOffset start, DateTimeOffset? terminateAt = null) => Locked(() =>
    {
        var instance = LiveInstance(instanceId);
        SendEvent(EventBridgeMessages.ScheduledChange(this, instance, start));
        Publish(InstanceEventKind.ScheduledChange, instance);
        if (terminateAt is { } t)
        {
            Schedule(t, () => BeginShutdown(instance, "Server.ScheduledStop", "Server.ScheduledStop: Stopped due to scheduled retirement"));
        }
    });

    /// <summary>Terminates an instance from outside Karpenter (a person in the console, an auto-scaling policy).</summary>
    public void TerminateInstance(string instanceId) => Locked(() =>
        BeginShutdown(LiveInstance(instanceId), "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"));

    /// <summary>The next <paramref name="count"/> launched instances fail to boot: pending → shutting-down → terminated.</summary>
    public void FailNextBoots(int count) => Locked(() => _failNextBoots = Math.Max(0, count));

    private Ec2Instance LiveInstance(string instanceId) =>
        InstancesById.TryGetValue(instanceId, out var instance) && instance.IsLive
            ? instance
            : throw new InvalidOperationException($"No pending or running instance '{instanceId}'.");
}
