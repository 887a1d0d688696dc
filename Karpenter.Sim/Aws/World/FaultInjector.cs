using Karpenter.Sim.Aws.Protocol;

namespace Karpenter.Sim.Aws.World;

/// <summary>
/// Faults the emulator injects into its answers: throttling and server errors per call (a fraction of calls, a
/// window on the clock, or the next N calls), and launches that create instances but answer with an error.
/// Call names are the wire action names (<c>CreateFleet</c>, <c>GetParameter</c>, <c>ReceiveMessage</c>,
/// <c>GetInstanceProfile</c>, <c>GetProducts</c>) or <c>*</c> for every call.
/// </summary>
public sealed class FaultInjector
{
    private readonly AwsWorld _world;
    private readonly List<Rule> _rules = [];
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private int _failLaunchesAfterCreation;
    private CredentialProblem _credentials;

    internal FaultInjector(AwsWorld world) => _world = world;

    private enum Kind
    {
        Throttle,
        ServerError,
    }

    private sealed class Rule
    {
        public required string Action { get; init; }

        public required Kind Kind { get; init; }

        public int StatusCode { get; init; }

        public double Fraction { get; init; } = 1;

        public DateTimeOffset? From { get; init; }

        public DateTimeOffset? Until { get; init; }

        public int? Remaining { get; set; }
    }

    /// <summary>
    /// Throttles <paramref name="action"/>: <c>RequestLimitExceeded</c> on EC2, <c>ThrottlingException</c> on
    /// SSM, SQS and Pricing, <c>Throttling</c> on IAM. Applies to a <paramref name="fraction"/> of calls, within
    /// [<paramref name="from"/>, <paramref name="until"/>) on the clock if given, and to at most <paramref name="count"/> calls if given.
    /// </summary>
    public void Throttle(string action, double fraction = 1, DateTimeOffset? from = null, DateTimeOffset? until = null, int? count = null) =>
        Add(new Rule { Action = action, Kind = Kind.Throttle, Fraction = CheckFraction(fraction), From = from, Until = until, Remaining = count });

