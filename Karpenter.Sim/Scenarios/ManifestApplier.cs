using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using k8s;

namespace Karpenter.Sim.Scenarios;

/// <summary>
/// Applies arbitrary Kubernetes objects (any group, version and kind the API server serves) as <c>kubectl create</c>
/// does: the resource is found through discovery and the object POSTed as it was written, so the API server's CRD
/// schema, CEL rules and admission webhooks judge it exactly as in a cluster. A refusal becomes a
/// <see cref="ScenarioException"/> at the manifest's position with the server's own message.
/// </summary>
public sealed class ManifestApplier : IDisposable
{
    private readonly Kubernetes _kube;
    private readonly ConcurrentDictionary<string, JsonArray> _discovery = new(StringComparer.Ordinal);

    public ManifestApplier(KubernetesClientConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        _kube = new Kubernetes(configuration);
    }

    /// <summary>Creates <paramref name="manifest"/>'s object (or replaces nothing: an existing object is an error, as with <c>kubectl create</c>).</summary>
    public async Task ApplyAsync(ScenarioManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var (path, namespaced) = await ResourcePathAsync(manifest, cancellationToken);
        var ns = manifest.Namespace ?? (namespaced ? "default" : null);
        var url = new Uri(_kube.BaseUri, ns is null ? path : path.Replace("{ns}", Uri.EscapeDataString(ns), StringComparison.Ordinal));
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(manifest.Body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendAsync(request, manifest, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new ScenarioException(manifest.Position, $"the API server refused {manifest.Kind} {manifest.Name}: {MessageOf(body, response.StatusCode)}");
        }
    }

    public void Dispose() => _kube.Dispose();

    private async Task<(string Path, bool Namespaced)> ResourcePathAsync(ScenarioManifest manifest, CancellationToken cancellationToken)
    {
        var apiVersion = manifest.ApiVersion;
        var prefix = apiVersion.Contains('/', StringComparison.Ordinal) ? $"apis/{apiVersion}" : $"api/{apiVersion}";
        if (!_discovery.TryGetValue(prefix, out var resources))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_kube.BaseUri, prefix));
            using var response = await SendAsync(request, manifest, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ScenarioException(manifest.Position, $"the API server does not serve {apiVersion} (is the apiVersion right, and its CRD installed?)");
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ScenarioException(manifest.Position, $"discovery of {apiVersion} failed: {MessageOf(text, response.StatusCode)}");
            }

            resources = JsonNode.Parse(text)?["resources"] as JsonArray ?? [];
            _discovery[prefix] = resources;
        }

        var resource = resources.OfType<JsonObject>().FirstOrDefault(r =>
            r["kind"]?.GetValue<string>() == manifest.Kind && r["name"]?.GetValue<string>() is { } name && !name.Contains('/', StringComparison.Ordinal))
            ?? throw new ScenarioException(manifest.Position, $"the API server serves no kind {manifest.Kind} in {apiVersion}");
        var plural = resource["name"]!.GetValue<string>();
        var namespaced = resource["namespaced"]?.GetValue<bool>() == true;
        return (namespaced ? $"{prefix}/namespaces/{{ns}}/{plural}" : $"{prefix}/{plural}", namespaced);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, ScenarioManifest manifest, CancellationToken cancellationToken)
    {
        try
        {
            return await _kube.HttpClient.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ScenarioException(manifest.Position, $"could not reach the API server to apply {manifest.Kind} {manifest.Name}: {e.Message}", e);
        }
    }

    private static string MessageOf(string body, HttpStatusCode status)
    {
        try
        {
            if (JsonNode.Parse(body)?["message"]?.GetValue<string>() is { Length: > 0 } message)
            {
                return message;
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Not a Status: show the text.
        }

        return $"HTTP {(int)status}: {body}";
    }
}
