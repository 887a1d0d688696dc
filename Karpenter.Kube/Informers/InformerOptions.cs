using System.ComponentModel.DataAnnotations;

namespace Karpenter.Kube.Informers;

/// <summary>Timings of every informer (one set per process, bound from configuration and validated at start).</summary>
public sealed class InformerOptions
{
    /// <summary>Page size of the initial and every re-list.</summary>
    [Range(1, 10_000)]
    public int PageSize { get; set; } = 500;

    /// <summary>
    /// Each watch asks the server to end after a random time between this and twice this (client-go: 5–10 min), so
    /// connections are refreshed without a re-list.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MinWatchTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A watch that delivers nothing (no event, no bookmark) for this long is presumed dead and replaced. It must be
    /// longer than the longest watch timeout, since a healthy but quiet watch may deliver nothing until it ends.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "02:00:00")]
    public TimeSpan WatchdogTimeout { get; set; } = TimeSpan.FromMinutes(11);

    /// <summary>First delay after a failed list or watch; doubles up to <see cref="MaxBackoff"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(800);

    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Which objects one informer caches: a namespace (null: all), and label/field selectors in query form. Two
/// requests for the same type and scope share one informer.
/// </summary>
public sealed record InformerScope(string? Namespace = null, string? LabelSelector = null, string? FieldSelector = null)
{
    public static InformerScope All { get; } = new();
}

/// <summary>Checks that the watchdog outlasts the longest watch and that backoff grows.</summary>
public sealed class InformerOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<InformerOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, InformerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.WatchdogTimeout <= options.MinWatchTimeout * 2)
        {
            errors.Add($"Informers:WatchdogTimeout ({options.WatchdogTimeout}) must exceed twice MinWatchTimeout ({options.MinWatchTimeout}), the longest a quiet but healthy watch lasts.");
        }

        if (options.MaxBackoff < options.InitialBackoff)
        {
            errors.Add($"Informers:MaxBackoff ({options.MaxBackoff}) must be at least InitialBackoff ({options.InitialBackoff}).");
        }

        return errors.Count == 0 ? Microsoft.Extensions.Options.ValidateOptionsResult.Success : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(errors);
    }
}
