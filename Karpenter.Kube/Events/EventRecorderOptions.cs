using System.ComponentModel.DataAnnotations;

namespace Karpenter.Kube.Events;

/// <summary>Settings of <see cref="EventRecorder"/>.</summary>
public sealed class EventRecorderOptions
{
    /// <summary><c>reportingController</c> of every event (e.g. <c>karpenter</c>).</summary>
    [Required]
    [StringLength(128, MinimumLength = 1)]
    public string ReportingController { get; set; } = "karpenter";

    /// <summary><c>reportingInstance</c> of every event (the pod name); defaults to the host name.</summary>
    [Required]
    [StringLength(128, MinimumLength = 1)]
    public string ReportingInstance { get; set; } = Environment.MachineName;

    /// <summary>Events buffered before new ones are dropped.</summary>
    [Range(1, 1_000_000)]
    public int Capacity { get; set; } = 1000;

    /// <summary>Repeats within this window are dropped (Karpenter: 2 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Sustained events per second written to the API server.</summary>
    [Range(0.001, 10_000)]
    public double RatePerSecond { get; set; } = 10;

    /// <summary>Burst of events above the sustained rate.</summary>
    [Range(1, 100_000)]
    public int Burst { get; set; } = 100;
}
