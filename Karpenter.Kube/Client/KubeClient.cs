using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace Karpenter.Kube.Client;

/// <summary>
/// <see cref="IKubeClient"/> over HTTP, reusing the transport, TLS and credentials of the process's single
/// <see cref="Kubernetes"/> client (the generated operations cannot address built-in and custom types generically,
/// and their custom-object watch is obsolete). Non-2xx responses become typed <see cref="KubeApiException"/>s.
/// </summary>
public sealed class KubeClient : IKubeClient
{
    private static readonly MediaTypeHeaderValue JsonMedia = new("application/json");
    private readonly Kubernetes _kubernetes;
    private readonly KubeClientOptions _options;

    public KubeClient(IKubernetes kubernetes, IOptions<KubeClientOptions> options)
    {
        ArgumentNullException.ThrowIfNull(kubernetes);
        ArgumentNullException.ThrowIfNull(options);
        _kubernetes = kubernetes as Kubernetes
            ?? throw new ArgumentException(
                $"KubeClient sends requests through k8s.Kubernetes' transport; got {kubernetes.GetType().FullName}. Register a k8s.Kubernetes, or substitute IKubeClient itself in tests.",
                nameof(kubernetes));
        _options = options.Value;
    }

    public async Task<T> GetAsync<T>(string name, string? ns = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var path = KubeResource.Of<T>().Path(ns, name);
        return Deserialize<T>(await SendAsync(HttpMethod.Get, path, null, null, null, cancellationToken));
    }

    public async Task<KubeList<T>> ListAsync<T>(ListOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        options ??= new ListOptions();
        var query = new Query()
            .Add("labelSelector", options.LabelSelector)
            .Add("fieldSelector", options.FieldSelector)
            .Add("limit", options.Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Add("continue", options.Continue)
            .Add("resourceVersion", options.ResourceVersion)
            .Add("resourceVersionMatch", options.ResourceVersionMatch);
        var body = await SendAsync(HttpMethod.Get, KubeResource.Of<T>().Path(options.Namespace), query, null, null, cancellationToken);
        var list = KubernetesJson.Deserialize<ListBody<T>>(body);
        var resource = KubeResource.Of<T>();
        foreach (var item in list.Items ?? [])
        {
            // Lists carry apiVersion/kind on the list only; restore them so items serialize back correctly.
            item.ApiVersion ??= resource.ApiVersion;
            item.Kind ??= resource.Kind;
        }

        return new KubeList<T>(list.Items ?? [], list.Metadata?.ResourceVersion, NullIfEmpty(list.Metadata?.ContinueProperty), list.Metadata?.RemainingItemCount);
    }

    public Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(obj);
        var path = KubeResource.Of<T>().Path(Namespace(obj));
        return WriteAsync(HttpMethod.Post, path, Serialize(obj), JsonMedia, obj, cancellationToken);
    }

