using System.Diagnostics.Metrics;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Queue;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Kube.LeaderElection;

/// <summary>
/// Leader election on a Lease with client-go's algorithm (<c>tryAcquireOrRenew</c>), on a <see cref="TimeProvider"/>:
/// <list type="bullet">
/// <item>a candidate takes the lease when it is free or has not changed for <c>LeaseDuration</c> by its own clock
/// (the observed time, not the holder's timestamps, so clock skew does not matter); writes carry the read
/// resourceVersion, so two candidates can never both win;</item>
/// <item>the leader renews every <c>RetryPeriod</c>; if it cannot renew within <c>RenewDeadline</c> it stops leading and
/// stops the host (crash-only, like controller-runtime: no in-process re-acquire);</item>
/// <item>on graceful shutdown (after the controllers have stopped) it releases the lease, and candidates watch the
/// Lease, so a successor takes over at once instead of waiting out the lease.</item>
/// </list>
/// </summary>
public sealed partial class LeaderElector : BackgroundService, ILeadership
{
    /// <summary>client-go's jitter on the retry period.</summary>
    public const double JitterFactor = 1.2;

    private readonly IKubeClient _client;
    private readonly LeaderElectionOptions _options;
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<LeaderElector> _logger;
    private readonly TaskCompletionSource _leading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private V1LeaseSpec? _observed;
    private string? _observedResourceVersion;
    private DateTimeOffset _observedTime;
    private TaskCompletionSource _leaseChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _isLeader;

    public LeaderElector(IKubeClient client, IOptions<LeaderElectionOptions> options, TimeProvider time, IHostApplicationLifetime lifetime, IMeterFactory meters, ILogger<LeaderElector> logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(logger);
        _client = client;
        _options = options.Value;
        _time = time;
        _lifetime = lifetime;
        _logger = logger;
        meters.Create(WorkQueueMetrics.MeterName).CreateObservableGauge(
            "leader_election_master_status",
            () => new Measurement<int>(_isLeader ? 1 : 0, new KeyValuePair<string, object?>("name", _options.LeaseName)),
            description: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.");
    }

    public string Identity => _options.Identity;

    public bool IsLeader => _isLeader;

    /// <summary>The holder this candidate last observed (null before the first read).</summary>
    public string? ObservedLeader
    {
        get
        {
            lock (_lock)
            {
                return _observed?.HolderIdentity;
            }
        }
    }

    public Task WaitForLeadershipAsync(CancellationToken cancellationToken) => _leading.Task.WaitAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var watch = WatchLeaseAsync(watchStop.Token);
        try
        {
            if (!await AcquireAsync(stoppingToken))
            {
                return;
            }
        }
        finally
        {
            await watchStop.CancelAsync();
            await watch;
        }

        _isLeader = true;
        StartedLeading(_options.Identity, _options.LeaseNamespace, _options.LeaseName);
        _leading.TrySetResult();

        var lost = await RenewUntilLostAsync(stoppingToken);
        _isLeader = false;
        if (lost)
        {
            LostLeadership(_options.Identity);
            _lifetime.StopApplication();
            return;
        }

        if (_options.ReleaseOnCancel)
        {
            await ReleaseAsync();
        }
    }

    /// <summary>One attempt of client-go's <c>tryAcquireOrRenew</c>; true when this candidate holds the lease afterwards.</summary>
    internal async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        V1Lease? lease;
        try
        {
            lease = await _client.TryGetAsync<V1Lease>(_options.LeaseName, _options.LeaseNamespace, cancellationToken);
        }
        catch (Exception e) when (IsTransient(e, cancellationToken))
        {
            AttemptFailed(e.Message);
            return false;
        }

        if (lease is null)
        {
            var created = new V1Lease
            {
                ApiVersion = "coordination.k8s.io/v1",
                Kind = "Lease",
                Metadata = new V1ObjectMeta { Name = _options.LeaseName, NamespaceProperty = _options.LeaseNamespace },
                Spec = NewSpec(now, acquireTime: now, transitions: 0),
            };
            try
            {
                var stored = await _client.CreateAsync(created, cancellationToken);
                Observe(stored, now);
                return true;
            }
            catch (KubeApiException e)
            {
                AttemptFailed(e.Message);
                return false;
            }
        }

        var old = lease.Spec ?? new V1LeaseSpec();
        lock (_lock)
        {
            if (_observedResourceVersion != lease.Metadata.ResourceVersion)
            {
                _observed = old;
                _observedResourceVersion = lease.Metadata.ResourceVersion;
                _observedTime = now;
            }

            var heldByOther = !string.IsNullOrEmpty(old.HolderIdentity) && old.HolderIdentity != _options.Identity;
            var validFor = TimeSpan.FromSeconds(old.LeaseDurationSeconds ?? 0);
            if (heldByOther && _observedTime + validFor > now)
            {
                return false;
            }
        }

