using Karpenter.Sim.KubeApi.Errors;

namespace Karpenter.Sim.KubeApi;

/// <summary>One installed fault; <see cref="Remove"/> uninstalls it.</summary>
public sealed class FaultRule
{
    private readonly KubeApiFaults _owner;
    private int _hits;

    internal FaultRule(KubeApiFaults owner, string? verb, string? resource, double fraction, int? maxHits)
    {
        _owner = owner;
        Verb = verb;
        Resource = resource;
        Fraction = fraction;
        MaxHits = maxHits;
    }

    /// <summary>Verb the rule applies to (get, list, watch, create, update, patch, delete, deletecollection), or null for all.</summary>
    public string? Verb { get; }

    /// <summary>Resource the rule applies to (<c>pods</c>, <c>pods/eviction</c>, <c>nodeclaims.karpenter.sh</c>), or null for all.</summary>
    public string? Resource { get; }

    public double Fraction { get; }

    public int? MaxHits { get; }

    /// <summary>How many requests the rule has affected.</summary>
    public int Hits => Volatile.Read(ref _hits);

    internal int StatusCode { get; init; }

    internal TimeSpan Delay { get; init; }

    internal bool IsConflict { get; init; }

    internal bool Exhausted => MaxHits is { } max && Hits >= max;

    /// <summary>Counts one hit unless the rule is already used up; atomic, so concurrent requests never exceed <see cref="MaxHits"/>.</summary>
    internal bool TryHit()
    {
        while (true)
        {
            var hits = Volatile.Read(ref _hits);
            if (MaxHits is { } max && hits >= max)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _hits, hits + 1, hits) == hits)
            {
                return true;
            }
        }
    }

    public void Remove() => _owner.Remove(this);

    internal bool Applies(string verb, string resource, string group, string? subresource)
    {
        if (Verb is not null && !string.Equals(Verb, verb, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (Resource is null)
        {
            return true;
        }

        var plain = subresource is null ? resource : $"{resource}/{subresource}";
        var qualified = group.Length == 0 ? plain : subresource is null ? $"{resource}.{group}" : $"{resource}.{group}/{subresource}";
        return string.Equals(Resource, plain, StringComparison.OrdinalIgnoreCase) ||
               string.Equals(Resource, qualified, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// Fault injection for reliability tests: fail a fraction of requests with 500 or 429, force 409 conflicts,
/// delay responses (on the server's clock), drop open watches. Rules apply in the order installed; the first
/// failing rule wins.
/// </summary>
public sealed class KubeApiFaults
{
    private readonly Lock _gate = new();
    private readonly Random _random;
    private readonly Func<string?, int> _dropWatches;
    private List<FaultRule> _rules = [];

    internal KubeApiFaults(Random random, Func<string?, int> dropWatches)
    {
        _random = random;
        _dropWatches = dropWatches;
    }

    /// <summary>
    /// Fails <paramref name="fraction"/> of matching requests with <paramref name="statusCode"/>: 500 answers
    /// an InternalError Status, 429 a TooManyRequests Status with <c>Retry-After: 1</c>, 503/504 their Status.
    /// </summary>
    public FaultRule FailRequests(double fraction, int statusCode = 500, string? verb = null, string? resource = null, int? maxCount = null)
    {
        if (fraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "fraction must be within [0, 1]");
        }

        if (statusCode is not (429 or 500 or 503 or 504))
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "statusCode must be 429, 500, 503 or 504");
        }

        return Add(new FaultRule(this, verb, resource, fraction, maxCount) { StatusCode = statusCode });
    }

    /// <summary>The next <paramref name="count"/> updates and patches of <paramref name="resource"/> answer 409 Conflict.</summary>
    public FaultRule ForceConflicts(int count, string? resource = null, string? verb = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return Add(new FaultRule(this, verb, resource, 1, count) { IsConflict = true });
    }

    /// <summary>Holds matching requests for <paramref name="delay"/> of server time before serving them.</summary>
    public FaultRule Delay(TimeSpan delay, string? verb = null, string? resource = null, double fraction = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return Add(new FaultRule(this, verb, resource, fraction, null) { Delay = delay });
    }

    /// <summary>Ends every open watch (of one resource, e.g. <c>pods</c>, or all) without an event; returns how many.</summary>
    public int DropWatches(string? resource = null) => _dropWatches(resource);

    /// <summary>Removes every rule.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _rules = [];
        }
    }

    internal void Remove(FaultRule rule)
    {
        lock (_gate)
        {
            _rules = _rules.Where(r => !ReferenceEquals(r, rule)).ToList();
        }
    }

    private FaultRule Add(FaultRule rule)
    {
        lock (_gate)
        {
            _rules = [.. _rules, rule];
        }

        return rule;
    }

    /// <summary>Decides, for one request, the delay to apply and the error to answer with (if any).</summary>
    internal (TimeSpan Delay, Func<string, string, ApiError>? Failure) Evaluate(string verb, string resource, string group, string? subresource)
    {
        var rules = Volatile.Read(ref _rules);
        if (rules.Count == 0)
        {
            return (TimeSpan.Zero, null);
        }

        var delay = TimeSpan.Zero;
        Func<string, string, ApiError>? failure = null;
        foreach (var rule in rules)
        {
            if (rule.Exhausted || !rule.Applies(verb, resource, group, subresource))
            {
                continue;
            }

            if (rule.IsConflict && verb is not ("update" or "patch"))
            {
                continue;
            }

            bool roll;
            lock (_gate)
            {
                roll = rule.Fraction >= 1 || _random.NextDouble() < rule.Fraction;
            }

            if (!roll)
            {
                continue;
            }

            if (rule.Delay > TimeSpan.Zero)
            {
                if (rule.TryHit())
                {
                    delay += rule.Delay;
                }

                continue;
            }

            // Checked before counting, and counted atomically: two concurrent requests must not both take the last hit.
            if (failure is not null || !rule.TryHit())
            {
                continue;
            }

            var code = rule.StatusCode;
            failure = rule.IsConflict
                ? (g, name) => ApiError.Conflict(g, resource, name, ApiError.OptimisticLockMessage)
                : code switch
                {
                    429 => (_, _) => ApiError.TooManyRequests("Too many requests, please try again later.", 1),
                    503 => (_, _) => ApiError.Create(503, "ServiceUnavailable", "the server is currently unable to handle the request"),
                    504 => (_, _) => ApiError.Timeout("request did not complete within the allowed duration", 1),
                    _ => (_, _) => ApiError.Internal("injected fault"),
                };
        }

        return (delay, failure);
    }
}
