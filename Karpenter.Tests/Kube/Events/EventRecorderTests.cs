using k8s.Models;
using Karpenter.Kube.Events;
using Karpenter.Tests.Kube.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Kube.Events;

public sealed class EventRecorderTests : IAsyncLifetime, IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ScriptedKubeClient _client = new();
    private readonly EventRecorder _recorder;
    private readonly TestMeterFactory _meters = new();

    public EventRecorderTests()
    {
        var options = new EventRecorderOptions { ReportingController = "karpenter", ReportingInstance = "karpenter-0", Burst = 3, RatePerSecond = 1 };
        _recorder = new EventRecorder(_client, Options.Create(options), _time, _meters, NullLogger<EventRecorder>.Instance);
    }

    [Fact]
    public async Task Writes_an_events_k8s_io_v1_event_about_the_object()
    {
        _recorder.Publish(new KubeEvent(Pod("p"), EventTypes.Warning, "FailedScheduling", "no nodepool fits"));

        var evt = Assert.IsType<Eventsv1Event>(Assert.Single(await ExpectWritten(1)));
        Assert.Equal(("events.k8s.io/v1", "Event", "ns"), (evt.ApiVersion, evt.Kind, evt.Metadata.NamespaceProperty));
        Assert.StartsWith("p.", evt.Metadata.Name, StringComparison.Ordinal);
        Assert.Equal(("Warning", "FailedScheduling", "FailedScheduling", "no nodepool fits"), (evt.Type, evt.Reason, evt.Action, evt.Note));
        Assert.Equal(("karpenter", "karpenter-0"), (evt.ReportingController, evt.ReportingInstance));
        Assert.Equal(("Pod", "p", "uid-p"), (evt.Regarding.Kind, evt.Regarding.Name, evt.Regarding.Uid));
        Assert.Equal(_time.GetUtcNow().UtcDateTime, evt.EventTime);
    }

    [Fact]
    public async Task Repeats_within_the_dedupe_window_are_dropped()
    {
        var e = new KubeEvent(Pod("p"), EventTypes.Normal, "Nominated", "pod should schedule on nodeclaim x");

        _recorder.Publish(e);
        _recorder.Publish(e);
        _time.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromSeconds(1));
        _recorder.Publish(e);
        await ExpectWritten(1);

        _time.Advance(TimeSpan.FromSeconds(1));
        _recorder.Publish(e);
        _recorder.Publish(e with { Message = "a different message" });

        await ExpectWritten(3);
    }

    [Fact]
    public async Task Beyond_the_burst_events_are_dropped_until_the_bucket_refills()
    {
        for (var i = 0; i < 5; i++)
        {
            _recorder.Publish(new KubeEvent(Pod($"p{i}"), EventTypes.Normal, "R", "m"));
        }

        await ExpectWritten(3);
        _time.Advance(TimeSpan.FromSeconds(1));
        _recorder.Publish(new KubeEvent(Pod("late"), EventTypes.Normal, "R", "m"));
        await ExpectWritten(4);
    }

    public Task InitializeAsync() => _recorder.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _recorder.StopAsync(CancellationToken.None);
    }

    public void Dispose()
    {
        _recorder.Dispose();
        _meters.Dispose();
    }

    private async Task<List<object>> ExpectWritten(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (_client.CreatedCount < count)
        {
            await Task.Delay(2, timeout.Token);
        }

        await Task.Delay(20);
        Assert.Equal(count, _client.CreatedCount);
        return _client.Created;
    }

    private static V1Pod Pod(string name) => Objects.Pod(name, "1", ns: "ns");
}
