using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace Karpenter.Aws.Sdk;

/// <summary>
/// A small HTTP client for the AWS APIs whose SDK packages we cannot use (IAM Query, Pricing JSON). Requests are signed by
/// AWSSDK.Core's public SigV4 signer (<see cref="SigV4SigningHandler"/>, payload signed) — no hand-written crypto — and
/// retried like the SDK's Standard mode: throttling, 5xx and transport errors, exponential backoff with full jitter capped
/// at 20 s, at most <c>maxAttempts</c> attempts. Service errors surface as <see cref="AmazonServiceException"/> with the
/// wire error code, so callers classify them exactly as SDK errors.
/// </summary>
public sealed class AwsSignedClient : IDisposable
{
    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    };

    private readonly HttpClient _http;
    private readonly int _maxAttempts;
    private readonly TimeProvider _time;

    public AwsSignedClient(AWSCredentials credentials, string service, string signingRegion, Uri endpoint, int maxAttempts,
        TimeProvider timeProvider, HttpMessageHandler? innerHandler = null)
    {
        Service = service;
        Endpoint = endpoint;
        _maxAttempts = Math.Max(1, maxAttempts);
        _time = timeProvider;
        var signer = new SigV4SigningHandler(credentials, RegionEndpoint.GetBySystemName(signingRegion), service,
            innerHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        _http = new HttpClient(signer) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Service { get; }

    public Uri Endpoint { get; }

    /// <summary>POSTs an AWS Query request (<c>Action</c>, <c>Version</c> and parameters, form-encoded) and returns the XML root.</summary>
    public async Task<XElement> QueryAsync(string action, string version, IEnumerable<KeyValuePair<string, string>> parameters,
        CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>> { new("Action", action), new("Version", version) };
        form.AddRange(parameters);
        var body = EncodeForm(form);
        var text = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, Endpoint)
            {
                Content = new StringContent(body, Encoding.UTF8),
            };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-www-form-urlencoded; charset=utf-8");
            return request;
        }, ParseXmlError, cancellationToken);
        try
        {
            return XDocument.Parse(text).Root ?? throw new FormatException("empty document");
        }
        catch (System.Xml.XmlException e)
        {
            throw new AmazonServiceException($"{Service} {action}: the response is not XML: {e.Message}", e);
        }
    }

    /// <summary>POSTs an awsJson 1.1 request (<c>X-Amz-Target: target</c>) and returns the parsed JSON response.</summary>
    public async Task<JsonDocument> JsonAsync(string target, object payload, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(payload);
        var text = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new StringContent(body, Encoding.UTF8) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-amz-json-1.1");
            request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
            return request;
        }, ParseJsonError, cancellationToken);
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new AmazonServiceException($"{Service} {target}: the response is not JSON: {e.Message}", e);
        }
    }

    private async Task<string> SendAsync(Func<HttpRequestMessage> build, Func<string, HttpStatusCode, AmazonServiceException> parseError,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var request = build();
                using var response = await _http.SendAsync(request, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return text;
                }
                var error = parseError(text, response.StatusCode);
                if (!IsRetryable(error) || attempt >= _maxAttempts)
                {
                    throw error;
                }
            }
            catch (HttpRequestException) when (attempt < _maxAttempts)
            {
                // Transport errors are retried, as the SDK does.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested && attempt < _maxAttempts)
            {
                // The HttpClient timeout.
            }
            catch (HttpRequestException e)
            {
                throw new AmazonServiceException($"{Service} at {Endpoint} is unreachable: {e.Message}", e);
            }
            await Task.Delay(Backoff(attempt), _time, cancellationToken);
        }
    }

    internal static TimeSpan Backoff(int attempt)
    {
        var cap = Math.Min(20_000, 100 * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * cap);
    }

    private static bool IsRetryable(AmazonServiceException e) =>
        (int)e.StatusCode >= 500 || ThrottlingCodes.Contains(e.ErrorCode ?? "");

    private AmazonServiceException ParseXmlError(string text, HttpStatusCode status)
    {
        string? code = null, message = null, requestId = null;
        try
        {
            var root = XDocument.Parse(text).Root;
            var error = root?.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
            code = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value;
            message = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value;
            requestId = root?.Descendants().FirstOrDefault(e => e.Name.LocalName is "RequestId" or "RequestID")?.Value;
        }
        catch (System.Xml.XmlException)
        {
            // Not XML (a proxy's HTML page, an emulator's 500): keep the status and a prefix of the body.
        }
        return NewError(code, message ?? Truncate(text), requestId, status);
    }

    private AmazonServiceException ParseJsonError(string text, HttpStatusCode status)
    {
        string? code = null, message = null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (doc.RootElement.TryGetProperty("__type", out var type))
                {
                    code = type.GetString();
                    code = code?[(code.LastIndexOf('#') + 1)..];
                }
                foreach (var name in new[] { "message", "Message" })
                {
                    if (doc.RootElement.TryGetProperty(name, out var m))
                    {
                        message = m.GetString();
                    }
                }
            }
        }
        catch (JsonException)
        {
            // See ParseXmlError.
        }
        return NewError(code, message ?? Truncate(text), null, status);
    }

    private AmazonServiceException NewError(string? code, string message, string? requestId, HttpStatusCode status) =>
        new($"{Service}: {code ?? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture)}: {message}", null,
            (int)status >= 500 ? ErrorType.Receiver : ErrorType.Sender, code ?? $"Http{(int)status}", requestId ?? "", status);

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";

    internal static string EncodeForm(IEnumerable<KeyValuePair<string, string>> form) =>
        string.Join('&', form.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));

    public void Dispose() => _http.Dispose();
}
