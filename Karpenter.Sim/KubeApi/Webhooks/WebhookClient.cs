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
internal sealed class WebhookCallException(string message, bool invalidResponse = false) : Exception(message)
{
    /// <summary>The call completed but the answer was unreadable (client-go: a decode error, not a transport error).</summary>
    public bool InvalidResponse { get; } = invalidResponse;
}

/// <summary>
/// Calls admission and conversion webhooks as kube-apiserver does: HTTPS POST of a JSON review to the
/// <c>clientConfig</c> URL (or the resolved service), trusting only the configuration's <c>caBundle</c>.
/// </summary>
internal sealed class WebhookClient(Func<string, string, int, string?, Uri>? serviceResolver, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Namespace, string Name, int Port), Uri> _services = new();

    /// <summary>
    /// Routes calls for <c>service {namespace, name, port}</c> to <paramref name="endpoint"/> (scheme, host and
    /// port; the configuration's <c>path</c> is appended), as a cluster's Service would route them to a pod.
    /// </summary>
    public void RegisterService(string @namespace, string name, int port, Uri endpoint) =>
        _services[(@namespace, name, port)] = endpoint;

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
            if (_services.TryGetValue((ns, name, port), out var endpoint))
            {
                return new UriBuilder(endpoint) { Path = path ?? "/" }.Uri;
            }

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

        // The deadline runs on the server's clock, so a FakeTimeProvider (or the simulator's clock) decides when it passes.
        using var deadline = new CancellationTokenSource(timeout, time);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        using var content = new ByteArrayContent(KubeJson.ToBytes(review));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpResponseMessage response;
        byte[] body;
        try
        {
            response = await client.PostAsync(target, content, timeoutSource.Token);
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(timeoutSource.Token);
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new WebhookCallException($"Post \"{target}\": context deadline exceeded");
        }
        catch (HttpRequestException e)
        {
            throw new WebhookCallException($"Post \"{target}\": {Describe(e, target)}");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                // client-go surfaces a Status body as its message, anything else as a generic server error.
                var status = TryParse(body);
                if (status?.GetString("kind") == "Status" && status.GetString("message") is { Length: > 0 } message)
                {
                    throw new WebhookCallException(message);
                }

                throw new WebhookCallException($"an error on the server ({KubeJson.GoQuote(Encoding.UTF8.GetString(body))}) has prevented the request from succeeding");
            }

            return TryParse(body) ?? throw new WebhookCallException("received invalid webhook response: " + DecodeError(body), invalidResponse: true);
        }
    }

    private static JsonObject? TryParse(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string DecodeError(byte[] body)
    {
        try
        {
            _ = JsonNode.Parse(body);
            return "json: cannot unmarshal into Go value of type struct";
        }
        catch (JsonException e)
        {
            return e.Message;
        }
    }

    private static string Describe(HttpRequestException e, Uri target)
    {
        if (e.HttpRequestError == HttpRequestError.ConnectionError && e.InnerException is System.Net.Sockets.SocketException socket)
        {
            // Go's net package wording, which webhook failure messages carry.
            var reason = socket.SocketErrorCode switch
            {
                System.Net.Sockets.SocketError.ConnectionRefused => "connect: connection refused",
                System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData => "no such host",
                _ => socket.Message,
            };
            return socket.SocketErrorCode is System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData
                ? $"dial tcp: lookup {target.Host}: {reason}"
                : $"dial tcp {target.Host}:{target.Port}: {reason}";
        }

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
