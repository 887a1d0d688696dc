using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Tls;

namespace Karpenter.Sim.KubeApi.Webhooks;

/// <summary>A webhook could not be called or answered nonsense; the message follows kube-apiserver's wording.</summary>
internal sealed class WebhookCallException(string message) : Exception(message);

/// <summary>
/// Calls admission and conversion webhooks as kube-apiserver does: HTTPS POST of a JSON review to the
/// <c>clientConfig</c> URL (or the resolved service), trusting only the configuration's <c>caBundle</c>.
/// </summary>
internal sealed class WebhookClient(Func<string, string, int, string?, Uri>? serviceResolver) : IDisposable
{
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);

    public Uri Resolve(JsonObject clientConfig)
    {
        if (clientConfig.GetString("url") is { Length: > 0 } url)
        {
            return new Uri(url);
        }

        if (clientConfig.GetObject("service") is { } service)
        {
            var ns = service.GetString("namespace") ?? "";
            var name = service.GetString("name") ?? "";
            var port = (int)(service.GetLong("port") ?? 443);
            var path = service.GetString("path");
            if (serviceResolver is not null)
            {
                return serviceResolver(ns, name, port, path);
            }

            return new Uri($"https://{name}.{ns}.svc:{port}{path}");
        }

        throw new WebhookCallException("clientConfig has neither url nor service");
    }

    public async Task<JsonObject> PostAsync(JsonObject clientConfig, JsonObject review, TimeSpan timeout, CancellationToken ct)
    {
        var uri = Resolve(clientConfig);
        var caBundle = clientConfig.GetString("caBundle") ?? "";
        var client = _clients.GetOrAdd(caBundle, CreateClient);
        var target = uri;
        if (review["kind"]?.GetValue<string>() == "AdmissionReview")
        {
            var builder = new UriBuilder(uri) { Query = $"timeout={(int)timeout.TotalSeconds}s" };
            target = builder.Uri;
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutSource.CancelAfter(timeout);
        using var content = new ByteArrayContent(KubeJson.ToBytes(review));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsync(target, content, timeoutSource.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new WebhookCallException($"Post \"{target}\": context deadline exceeded");
        }
        catch (HttpRequestException e)
        {
            throw new WebhookCallException($"Post \"{target}\": {Describe(e)}");
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new WebhookCallException($"an error on the server ({Encoding.UTF8.GetString(body)}) has prevented the request from succeeding");
            }

            try
            {
                return JsonNode.Parse(body) as JsonObject ?? throw new WebhookCallException("received invalid webhook response: not an object");
            }
            catch (JsonException e)
            {
                throw new WebhookCallException($"received invalid webhook response: {e.Message}");
            }
        }
    }

    private static string Describe(HttpRequestException e)
    {
        var inner = e.InnerException;
        while (inner?.InnerException is not null && inner is not System.Security.Authentication.AuthenticationException)
        {
            inner = inner.InnerException;
        }

        return inner is System.Security.Authentication.AuthenticationException
            ? "tls: failed to verify certificate: x509: certificate signed by unknown authority"
            : inner?.Message ?? e.Message;
    }

    private static HttpClient CreateClient(string caBundle)
    {
        var roots = new X509Certificate2Collection();
        if (caBundle.Length > 0)
        {
            try
            {
                roots.ImportFromPem(Encoding.UTF8.GetString(Convert.FromBase64String(caBundle)));
            }
            catch (FormatException)
            {
                // An unreadable bundle trusts nothing; the TLS handshake then fails as on a real server.
            }
        }

        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || roots.Count == 0)
                    {
                        return false;
                    }

                    using var peer = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                    return CertificateAuthority.ChainsTo(peer, roots);
                },
            },
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }
}
