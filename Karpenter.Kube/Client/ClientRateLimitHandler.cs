using Karpenter.Kube.Queue;

namespace Karpenter.Kube.Client;

/// <summary>
/// client-go's client-side rate limiter: every request to the API server (watches included) takes a token from one
/// bucket of <see cref="KubeClientOptions.Qps"/> and <see cref="KubeClientOptions.Burst"/>, waiting on the
/// <see cref="TimeProvider"/> when the bucket is empty, so that a burst of reconciles cannot flood the API server.
/// </summary>
public sealed class ClientRateLimitHandler : DelegatingHandler
{
    private readonly BucketRateLimiter<HttpRequestMessage> _bucket;
    private readonly TimeProvider _time;

    public ClientRateLimitHandler(double qps, int burst, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _bucket = new BucketRateLimiter<HttpRequestMessage>(qps, burst, time);
        _time = time;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var wait = _bucket.NextDelay(request);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }

        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