    public Task<T> UpdateAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(obj);
        var path = KubeResource.Of<T>().Path(Namespace(obj), NameOf(obj));
        return WriteAsync(HttpMethod.Put, path, Serialize(obj), JsonMedia, obj, cancellationToken);
    }

    public Task<T> UpdateStatusAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(obj);
        var path = KubeResource.Of<T>().Path(Namespace(obj), NameOf(obj), "status");
        return WriteAsync(HttpMethod.Put, path, Serialize(obj), JsonMedia, obj, cancellationToken);
    }

    public Task<T> PatchAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(patch);
        var path = KubeResource.Of<T>().Path(ns, name);
        return WriteAsync<T>(HttpMethod.Patch, path, patch.Body, new MediaTypeHeaderValue(patch.ContentType), null, cancellationToken);
    }

    public Task<T> PatchStatusAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(patch);
        var path = KubeResource.Of<T>().Path(ns, name, "status");
        return WriteAsync<T>(HttpMethod.Patch, path, patch.Body, new MediaTypeHeaderValue(patch.ContentType), null, cancellationToken);
    }

    public async Task<T?> DeleteAsync<T>(string name, string? ns = null, V1DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var path = KubeResource.Of<T>().Path(ns, name);
        var body = options is null ? null : KubernetesJson.Serialize(WithTypeMeta(options));
        var response = await SendAsync(HttpMethod.Delete, path, null, body, body is null ? null : JsonMedia, cancellationToken);
        using var doc = JsonDocument.Parse(response);
        if (doc.RootElement.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String && kind.GetString() == "Status")
        {
            return null;
        }

        return Deserialize<T>(response);
    }

    public async Task EvictAsync(string podName, string ns, V1DeleteOptions? deleteOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(podName);
        ArgumentException.ThrowIfNullOrEmpty(ns);
        var eviction = new V1Eviction
        {
            ApiVersion = "policy/v1",
            Kind = "Eviction",
            Metadata = new V1ObjectMeta { Name = podName, NamespaceProperty = ns },
            DeleteOptions = deleteOptions is null ? null : WithTypeMeta(deleteOptions),
        };
        var path = KubeResource.Of<V1Pod>().Path(ns, podName, "eviction");
        await SendAsync(HttpMethod.Post, path, null, KubernetesJson.Serialize(eviction), JsonMedia, cancellationToken);
    }

    public async Task BindAsync(string podName, string ns, string nodeName, string? podUid = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(podName);
        ArgumentException.ThrowIfNullOrEmpty(ns);
        ArgumentException.ThrowIfNullOrEmpty(nodeName);
        var binding = new V1Binding
        {
            ApiVersion = "v1",
            Kind = "Binding",
            Metadata = new V1ObjectMeta { Name = podName, NamespaceProperty = ns, Uid = podUid },
            Target = new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = nodeName },
        };
        var path = KubeResource.Of<V1Pod>().Path(ns, podName, "binding");
        await SendAsync(HttpMethod.Post, path, WriteQuery(), KubernetesJson.Serialize(binding), JsonMedia, cancellationToken);
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(WatchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(options);
        var resource = KubeResource.Of<T>();
        var query = new Query()
            .Add("watch", "true")
            .Add("allowWatchBookmarks", options.AllowBookmarks ? "true" : null)
            .Add("labelSelector", options.LabelSelector)
            .Add("fieldSelector", options.FieldSelector)
            .Add("resourceVersion", options.ResourceVersion)
            .Add("timeoutSeconds", options.Timeout is { } t ? ((long)Math.Ceiling(t.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
        using var request = CreateRequest(HttpMethod.Get, resource.Path(options.Namespace) + query, null, null);
        using var response = await SendRawAsync(request, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            yield return ParseWatchLine<T>(line);
        }
    }

    internal static WatchEvent<T> ParseWatchLine<T>(string line)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        var typeText = root.TryGetProperty("type", out var typeProp) ? typeProp.GetString() : null;
        if (!root.TryGetProperty("object", out var obj) || obj.ValueKind != JsonValueKind.Object)
        {
            throw new KubeApiException(0, string.Empty, $"malformed watch event (no object): {Truncate(line)}");
        }

        var isStatus = obj.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String && kind.GetString() == "Status";
        var type = typeText switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            "ERROR" => WatchEventType.Error,
            _ => throw new KubeApiException(0, string.Empty, $"unknown watch event type '{typeText}': {Truncate(line)}"),
        };
        if (type == WatchEventType.Error || isStatus)
        {
            return new WatchEvent<T>(WatchEventType.Error, null, KubernetesJson.Deserialize<V1Status>(obj.GetRawText()));
        }

        return new WatchEvent<T>(type, KubernetesJson.Deserialize<T>(obj.GetRawText()));
    }

    private async Task<T> WriteAsync<T>(HttpMethod method, string path, string body, MediaTypeHeaderValue contentType, T? sent, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var response = await SendAsync(method, path, WriteQuery(), body, contentType, cancellationToken);
        var result = Deserialize<T>(response);
        if (sent is not null)
        {
            result.ApiVersion ??= sent.ApiVersion;
            result.Kind ??= sent.Kind;
        }

        return result;
    }

    private Query WriteQuery() => new Query().Add("fieldManager", _options.FieldManager);

    private async Task<string> SendAsync(HttpMethod method, string path, Query? query, string? body, MediaTypeHeaderValue? contentType, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        using var request = CreateRequest(method, path + query, body, contentType);
        try
        {
            using var response = await SendRawAsync(request, timeout.Token);
            return await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw new KubeApiException(504, "Timeout", $"{method} {path} did not complete within {_options.RequestTimeout}", innerException: e);
        }
    }

    private HttpRequestMessage CreateRequest(HttpMethod method, string relative, string? body, MediaTypeHeaderValue? contentType)
    {
        var request = new HttpRequestMessage(method, new Uri(_kubernetes.BaseUri, relative)) { Version = HttpVersion.Version20 };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType ?? JsonMedia;
        }

        return request;
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_kubernetes.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken);
        }

        var response = await _kubernetes.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            throw KubeErrors.FromResponse((int)response.StatusCode, text, response.Headers.RetryAfter);
        }
    }

    private static T Deserialize<T>(string json)
        where T : class => KubernetesJson.Deserialize<T>(json)
            ?? throw new KubeApiException(0, string.Empty, $"the server returned an empty body where a {typeof(T).Name} was expected");

    private static string Serialize<T>(T obj)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var resource = KubeResource.Of<T>();
        obj.ApiVersion ??= resource.ApiVersion;
        obj.Kind ??= resource.Kind;
        return KubernetesJson.Serialize(obj);
    }

    private static V1DeleteOptions WithTypeMeta(V1DeleteOptions options)
    {
        options.ApiVersion ??= "v1";
        options.Kind ??= "DeleteOptions";
        return options;
    }

    private static string? Namespace(IKubernetesObject<V1ObjectMeta> obj) =>
        string.IsNullOrEmpty(obj.Metadata?.NamespaceProperty) ? null : obj.Metadata.NamespaceProperty;

    private static string NameOf(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata?.Name is { Length: > 0 } name ? name : throw new ArgumentException("The object has no metadata.name.", nameof(obj));

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "…";

    private sealed class ListBody<T>
    {
        public V1ListMeta? Metadata { get; set; }

        public List<T>? Items { get; set; }
    }

    private sealed class Query
    {
        private readonly StringBuilder _sb = new();

        public Query Add(string key, string? value)
        {
            if (value is not null)
            {
                _sb.Append(_sb.Length == 0 ? '?' : '&').Append(key).Append('=').Append(Uri.EscapeDataString(value));
            }

            return this;
        }

        public override string ToString() => _sb.ToString();
    }
}
