using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Schema;
using Karpenter.Sim.KubeApi.Storage;
using Karpenter.Sim.KubeApi.Strategies;
using Karpenter.Sim.KubeApi.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Karpenter.Sim.KubeApi.Http;

/// <summary>Everything one resource request carries through the pipeline.</summary>
internal sealed class RequestScope(HttpContext http, RequestInfo info, ResourceType type, string verb)
{
    public HttpContext Http { get; } = http;

    public RequestInfo Info { get; } = info;

    public ResourceType Type { get; } = type;

    public string Verb { get; } = verb;

    public IQueryCollection Query => Http.Request.Query;

    public CancellationToken Aborted => Http.RequestAborted;

    public List<string> Warnings { get; } = [];

    public bool DryRun => Query["dryRun"].Any(v => v == "All");

    public string? Query1(string name) => Query.TryGetValue(name, out var values) ? values.ToString() : null;
}

/// <summary>
/// The kube-apiserver request pipeline: routing by path, scope checks, fault injection, then the verb
/// handlers (partial files) over the <see cref="ObjectStore"/>. Every failure leaves as a Status object.
/// </summary>
internal sealed partial class ApiHandler : IStrategyContext, IDisposable
{
    private static readonly byte[] NotFoundPlain = "404 page not found\n"u8.ToArray();

    private readonly KubeApiServerOptions _options;
    private readonly ResourceRegistry _registry;
    private readonly ObjectStore _store;
    private readonly KubeApiFaults _faults;
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly WebhookClient _webhooks;
    private readonly AdmissionDispatcher _admission;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<StoredObject, ServedForm> _served = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<System.Collections.Immutable.ImmutableSortedDictionary<string, StoredObject>, KeyValuePair<string, StoredObject>[]> _sortedSnapshots = new();

    public ApiHandler(KubeApiServerOptions options, ResourceRegistry registry, ObjectStore store, KubeApiFaults faults, Random random, ILogger logger)
    {
        _options = options;
        _registry = registry;
        _store = store;
        _faults = faults;
        _random = random;
        _logger = logger;
        _time = options.TimeProvider;
        _webhooks = new WebhookClient(options.WebhookServiceResolver, options.WebhookDeadlineClock ?? options.TimeProvider);
        _admission = new AdmissionDispatcher(store, registry, _webhooks, NewUid, logger);
    }

    public void Dispose() => _webhooks.Dispose();

    public DateTimeOffset Now => _time.GetUtcNow();

    public ResourceRegistry Registry => _registry;

    public WebhookClient Webhooks => _webhooks;

    public ObjectStore Store => _store;

    public JsonObject? Read(string storageId, string? ns, string name)
    {
        var resource = _store.Resource(storageId, _registry.FieldExtractor(storageId));
        return resource.Get(StoredObject.KeyOf(ns, name))?.ToJson();
    }

    public StorageResource StorageOf(ResourceType type) => _store.Resource(type.StorageId, _registry.FieldExtractor(type.StorageId));

    public async Task HandleAsync(HttpContext http)
    {
        try
        {
            var path = http.Request.Path.Value ?? "/";
            if (await TryServeDiscoveryAsync(http, path) || await TryServeOpenApiAsync(http, path))
            {
                return;
            }

            var info = RequestInfo.Parse(path);
            var type = info is null ? null : _registry.Find(info.Group, info.Version, info.Plural);
            if (info is null || type is null || !ScopeMatches(info, type))
            {
                await WritePlainNotFoundAsync(http);
                return;
            }

            if (info.Subresource is not null && !type.Subresources.Contains(info.Subresource))
            {
                if (type.IsCustom)
                {
                    throw ApiError.NotFound(type.Group, type.Plural, info.Name ?? "");
                }

                await WritePlainNotFoundAsync(http);
                return;
            }

            var verb = VerbOf(http.Request.Method, info, http.Request.Query);
            if (verb is null || !VerbAllowed(type, verb, info.Subresource))
            {
                throw ApiError.MethodNotSupported(type.Group, type.Plural, (verb ?? http.Request.Method).ToLowerInvariant());
            }

            var scope = new RequestScope(http, info, type, verb);
            var (delay, failure) = _faults.Evaluate(verb, type.Plural, type.Group, info.Subresource);
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _time, http.RequestAborted);
            }

            if (failure is not null)
            {
                throw failure(type.Group, info.Name ?? "");
            }

