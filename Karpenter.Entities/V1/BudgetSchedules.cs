using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Cronos;

namespace Karpenter.Entities.V1;

/// <summary>
/// Disruption-budget arithmetic shared by the API types and their validators: cron schedules (Cronos, in UTC, as
/// upstream's <c>TZ=UTC</c> standard parser reads them) and node counts or percentages.
/// </summary>
public static class BudgetSchedules
{
    /// <summary>Parses a budget schedule (five fields or a macro such as <c>@daily</c>); false with the parser's reason otherwise.</summary>
    public static bool TryParseSchedule(string? schedule, [NotNullWhen(true)] out CronExpression? expression, [NotNullWhen(false)] out string? error)
    {
        expression = null;
        if (string.IsNullOrWhiteSpace(schedule))
        {
            error = "empty schedule";
            return false;
        }

        if (schedule.TrimStart().StartsWith("TZ=", StringComparison.Ordinal) || schedule.TrimStart().StartsWith("CRON_TZ=", StringComparison.Ordinal))
        {
            error = "time zones are not supported; schedules are evaluated in UTC";
            return false;
        }

        try
        {
            expression = CronExpression.Parse(schedule.Trim(), CronFormat.Standard);
            error = null;
            return true;
        }
        catch (CronFormatException e)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>
    /// Whether a budget with this schedule and duration is active at <paramref name="now"/>; true without either, null
    /// when they do not parse.
    /// </summary>
    public static bool? IsActive(string? schedule, string? duration, DateTimeOffset now)
    {
        if (schedule is null && duration is null)
        {
            return true;
        }

        if (!TryParseSchedule(schedule, out var expression, out _) || !GoDuration.TryParse(duration ?? "0s", out var window, out _))
        {
            return null;
        }

        var checkpoint = now.ToUniversalTime() - window;
        var next = expression.GetNextOccurrence(checkpoint, TimeZoneInfo.Utc);
        return next is { } hit && hit <= now.ToUniversalTime();
    }

    /// <summary>
    /// A budget's <c>nodes</c> applied to <paramref name="nodeCount"/>: a count as is, a percentage rounded up (as
    /// Kubernetes scales PDB percentages). Null when it is neither.
    /// </summary>
    public static int? ScaledNodes(string nodes, int nodeCount)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (int.TryParse(nodes, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return count;
        }

        if (nodes.EndsWith('%') && int.TryParse(nodes[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent))
        {
            return (int)Math.Ceiling(percent * (long)nodeCount / 100.0);
        }

        return null;
    }
}
