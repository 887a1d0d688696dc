using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Karpenter.Kube.Webhooks;

/// <summary>A registered webhook: its path and the request handler.</summary>
public sealed record WebhookRegistration(string Kind, string Path, Func<HttpContext, Task> Handler);

/// <summary>Serves AdmissionReview v1 (validating and mutating) and ConversionReview v1 for registered handlers.</summary>
public static partial class WebhookEndpoints
{
    /// <summary>The handler serving <typeparamref name="TValidator"/> for <typeparamref name="T"/>.</summary>
    public static WebhookRegistration Validator<T, TValidator>()
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TValidator : IAdmissionValidator<T> =>
        new("validating", WebhookPaths.Validate<T>(), context => ServeAdmissionAsync<T>(context, async (ctx, ct) =>
        {
            var verdict = await context.RequestServices.GetRequiredService<TValidator>().ValidateAsync(ctx, ct);
            return (verdict, null);
        }));

    /// <summary>The handler serving <typeparamref name="TMutator"/> for <typeparamref name="T"/>.</summary>
    public static WebhookRegistration Mutator<T, TMutator>()
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TMutator : IAdmissionMutator<T> =>
        new("mutating", WebhookPaths.Mutate<T>(), context => ServeAdmissionAsync<T>(context, async (ctx, ct) =>
        {
            var result = await context.RequestServices.GetRequiredService<TMutator>().MutateAsync(ctx, ct);
            return (result.Verdict, result.Modified);
        }));

    /// <summary>The handler serving <typeparamref name="THandler"/>'s conversions for its group and kind.</summary>
    public static WebhookRegistration Conversion<THandler>(string group, string kind)
        where THandler : IConversionHandler =>
        new("conversion", WebhookPaths.Convert(group, kind), context => ServeConversionAsync(context, context.RequestServices.GetRequiredService<THandler>()));

    /// <summary>Maps every registered webhook (HTTPS port only when <paramref name="port"/> is given).</summary>
    public static IEndpointRouteBuilder MapKubeWebhooks(this IEndpointRouteBuilder endpoints, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        foreach (var webhook in endpoints.ServiceProvider.GetServices<WebhookRegistration>())
        {
            var route = endpoints.MapPost(webhook.Path, webhook.Handler);
            if (port is { } p)
            {
                route.RequireHost($"*:{p}");
            }
        }

        return endpoints;
    }

    internal static async Task ServeAdmissionAsync<T>(HttpContext http, Func<AdmissionContext<T>, CancellationToken, Task<(AdmissionVerdict Verdict, T? Modified)>> handle)
        where T : class
    {
        var review = await ReadAsync<AdmissionReview>(http);
        if (review?.Request is not { } request)
        {
            await BadRequestAsync(http, "expected an admission.k8s.io/v1 AdmissionReview with a request");
            return;
        }

        var response = new AdmissionResponse { Uid = request.Uid };
        try
        {
            var obj = Typed<T>(request.NewObject);
            var old = Typed<T>(request.OldObject);
            var (verdict, modified) = await handle(new AdmissionContext<T>(request.Operation, obj, old, request), http.RequestAborted);
            response.Allowed = verdict.Allowed;
            response.Warnings = verdict.Warnings is { Count: > 0 } w ? [.. w] : null;
            if (!verdict.Allowed)
            {
                response.Status = new AdmissionStatus { Code = verdict.Code, Message = verdict.Message, Reason = verdict.Reason };
            }
            else if (modified is not null && obj is not null)
            {
                // Diff typed round-trips of both, so fields the type does not model are never touched by the patch.
                var patch = JsonDiff.CreatePatch(JsonNode.Parse(KubernetesJson.Serialize(obj)), JsonNode.Parse(KubernetesJson.Serialize(modified)));
                if (patch.Count > 0)
                {
                    response.PatchType = "JSONPatch";
                    response.Patch = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(patch.ToJson()));
                }
            }
        }
        catch (JsonException e)
        {
            response.Allowed = false;
            response.Status = new AdmissionStatus { Code = 400, Message = $"could not decode the object: {e.Message}", Reason = "BadRequest" };
        }
        catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
        {
            // controller-runtime answers a handler error with allowed=false and code 500.
            WebhookFailed(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WebhookEndpoints)), e, http.Request.Path);
            response.Allowed = false;
            response.Status = new AdmissionStatus { Code = 500, Message = e.Message, Reason = "InternalError" };
        }

        await WriteAsync(http, new AdmissionReview { Response = response });
    }

    internal static async Task ServeConversionAsync(HttpContext http, IConversionHandler handler)
    {
        var review = await ReadAsync<ConversionReview>(http);
        if (review?.Request is not { } request)
        {
            await BadRequestAsync(http, "expected an apiextensions.k8s.io/v1 ConversionReview with a request");
            return;
        }

        var response = new ConversionResponse { Uid = request.Uid };
        try
        {
            foreach (var element in request.Objects)
            {
                var obj = JsonNode.Parse(element.GetRawText())?.AsObject() ?? throw new InvalidOperationException("null object in ConversionReview");
                var converted = handler.Convert(obj, request.DesiredApiVersion);
                using var doc = JsonDocument.Parse(converted.ToJsonString());
                response.ConvertedObjects.Add(doc.RootElement.Clone());
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
        {
            response.ConvertedObjects.Clear();
            response.Result = new ConversionResult { Status = "Failure", Message = e.Message };
        }

        await WriteAsync(http, new ConversionReview { Response = response });
    }

    private static T? Typed<T>(JsonElement? element)
        where T : class =>
        element is { ValueKind: JsonValueKind.Object } e ? KubernetesJson.Deserialize<T>(e.GetRawText()) : null;

    private static async Task<T?> ReadAsync<T>(HttpContext http)
        where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(http.Request.Body, WebhookJson.Options, http.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Task BadRequestAsync(HttpContext http, string message)
    {
        http.Response.StatusCode = StatusCodes.Status400BadRequest;
        return http.Response.WriteAsync(message, http.RequestAborted);
    }

    private static async Task WriteAsync<T>(HttpContext http, T body)
    {
        http.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(http.Response.Body, body, WebhookJson.Options, http.RequestAborted);
    }

    [LoggerMessage(5101, LogLevel.Error, "Webhook {Path} failed")]
    private static partial void WebhookFailed(ILogger logger, Exception exception, string path);
}