    /// <summary>Answers <paramref name="action"/> with a server error: 500 (<c>InternalError</c>) or 503 (<c>Unavailable</c>).</summary>
    public void FailRequests(string action, int statusCode = 500, double fraction = 1, DateTimeOffset? from = null, DateTimeOffset? until = null, int? count = null)
    {
        if (statusCode is not (500 or 503))
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), "Server errors are 500 or 503.");
        }

        Add(new Rule { Action = action, Kind = Kind.ServerError, StatusCode = statusCode, Fraction = CheckFraction(fraction), From = from, Until = until, Remaining = count });
    }

    /// <summary>
    /// The next <paramref name="count"/> CreateFleet or RunInstances requests create their instances and then
    /// answer 500 <c>InternalError</c>, so the caller never learns the instance ids (retries with the same client
    /// token get the same error). The instances are left for garbage collection to find.
    /// </summary>
    public void FailLaunchesAfterCreation(int count) => _world.Locked(() => _failLaunchesAfterCreation = Math.Max(0, count));

    /// <summary>
    /// Refuses every request's credentials from now on, as AWS does for an expired session token
    /// (<c>RequestExpired</c> on EC2, <c>ExpiredToken</c> on IAM, <c>ExpiredTokenException</c> on the JSON services) or
    /// an unknown access key (<c>AuthFailure</c>, <c>InvalidClientTokenId</c>, <c>UnrecognizedClientException</c>).
    /// <see cref="CredentialProblem.None"/> accepts them again.
    /// </summary>
    public void RejectCredentials(CredentialProblem problem) => _world.Locked(() => _credentials = problem);

    /// <summary>Removes every rule and credential problem (call counts are kept).</summary>
    public void Clear() => _world.Locked(() =>
    {
        _rules.Clear();
        _failLaunchesAfterCreation = 0;
        _credentials = CredentialProblem.None;
    });

    /// <summary>How many requests for <paramref name="action"/> reached the emulator (including faulted ones).</summary>
    public int CallCount(string action) => _world.Locked(() => _calls.GetValueOrDefault(action));

    private void Add(Rule rule) => _world.Locked(() => _rules.Add(rule));

    private static double CheckFraction(double fraction) =>
        fraction is > 0 and <= 1 ? fraction : throw new ArgumentOutOfRangeException(nameof(fraction), "A fraction is in (0, 1].");

    /// <summary>Counts the call and returns the fault to answer with, if any. Called under the world's lock.</summary>
    internal AwsServiceException? Check(string service, string action)
    {
        _calls[action] = _calls.GetValueOrDefault(action) + 1;
        if (_credentials != CredentialProblem.None)
        {
            return CredentialError(service, _credentials);
        }

        var now = _world.Now;
        foreach (var rule in _rules)
        {
            if ((rule.Action != "*" && rule.Action != action) || rule.Remaining == 0 ||
                (rule.From is { } from && now < from) || (rule.Until is { } until && now >= until))
            {
                continue;
            }

            if (rule.Fraction < 1 && _world.NextDouble() >= rule.Fraction)
            {
                continue;
            }

            if (rule.Remaining is { } remaining)
            {
                rule.Remaining = remaining - 1;
            }

            return rule.Kind == Kind.Throttle ? Throttled(service) : ServerError(service, rule.StatusCode);
        }

        return null;
    }

    internal bool TakeLaunchFailure()
    {
        if (_failLaunchesAfterCreation <= 0)
        {
            return false;
        }

        _failLaunchesAfterCreation--;
        return true;
    }

    private static AwsServiceException CredentialError(string service, CredentialProblem problem) => (service, problem) switch
    {
        ("ec2", CredentialProblem.Expired) => new("RequestExpired", "Request has expired."),
        ("ec2", _) => new("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
        ("iam", CredentialProblem.Expired) => new("ExpiredToken", "The security token included in the request is expired", 403),
        ("iam", _) => new("InvalidClientTokenId", "The security token included in the request is invalid.", 403),
        (_, CredentialProblem.Expired) => new("ExpiredTokenException", "The security token included in the request is expired", 400) { QueryErrorCode = "ExpiredToken" },
        _ => new("UnrecognizedClientException", "The security token included in the request is invalid.", 400) { QueryErrorCode = "InvalidClientTokenId" },
    };

    private static AwsServiceException Throttled(string service) => service switch
    {
        "ec2" => new("RequestLimitExceeded", "Request limit exceeded.", 503, senderFault: false),
        "iam" => new("Throttling", "Rate exceeded", 400),
        "sqs" => new("ThrottlingException", "Rate exceeded", 400) { QueryErrorCode = "ThrottlingException" },
        _ => new("ThrottlingException", "Rate exceeded", 400),
    };

    internal static AwsServiceException ServerError(string service, int status) => (service, status) switch
    {
        ("ec2", 503) => new("Unavailable", "The server is overloaded and can't handle the request.", 503, senderFault: false),
        ("ec2", _) => new("InternalError", "An internal error has occurred", 500, senderFault: false),
        ("iam", 503) => new("ServiceUnavailable", "Service Unavailable", 503, senderFault: false),
        ("iam", _) => new("ServiceFailure", "The request processing has failed because of an unknown error, exception or failure.", 500, senderFault: false),
        (_, 503) => new("ServiceUnavailable", "Service Unavailable", 503, senderFault: false),
        _ => new("InternalServerError", "An internal server error occurred.", 500, senderFault: false) { QueryErrorCode = "InternalError" },
    };
}

/// <summary>What is wrong with the callers' credentials, for <see cref="FaultInjector.RejectCredentials"/>.</summary>
public enum CredentialProblem
{
    None,

    /// <summary>The session token has expired.</summary>
    Expired,

    /// <summary>The access key is not known to AWS.</summary>
    Unrecognized,
}
