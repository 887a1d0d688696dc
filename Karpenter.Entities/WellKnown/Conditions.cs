namespace Karpenter.Entities.WellKnown;

/// <summary>Status condition types of Karpenter's resources, as upstream names them.</summary>
public static class ConditionTypes
{
    public const string Ready = "Ready";

    // NodeClaim
    public const string Launched = "Launched";
    public const string Registered = "Registered";
    public const string Initialized = "Initialized";
    public const string Consolidatable = "Consolidatable";
    public const string Drifted = "Drifted";
    public const string Drained = "Drained";
    public const string VolumesDetached = "VolumesDetached";
    public const string InstanceTerminating = "InstanceTerminating";
    public const string ConsistentStateFound = "ConsistentStateFound";
    public const string DisruptionReason = "DisruptionReason";

    // NodePool
    public const string ValidationSucceeded = "ValidationSucceeded";
    public const string NodeClassReady = "NodeClassReady";
    public const string NodeRegistrationHealthy = "NodeRegistrationHealthy";

    // EC2NodeClass
    public const string AmisReady = "AMIsReady";
    public const string SubnetsReady = "SubnetsReady";
    public const string SecurityGroupsReady = "SecurityGroupsReady";
    public const string InstanceProfileReady = "InstanceProfileReady";
    public const string PlacementGroupReady = "PlacementGroupReady";
    public const string CapacityReservationsReady = "CapacityReservationsReady";
}

/// <summary>Event reasons, as upstream's <c>pkg/events/reason.go</c> spells them, so alerts on them keep working.</summary>
public static class EventReasons
{
    public const string DisruptionBlocked = "DisruptionBlocked";
    public const string DisruptionLaunching = "DisruptionLaunching";
    public const string DisruptionTerminating = "DisruptionTerminating";
    public const string DisruptionWaitingReadiness = "DisruptionWaitingReadiness";
    public const string Unconsolidatable = "Unconsolidatable";
    public const string ConsolidationCandidate = "ConsolidationCandidate";
    public const string ConsolidationRejected = "ConsolidationRejected";
    public const string ConsolidationApproved = "ConsolidationApproved";
    public const string FailedScheduling = "FailedScheduling";
    public const string NoCompatibleInstanceTypes = "NoCompatibleInstanceTypes";
    public const string Nominated = "Nominated";
    public const string NodeRepairBlocked = "NodeRepairBlocked";
    public const string Disrupted = "Disrupted";
    public const string Evicted = "Evicted";
    public const string FailedDraining = "FailedDraining";
    public const string TerminationGracePeriodExpiring = "TerminationGracePeriodExpiring";
    public const string FailedTermination = "FailedTermination";
    public const string FailedConsistencyCheck = "FailedConsistencyCheck";
    public const string InsufficientCapacityError = "InsufficientCapacityError";
    public const string UnregisteredTaintMissing = "UnregisteredTaintMissing";
    public const string NodeClassNotReady = "NodeClassNotReady";

    // Not upstream: outcomes upstream only logs, published here so that every deleted or stuck NodeClaim is explained
    // by an event on the object (and `kubectl get events` shows why).
    public const string NodePoolNotFound = "NodePoolNotFound";
    public const string NodePoolNotReady = "NodePoolNotReady";
    public const string LaunchFailed = "LaunchFailed";
    public const string LaunchTimeout = "LaunchTimeout";
    public const string RegistrationTimeout = "RegistrationTimeout";
    public const string MultipleNodesFound = "MultipleNodesFound";
    public const string Expired = "Expired";
    public const string GarbageCollected = "GarbageCollected";

    /// <summary>On a Node that looks Karpenter-managed but whose provider ID no NodeClaim of this cluster owns.</summary>
    public const string NodeClaimNotFound = "NodeClaimNotFound";

    // The AWS interruption controller's (upstream pkg/controllers/interruption/events).
    public const string SpotInterrupted = "SpotInterrupted";
    public const string SpotRebalanceRecommendation = "SpotRebalanceRecommendation";
    public const string InstanceStopping = "InstanceStopping";
    public const string InstanceTerminating = "InstanceTerminating";
    public const string InstanceUnhealthy = "InstanceUnhealthy";
    public const string CapacityReservationInterrupted = "CapacityReservationInterrupted";
    public const string TerminatingOnInterruption = "TerminatingOnInterruption";
}
