using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>
/// A small admission webhook server for tests: Kestrel over TLS with a certificate from its own
/// <see cref="CertificateAuthority"/> (whose <see cref="CaBundle"/> goes into the configuration). Each path
/// answers with the behaviour registered for it; every received AdmissionReview is recorded.
/// </summary>
internal sealed class TestAdmissionWebhook : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CertificateAuthority _authority;
    private readonly ConcurrentDictionary<string, Func<JsonObject, Task<JsonObject>>> _behaviours = new(StringComparer.Ordinal);

    private TestAdmissionWebhook(WebApplication app, CertificateAuthority authority, string baseUrl)
    {
        _app = app;
        _authority = authority;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public string CaBundle => _authority.CaBundle;

    /// <summary>Every review received, with the query string it came with (<c>path?query</c>).</summary>
    public ConcurrentQueue<(string Target, JsonObject Review)> Received { get; } = new();

    public string Url(string path) => BaseUrl + path;

    public IEnumerable<JsonObject> RequestsTo(string path) =>
        Received.Where(r => r.Target.StartsWith("/" + path + "?", StringComparison.Ordinal)).Select(r => r.Review["request"]!.AsObject());

    /// <summary>How <paramref name="path"/> answers: given the request, the <c>response</c> object (uid is filled in).</summary>
    public void On(string path, Func<JsonObject, JsonObject> respond) => _behaviours[path] = request => Task.FromResult(respond(request));

    public void OnAsync(string path, Func<JsonObject, Task<JsonObject>> respond) => _behaviours[path] = respond;

    public static JsonObject Allow() => new() { ["allowed"] = true };

    public static JsonObject Deny(string? message, int? code = null, string? reason = null)
    {
        var status = new JsonObject();
        if (code is not null)
        {
            status["code"] = code;
        }

        if (reason is not null)
        {
            status["reason"] = reason;
        }

        if (message is not null)
        {
            status["message"] = message;
        }

        return new JsonObject { ["allowed"] = false, ["status"] = status };
    }

    public static JsonObject Patch(string jsonPatch, params string[] warnings) => new()
    {
        ["allowed"] = true,
        ["patchType"] = "JSONPatch",
        ["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(jsonPatch)),
        ["warnings"] = new JsonArray(warnings.Select(w => (JsonNode?)w).ToArray()),
    };

    public static async Task<TestAdmissionWebhook> StartAsync()
    {
        var authority = CertificateAuthority.Create("test-webhook-ca");
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(authority.IssueLoopbackCertificate())));
        var app = builder.Build();
        TestAdmissionWebhook? server = null;
        app.Run(context => server!.HandleAsync(context));
        await app.StartAsync();
        var address = app.Urls.First().Replace("127.0.0.1", "localhost", StringComparison.Ordinal).TrimEnd('/') + "/";
        server = new TestAdmissionWebhook(app, authority, address);
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var review = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!.AsObject();
        Received.Enqueue((context.Request.Path + context.Request.QueryString, review));
        var path = context.Request.Path.Value!.TrimStart('/');
        var response = _behaviours.TryGetValue(path, out var behaviour) ? await behaviour(review["request"]!.AsObject()) : Allow();
        response["uid"] = review["request"]!["uid"]!.DeepClone();
        var answer = new JsonObject { ["apiVersion"] = review["apiVersion"]!.DeepClone(), ["kind"] = "AdmissionReview", ["response"] = response };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _authority.Dispose();
    }
}