        var ours = old.HolderIdentity == _options.Identity;
        lease.Spec = NewSpec(
            now,
            acquireTime: ours && old.AcquireTime is { } acquired ? new DateTimeOffset(acquired, TimeSpan.Zero) : now,
            transitions: ours ? old.LeaseTransitions ?? 0 : (old.LeaseTransitions ?? 0) + 1);
        try
        {
            var stored = await _client.UpdateAsync(lease, cancellationToken);
            Observe(stored, now);
            return true;
        }
        catch (Exception e) when (IsTransient(e, cancellationToken))
        {
            AttemptFailed(e.Message);
            return false;
        }
    }

    private async Task<bool> AcquireAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            Task changed;
            lock (_lock)
            {
                changed = _leaseChanged.Task;
            }

            if (await TryAcquireOrRenewAsync(stoppingToken))
            {
                return true;
            }

            try
            {
                await Task.WhenAny(Task.Delay(Jittered(), _time, stoppingToken), changed.WaitAsync(stoppingToken));
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>Renews until cancelled (false) or until a renewal could not succeed within the deadline (true).</summary>
    private async Task<bool> RenewUntilLostAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.RetryPeriod, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            var deadline = _time.GetUtcNow() + _options.RenewDeadline;
            while (true)
            {
                var remaining = deadline - _time.GetUtcNow();
                using var deadlineCts = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, _time);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, deadlineCts.Token);
                bool renewed;
                try
                {
                    renewed = await TryAcquireOrRenewAsync(attempt.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    renewed = false;
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                if (renewed)
                {
                    break;
                }

                if (_time.GetUtcNow() + _options.RetryPeriod >= deadline)
                {
                    return true;
                }

                try
                {
                    await Task.Delay(_options.RetryPeriod, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
        }

        return false;
    }

    /// <summary>Hands the lease over: an empty holder with a 1 s duration, if we still hold it (client-go's release).</summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(_options.RenewDeadline, _time);
        try
        {
            var lease = await _client.TryGetAsync<V1Lease>(_options.LeaseName, _options.LeaseNamespace, timeout.Token);
            if (lease?.Spec?.HolderIdentity != _options.Identity)
            {
                return;
            }

            var now = _time.GetUtcNow();
            lease.Spec = new V1LeaseSpec
            {
                HolderIdentity = null,
                LeaseDurationSeconds = 1,
                AcquireTime = now.UtcDateTime,
                RenewTime = now.UtcDateTime,
                LeaseTransitions = lease.Spec.LeaseTransitions,
            };
            await _client.UpdateAsync(lease, timeout.Token);
            Released(_options.Identity);
        }
        catch (Exception e) when (e is KubeApiException or OperationCanceledException or HttpRequestException)
        {
            ReleaseFailed(e, _options.Identity);
        }
    }

    /// <summary>Wakes the acquire loop whenever the Lease changes, so a released lease is taken at once.</summary>
    private async Task WatchLeaseAsync(CancellationToken cancellationToken)
    {
        var options = new WatchOptions
        {
            Namespace = _options.LeaseNamespace,
            FieldSelector = FieldSelector.OneTermEqual("metadata.name", _options.LeaseName).ToString(),
            AllowBookmarks = false,
            Timeout = TimeSpan.FromMinutes(5),
        };
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in _client.WatchAsync<V1Lease>(options, cancellationToken))
                {
                    if (e.Type is k8s.WatchEventType.Added or k8s.WatchEventType.Modified or k8s.WatchEventType.Deleted)
                    {
                        TaskCompletionSource wake;
                        lock (_lock)
                        {
                            wake = _leaseChanged;
                            _leaseChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        }

                        wake.TrySetResult();
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is KubeApiException or HttpRequestException or IOException)
            {
                // The retry period still applies; the watch only makes hand-over faster.
            }

            try
            {
                await Task.Delay(_options.RetryPeriod, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // Any failure of one attempt (API error, network, request timeout) just fails the attempt; only our own stop propagates.
    private static bool IsTransient(Exception e, CancellationToken cancellationToken) =>
        e is KubeApiException or HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private V1LeaseSpec NewSpec(DateTimeOffset now, DateTimeOffset acquireTime, int transitions) => new()
    {
        HolderIdentity = _options.Identity,
        LeaseDurationSeconds = (int)Math.Ceiling(_options.LeaseDuration.TotalSeconds),
        AcquireTime = acquireTime.UtcDateTime,
        RenewTime = now.UtcDateTime,
        LeaseTransitions = transitions,
    };

    private void Observe(V1Lease stored, DateTimeOffset now)
    {
        lock (_lock)
        {
            _observed = stored.Spec;
            _observedResourceVersion = stored.Metadata?.ResourceVersion;
            _observedTime = now;
        }
    }

    private TimeSpan Jittered() => _options.RetryPeriod * (1 + (Random.Shared.NextDouble() * JitterFactor));

    [LoggerMessage(4001, LogLevel.Information, "{Identity} became leader of lease {Namespace}/{Name}")]
    private partial void StartedLeading(string identity, string @namespace, string name);

    [LoggerMessage(4002, LogLevel.Error, "{Identity} lost leadership (could not renew within the deadline); stopping")]
    private partial void LostLeadership(string identity);

    [LoggerMessage(4003, LogLevel.Information, "{Identity} released the lease")]
    private partial void Released(string identity);

    [LoggerMessage(4004, LogLevel.Warning, "{Identity} could not release the lease; a successor waits for it to expire")]
    private partial void ReleaseFailed(Exception exception, string identity);

    [LoggerMessage(4005, LogLevel.Debug, "Leader election attempt failed: {Message}")]
    private partial void AttemptFailed(string message);
}
