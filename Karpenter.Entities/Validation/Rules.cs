using FluentValidation;
using FluentValidation.Results;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Entities;

namespace Karpenter.Entities.Validation;

/// <summary>Adds field errors to a FluentValidation context in the shape <see cref="ApiValidator{T}"/> uses.</summary>
internal static class Failures
{
    public static void Add<T>(ValidationContext<T> context, FieldError error) =>
        context.AddFailure(new ValidationFailure(error.Field, error.ToString()) { ErrorCode = error.Reason });

    public static void Warn<T>(ValidationContext<T> context, string field, string message) =>
        context.AddFailure(new ValidationFailure(field, $"{field}: {message}") { Severity = Severity.Warning });
}

/// <summary>Durations the schema's patterns admit but Go would not parse (out of range), and the "Never" spelling.</summary>
internal static class DurationRules
{
    /// <summary>A duration that may also be <c>Never</c>.</summary>
    public static void Nillable<T>(ValidationContext<T> context, string path, string? value)
    {
        if (value is not null && !GoDuration.TryParseNillable(value, out _, out var error))
        {
            Failures.Add(context, FieldError.Invalid(path, value, $"must be a duration such as 30s, 5m, 720h or 1h30m, or Never: {error}"));
        }
    }

    /// <summary>A duration that must be finite.</summary>
    public static void Required<T>(ValidationContext<T> context, string path, string? value)
    {
        if (value is not null && !GoDuration.TryParse(value, out _, out var error))
        {
            Failures.Add(context, FieldError.Invalid(path, value, $"must be a duration such as 30s, 5m, 48h or 1h30m: {error}"));
        }
    }
}

/// <summary>Disruption budgets: the CEL rule pairing schedule and duration, and the cron and duration parses CEL cannot do.</summary>
internal static class BudgetRules
{
    public static void Validate<T>(ValidationContext<T> context, string path, IReadOnlyList<Budget>? budgets)
    {
        if (budgets is null)
        {
            return;
        }

        if (budgets.Any(b => (b.Schedule is null) != (b.Duration is null)))
        {
            Failures.Add(context, FieldError.Rule(path, "array", CelRules.ScheduleWithDurationMessage));
        }

        for (var i = 0; i < budgets.Count; i++)
        {
            var budget = budgets[i];
            if (budget.Schedule is { } schedule && !BudgetSchedules.TryParseSchedule(schedule, out _, out var error))
            {
                Failures.Add(context, FieldError.Invalid($"{path}[{i}].schedule", schedule,
                    $"not a valid cron schedule ({error}); use five fields (minute hour day-of-month month day-of-week) or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly; schedules are in UTC"));
            }

            DurationRules.Required(context, $"{path}[{i}].duration", budget.Duration);
            if (BudgetSchedules.ScaledNodes(budget.Nodes ?? string.Empty, 0) is null && budget.Nodes is not null)
            {
                Failures.Add(context, FieldError.Invalid($"{path}[{i}].nodes", budget.Nodes, "must be a count (e.g. 5) or a percentage up to 100% (e.g. 10%)"));
            }
        }
    }
}

/// <summary>A NodeClaim's or NodePool's reference to its NodeClass.</summary>
internal static class NodeClassReferenceRules
{
    /// <summary>The only NodeClass this provider serves.</summary>
    public const string Group = Labels.AwsGroup;

    public const string Kind = "EC2NodeClass";

    public static void Validate<T>(ValidationContext<T> context, string path, NodeClassReference? reference, NodeClassReference? old, bool immutable)
    {
        if (reference is null)
        {
            return;
        }

        if (reference.Group == string.Empty)
        {
            Failures.Add(context, FieldError.Rule($"{path}.group", "string", "group may not be empty"));
        }
        else if (reference.Group is not null && reference.Group != Group)
        {
            Failures.Add(context, FieldError.NotSupported($"{path}.group", Kube(reference.Group), [Group]));
        }

        if (reference.Kind == string.Empty)
        {
            Failures.Add(context, FieldError.Rule($"{path}.kind", "string", "kind may not be empty"));
        }
        else if (reference.Kind is not null && reference.Kind != Kind)
        {
            Failures.Add(context, FieldError.NotSupported($"{path}.kind", Kube(reference.Kind), [Kind]));
        }

        if (reference.Name == string.Empty)
        {
            Failures.Add(context, FieldError.Rule($"{path}.name", "string", "name may not be empty"));
        }

        if (immutable && old is not null)
        {
            if (reference.Group != old.Group)
            {
                Failures.Add(context, FieldError.Rule(path, "object", "nodeClassRef.group is immutable"));
            }

            if (reference.Kind != old.Kind)
            {
                Failures.Add(context, FieldError.Rule(path, "object", "nodeClassRef.kind is immutable"));
            }
        }
    }

    private static System.Text.Json.Nodes.JsonValue Kube(string value) => System.Text.Json.Nodes.JsonValue.Create(value);
}

/// <summary>Taints: a key and effect pair may appear once (upstream's runtime validation).</summary>
internal static class TaintRules
{
    public static void Validate<T>(ValidationContext<T> context, string path, IReadOnlyList<Taint>? taints)
    {
        if (taints is null)
        {
            return;
        }

        for (var i = 0; i < taints.Count; i++)
        {
            var taint = taints[i];
            if (Enumerable.Range(0, i).Any(j => taints[j].Key == taint.Key && taints[j].Effect == taint.Effect))
            {
                Failures.Add(context, new FieldError("FieldValueDuplicate", $"{path}[{i}]", $"Duplicate value: duplicate taint Key/Effect pair {taint.Key}={taint.Effect}"));
            }
        }
    }
}