            await DispatchAsync(scope);
        }
        catch (ApiError error)
        {
            await WriteErrorAsync(http, error);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.RequestFailed(_logger, http.Request.Method, http.Request.Path.Value ?? "", e);
            if (!http.Response.HasStarted)
            {
                await WriteErrorAsync(http, ApiError.Internal(e.Message));
            }
        }
    }

    private Task DispatchAsync(RequestScope scope) => (scope.Verb, scope.Info.Subresource) switch
    {
        ("get", "scale") => GetScaleAsync(scope),
        ("update", "scale") => UpdateScaleAsync(scope),
        ("patch", "scale") => PatchScaleAsync(scope),
        ("get", _) => GetAsync(scope),
        ("list", _) => ListAsync(scope),
        ("watch", _) => WatchAsync(scope),
        ("create", "binding") => BindAsync(scope),
        ("create", "eviction") => EvictAsync(scope),
        ("create", _) => CreateAsync(scope),
        ("update", _) => UpdateAsync(scope),
        ("patch", _) => PatchAsync(scope),
        ("delete", _) => DeleteAsync(scope),
        ("deletecollection", _) => DeleteCollectionAsync(scope),
        _ => throw ApiError.MethodNotSupported(scope.Type.Group, scope.Type.Plural, scope.Verb),
    };

    private static bool ScopeMatches(RequestInfo info, ResourceType type)
    {
        if (type.Namespaced)
        {
            // Namespaced objects are addressed only inside their namespace; collections also across namespaces.
            return info.Namespace is not null || info.Name is null;
        }

        return info.Namespace is null;
    }

    private static string? VerbOf(string method, RequestInfo info, IQueryCollection query)
    {
        var watch = info.LegacyWatch || query["watch"].Any(v => v is "true" or "1");
        return method switch
        {
            "GET" or "HEAD" when info.Name is null => watch ? "watch" : "list",
            "GET" or "HEAD" => watch ? "watch" : "get",
            "POST" when info.Name is null => "create",
            "POST" when info.Subresource is "binding" or "eviction" => "create",
            "PUT" when info.Name is not null => "update",
            "PATCH" when info.Name is not null => "patch",
            "DELETE" when info.Name is not null => "delete",
            "DELETE" => "deletecollection",
            _ => null,
        };
    }

    private static bool VerbAllowed(ResourceType type, string verb, string? subresource)
    {
        if (subresource is "binding" or "eviction")
        {
            return verb == "create";
        }

        if (subresource is "status" or "scale")
        {
            return verb is "get" or "update" or "patch";
        }

        if (subresource is "finalize")
        {
            return verb == "update";
        }

        return type.Verbs.Contains(verb);
    }

    // ---- response writing -------------------------------------------------------------------------------

    private static async Task WritePlainNotFoundAsync(HttpContext http)
    {
        http.Response.StatusCode = 404;
        http.Response.ContentType = "text/plain; charset=utf-8";
        http.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await http.Response.Body.WriteAsync(NotFoundPlain, http.RequestAborted);
    }

    public static async Task WriteErrorAsync(HttpContext http, ApiError error)
    {
        if (http.Response.HasStarted)
        {
            return;
        }

        if (error.RetryAfterSeconds is { } retry && retry > 0)
        {
            http.Response.Headers["Retry-After"] = retry.ToString(CultureInfo.InvariantCulture);
        }

        await WriteJsonAsync(http, error.Code, KubeJson.ToBytes(error.ToStatus()));
    }

    public static async Task WriteJsonAsync(HttpContext http, int status, ReadOnlyMemory<byte> json)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = json.Length;
        if (!HttpMethods.IsHead(http.Request.Method))
        {
            await http.Response.Body.WriteAsync(json, http.RequestAborted);
        }
    }

    private static void AddWarnings(RequestScope scope)
    {
        if (scope.Warnings.Count == 0)
        {
            return;
        }

        var values = scope.Warnings.Select(w => "299 - " + KubeJson.GoQuote(w)).ToArray();
        scope.Http.Response.Headers["Warning"] = new StringValues(values);
    }

    /// <summary>Writes one object in the request's version.</summary>
    private async Task WriteObjectAsync(RequestScope scope, int status, StoredObject obj)
    {
        AddWarnings(scope);
        if (WantsTable(scope))
        {
            await WriteTableAsync(scope, status, [obj], null, null);
            return;
        }

        if (scope.Type.Converter is null)
        {
            await WriteJsonAsync(scope.Http, status, Served(scope.Type, obj));
            return;
        }

        var view = await ToViewAsync(scope.Type, obj.ToJson(), scope.Aborted);
        await WriteJsonAsync(scope.Http, status, KubeJson.ToBytes(view));
    }

    private sealed record ServedForm(StructuralSchema Schema, byte[] Json);

    /// <summary>
    /// A stored object as its (storage-version) type serves it: custom resources get their schema's defaults on
    /// read, as apiextensions-apiserver's storage decoder applies them, without writing back. Cached per stored
    /// revision and schema, so a CRD whose defaults changed re-defaults and an unchanged one costs nothing.
    /// </summary>
    private byte[] Served(ResourceType type, StoredObject obj)
    {
        if (type.Custom is not { Schema.HasDefaults: true } custom)
        {
            return obj.Json;
        }

        if (_served.TryGetValue(obj, out var form) && ReferenceEquals(form.Schema, custom.Schema))
        {
            return form.Json;
        }

        var json = obj.ToJson();
        custom.Schema.Default(json);
        var bytes = KubeJson.ToBytes(json);
        if (bytes.AsSpan().SequenceEqual(obj.Json))
        {
            bytes = obj.Json;
        }

        _served.AddOrUpdate(obj, new ServedForm(custom.Schema, bytes));
        return bytes;
    }

    /// <summary>Like <see cref="Served"/>, parsed.</summary>
    private JsonObject ServedJson(ResourceType type, StoredObject obj) => KubeJson.ParseObject(Served(type, obj));

    private static async Task WriteObjectAsync(RequestScope scope, int status, JsonObject storageForm)
    {
        AddWarnings(scope);
        var view = await ToViewAsync(scope.Type, storageForm, scope.Aborted);
        await WriteJsonAsync(scope.Http, status, KubeJson.ToBytes(view));
    }

    public static async Task<JsonObject> ToViewAsync(ResourceType type, JsonObject storageForm, CancellationToken ct)
    {
        var view = type.Converter is null ? storageForm : (await type.Converter.FromStorageAsync([storageForm], ct))[0];

        // Defaulting on read, in the served version's schema.
        if (type.Custom is { Schema.HasDefaults: true } custom)
        {
            custom.Schema.Default(view);
        }

        return view;
    }

    public static async Task<JsonObject> ToStorageAsync(ResourceType type, JsonObject view, CancellationToken ct) =>
        type.Converter is null ? view : await type.Converter.ToStorageAsync(view, ct);

    // ---- request bodies -----------------------------------------------------------------------------------

    private async Task<byte[]> ReadBodyAsync(RequestScope scope)
    {
        var limit = _options.MaxRequestBodyBytes;
        if (scope.Http.Request.ContentLength is { } length && length > limit)
        {
            throw ApiError.RequestEntityTooLarge(limit);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await scope.Http.Request.Body.ReadAsync(chunk, scope.Aborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                throw ApiError.RequestEntityTooLarge(limit);
            }
        }

        return buffer.ToArray();
    }

    private static string MediaType(RequestScope scope)
    {
        var contentType = scope.Http.Request.ContentType ?? "application/json";
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
    }

    /// <summary>Parses a JSON or YAML body into a node, with Go-like parse error messages.</summary>
    private static JsonNode? ParseBody(byte[] body, string mediaType, Func<string, ApiError> onError)
    {
        if (mediaType is "application/yaml" or "application/apply-patch+yaml" && !LooksLikeJson(body))
        {
            try
            {
                return YamlToJson.Convert(Encoding.UTF8.GetString(body));
            }
            catch (YamlDotNet.Core.YamlException e)
            {
                throw onError($"yaml: line {e.Start.Line}: {e.Message}");
            }
        }

        try
        {
            return JsonNode.Parse(body, KubeJson.NodeOptions, new JsonDocumentOptions { MaxDepth = 10_000 });
        }
        catch (JsonException e)
        {
            throw onError(GoJsonError(body, e));
        }
    }

    private static bool LooksLikeJson(byte[] body)
    {
        foreach (var b in body)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            return b is (byte)'{' or (byte)'[';
        }

        return false;
    }

    /// <summary>Renders a System.Text.Json failure the way Go's encoding/json words it.</summary>
    internal static string GoJsonError(byte[] body, JsonException e)
    {
        if (body.Length == 0 || body.All(b => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
        {
            return "unexpected end of JSON input";
        }

        var position = e.BytePositionInLine ?? 0;
        var line = e.LineNumber ?? 0;
        var offset = 0;
        for (var l = 0; l < line && offset < body.Length; offset++)
        {
            if (body[offset] == (byte)'\n')
            {
                l++;
            }
        }

        offset += (int)position;
        if (offset >= body.Length)
        {
            return "unexpected end of JSON input";
        }

        var c = (char)body[offset];
        return $"invalid character '{c}' looking for beginning of value";
    }

    private static FieldValidation ParseFieldValidation(RequestScope scope)
    {
        var value = scope.Query1("fieldValidation");
        return value switch
        {
            null or "" or "Warn" => FieldValidation.Warn,
            "Strict" => FieldValidation.Strict,
            "Ignore" => FieldValidation.Ignore,
            _ => throw ApiError.BadRequest($"fieldValidation: Unsupported value: {KubeJson.GoQuote(value)}: supported values: \"Ignore\", \"Strict\", \"Warn\""),
        };
    }

    private string GenerateName(string prefix)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        if (prefix.Length > 58)
        {
            prefix = prefix[..58];
        }

        var sb = new StringBuilder(prefix, prefix.Length + 5);
        lock (_randomGate)
        {
            for (var i = 0; i < 5; i++)
            {
                sb.Append(alphabet[_random.Next(alphabet.Length)]);
            }
        }

        return sb.ToString();
    }

    private string NewUid()
    {
        Span<byte> bytes = stackalloc byte[16];
        lock (_randomGate)
        {
            _random.NextBytes(bytes);
        }

        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }

    private static long ParseRevision(string? value, string what)
    {
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
        {
            throw ApiError.BadRequest($"Invalid value for {what}: {KubeJson.GoQuote(value ?? "")}");
        }

        return revision;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Request {Method} {Path} failed")]
        public static partial void RequestFailed(ILogger logger, string method, string path, Exception exception);

        [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Watch on {Resource} closed after {Events} events")]
        public static partial void WatchClosed(ILogger logger, string resource, long events);
    }
}
