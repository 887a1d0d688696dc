using System.Diagnostics.Metrics;
using System.Threading.Channels;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Queue;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Kube.Events;

/// <summary>
/// Writes <c>events.k8s.io/v1</c> events from a bounded channel on a background loop. Publishing deduplicates
/// repeats within <see cref="EventRecorderOptions.DedupeWindow"/>, applies a token bucket, and drops (counting
/// <c>karpenter_kube_events_dropped_total</c>) rather than block when the buffer is full.
/// </summary>
public sealed partial class EventRecorder : BackgroundService, IEventRecorder
{
    private readonly Channel<Eventsv1Event> _channel;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _recent = new(StringComparer.Ordinal);
    private readonly IKubeClient _client;
    private readonly EventRecorderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EventRecorder> _logger;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _written;
    private double _tokens;
    private DateTimeOffset _lastRefill;
    private DateTimeOffset _lastPrune;
    private long _sequence;

    public EventRecorder(IKubeClient client, IOptions<EventRecorderOptions> options, TimeProvider time, IMeterFactory meters, ILogger<EventRecorder> logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(logger);
        _client = client;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _channel = Channel.CreateBounded<Eventsv1Event>(new BoundedChannelOptions(_options.Capacity)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });
        _tokens = _options.Burst;
        _lastRefill = _lastPrune = time.GetUtcNow();
        var meter = meters.Create(WorkQueueMetrics.MeterName);
        _dropped = meter.CreateCounter<long>("karpenter_kube_events_dropped_total", description: "Events not written: deduplicated, rate-limited or buffer full");
        _written = meter.CreateCounter<long>("karpenter_kube_events_written_total", description: "Events written to the API server");
    }

    public void Publish(KubeEvent kubeEvent)
    {
        ArgumentNullException.ThrowIfNull(kubeEvent);
        var now = _time.GetUtcNow();
        var regarding = kubeEvent.Regarding.ToReference();
        var dedupeKey = string.Join(
            '\u001f',
            [kubeEvent.Reason, regarding.Kind ?? string.Empty, regarding.NamespaceProperty ?? string.Empty, regarding.Name ?? string.Empty, .. kubeEvent.DedupeValues ?? [kubeEvent.Message]]);
        lock (_lock)
        {
            Prune(now);
            if (_recent.TryGetValue(dedupeKey, out var until) && until > now)
            {
                _dropped.Add(1, new KeyValuePair<string, object?>("why", "duplicate"));
                return;
            }

            _tokens = Math.Min(_options.Burst, _tokens + ((now - _lastRefill).TotalSeconds * _options.RatePerSecond));
            _lastRefill = now;
            if (_tokens < 1)
            {
                _dropped.Add(1, new KeyValuePair<string, object?>("why", "rate_limited"));
                return;
            }

            _tokens -= 1;
            _recent[dedupeKey] = now + (kubeEvent.DedupeTimeout ?? _options.DedupeWindow);
        }

        var evt = Build(kubeEvent, regarding, now);
        if (!_channel.Writer.TryWrite(evt))
        {
            _dropped.Add(1, new KeyValuePair<string, object?>("why", "buffer_full"));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var evt in _channel.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await _client.CreateAsync(evt, stoppingToken);
                    _written.Add(1);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _dropped.Add(1, new KeyValuePair<string, object?>("why", "write_failed"));
                    WriteFailed(e, evt.Reason, evt.Regarding?.Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private Eventsv1Event Build(KubeEvent e, V1ObjectReference regarding, DateTimeOffset now)
    {
        var seq = Interlocked.Increment(ref _sequence);
        var ns = string.IsNullOrEmpty(regarding.NamespaceProperty) ? "default" : regarding.NamespaceProperty;
        var note = e.Message.Length <= 1024 ? e.Message : e.Message[..1021] + "...";
        var baseName = regarding.Name ?? "object";
        if (baseName.Length > 200)
        {
            baseName = baseName[..200];
        }

        return new Eventsv1Event
        {
            ApiVersion = "events.k8s.io/v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta { Name = $"{baseName}.{now.ToUnixTimeMilliseconds():x}{seq:x}", NamespaceProperty = ns },
            EventTime = now.UtcDateTime,
            Regarding = regarding,
            Reason = Cut(e.Reason, 128),
            Action = Cut(e.Action ?? e.Reason, 128),
            Note = note,
            Type = e.Type,
            ReportingController = _options.ReportingController,
            ReportingInstance = _options.ReportingInstance,
        };
    }

    private void Prune(DateTimeOffset now)
    {
        if (now - _lastPrune < TimeSpan.FromSeconds(30) && _recent.Count < 10_000)
        {
            return;
        }

        _lastPrune = now;
        foreach (var key in _recent.Where(kv => kv.Value <= now).Select(kv => kv.Key).ToArray())
        {
            _recent.Remove(key);
        }
    }

    private static string Cut(string s, int max) => s.Length <= max ? s : s[..max];

    [LoggerMessage(3001, LogLevel.Warning, "Could not write event {Reason} about {Object}")]
    private partial void WriteFailed(Exception exception, string? reason, string? @object);
}
