using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Karpenter.Sim.Aws.Catalog;
using Karpenter.Sim.Aws.Ec2;
using Karpenter.Sim.Aws.Iam;
using Karpenter.Sim.Aws.Pricing;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.Sqs;
using Karpenter.Sim.Aws.Ssm;
using Karpenter.Sim.Aws.World;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Karpenter.Sim.Aws;

/// <summary>
/// The AWS emulator: one HTTP endpoint on loopback that the real AWS SDK clients (EC2, SSM, SQS, and IAM and
/// Pricing through signed raw requests) and the <c>aws</c> command line talk to, set with <c>ServiceURL</c> /
/// <c>--endpoint-url</c>. Requests must carry a SigV4 <c>Authorization</c> header (any key is accepted); the
/// service is chosen by <c>X-Amz-Target</c> (JSON protocols) or by the Query <c>Version</c> and the credential scope.
/// </summary>
public sealed partial class AwsEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, IAwsApi> _apis;
    private readonly ILogger _logger;

    private AwsEmulator(WebApplication app, AwsWorld world, AwsEmulatorOptions options, ILogger logger)
    {
        _app = app;
        World = world;
        Options = options;
        _logger = logger;
        IAwsApi[] apis = [new Ec2Api(world), new SsmApi(world), new SqsApi(world), new IamApi(world), new PricingApi(world)];
        _apis = apis.ToDictionary(a => a.Service, StringComparer.Ordinal);
    }

    /// <summary>The endpoint to give every client (<c>ServiceURL</c>, <c>--endpoint-url</c>), e.g. <c>http://127.0.0.1:4566</c>.</summary>
    public Uri ServiceUrl { get; private set; } = null!;

    public string Region => World.Region;

    public string AccountId => World.AccountId;

    /// <summary>The access key id clients should sign with.</summary>
    public string AccessKeyId => Options.AccessKeyId;

    /// <summary>The secret key clients should sign with.</summary>
    public string SecretAccessKey => Options.SecretAccessKey;

    /// <summary>The emulated account: observe instances, act on them, set capacity and prices.</summary>
    public AwsWorld World { get; }

    /// <summary>Throttling, server errors and failed launches (the same object as <c>World.Faults</c>).</summary>
    public FaultInjector Faults => World.Faults;

    public AwsEmulatorOptions Options { get; }

    public static async Task<AwsEmulator> StartAsync(AwsEmulatorOptions? options = null, CancellationToken ct = default)
    {
        options ??= new AwsEmulatorOptions();
        options.Validate();
        var catalog = options.InstanceTypeCatalogPath is { } path ? InstanceTypeCatalog.FromFile(path) : InstanceTypeCatalog.Embedded();
        var world = new AwsWorld(options, catalog);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(AwsEmulator).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        var app = builder.Build();
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AwsEmulator>();
        var emulator = new AwsEmulator(app, world, options, logger);
        app.Run(emulator.HandleAsync);
        try
        {
            await app.StartAsync(ct);
        }
        catch
        {
            world.Dispose();
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.ServiceUrl = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        LogStarted(logger, emulator.ServiceUrl, world.Region);
        return emulator;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var requestId = Guid.NewGuid().ToString();
        var baseUrl = $"{context.Request.Scheme}://{context.Request.Host}";
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);

        var target = context.Request.Headers["X-Amz-Target"].ToString();
        var scopeService = CredentialScopeService(context.Request);
        IAwsApi api;
        string action;
        QueryParameters query;
        JsonObject? json = null;
        if (target.Length > 0)
        {
            var dot = target.LastIndexOf('.');
            var prefix = dot > 0 ? target[..dot] : target;
            action = dot > 0 ? target[(dot + 1)..] : "";
            api = _apis[prefix switch
            {
                "AmazonSSM" => "ssm",
                "AmazonSQS" => "sqs",
                "AWSPriceListService" => "pricing",
                _ => scopeService is { } s && _apis.ContainsKey(s) ? s : "ssm",
            }];
            query = new QueryParameters([]);
            if (!prefix.StartsWith("Amazon", StringComparison.Ordinal) && prefix != "AWSPriceListService" && (scopeService is null || !_apis.ContainsKey(scopeService)))
            {
                await WriteAsync(context, api.Error(new AwsServiceException("UnknownOperationException", $"The target {target} is not served by this emulator."), requestId));
                return;
            }

            try
            {
                json = body.Length == 0 ? new JsonObject() : JsonNode.Parse(body) as JsonObject;
            }
            catch (JsonException e)
            {
                await WriteAsync(context, api.Error(new AwsServiceException("SerializationException", e.Message), requestId));
                return;
            }
        }
        else
        {
            var pairs = new List<KeyValuePair<string, string>>();
            foreach (var (key, value) in context.Request.Query)
            {
                pairs.Add(new(key, value.ToString()));
            }

            if (body.Length > 0)
            {
                foreach (var (key, value) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(body))
                {
                    pairs.Add(new(key, value.ToString()));
                }
            }

            query = new QueryParameters(pairs);
            action = query["Action"] ?? "";
            var service = query["Version"] switch
            {
                "2016-11-15" => "ec2",
                "2010-05-08" => "iam",
                _ => scopeService is "iam" ? "iam" : "ec2",
            };
            api = _apis[service];
            if (action.Length == 0)
            {
                await WriteAsync(context, api.Error(new AwsServiceException("MissingAction", "The request must contain the parameter Action"), requestId));
                return;
            }
        }

        if (!IsSigned(context.Request))
        {
            var missing = api.Service is "ec2" or "iam"
                ? new AwsServiceException("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
                : new AwsServiceException("MissingAuthenticationTokenException", "Missing Authentication Token", 400) { QueryErrorCode = "MissingAuthenticationToken" };
            await WriteAsync(context, api.Error(missing, requestId));
            return;
        }

        ApiResponse response;
        try
        {
            var fault = World.Locked(() => World.Faults.Check(api.Service, action));
            response = fault is not null
                ? api.Error(fault, requestId)
                : await api.InvokeAsync(new ApiRequest(api.Service, action, query, json, requestId, baseUrl), context.RequestAborted);
        }
        catch (AwsServiceException e)
        {
            response = api.Error(e, requestId);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // The emulator answers any defect as the service's internal error instead of dropping the connection.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogDefect(_logger, e, api.Service, action);
            response = api.Error(FaultInjector.ServerError(api.Service, 500), requestId);
        }

        await WriteAsync(context, response);
    }

    private static async Task WriteAsync(HttpContext context, ApiResponse response)
    {
        context.Response.StatusCode = response.StatusCode;
        context.Response.ContentType = response.ContentType;
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        foreach (var (key, value) in response.Headers)
        {
            context.Response.Headers[key] = value;
        }

        await context.Response.WriteAsync(response.Body, context.RequestAborted);
    }

    /// <summary>Whether the request carries SigV4 authentication, in the header or as a presigned query.</summary>
    private static bool IsSigned(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("AWS4-HMAC-SHA256 ", StringComparison.Ordinal) &&
            authorization.Contains("Credential=", StringComparison.Ordinal) &&
            authorization.Contains("Signature=", StringComparison.Ordinal))
        {
            return true;
        }

        return request.Query.ContainsKey("X-Amz-Credential") && request.Query.ContainsKey("X-Amz-Signature");
    }

    /// <summary>The service named in the SigV4 credential scope (<c>Credential=AK/date/region/service/aws4_request</c>).</summary>
    private static string? CredentialScopeService(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        var start = authorization.IndexOf("Credential=", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var end = authorization.IndexOfAny([',', ' '], start);
        var parts = authorization[(start + "Credential=".Length)..(end < 0 ? authorization.Length : end)].Split('/');
        return parts.Length >= 5 ? parts[3] : null;
    }

    public async ValueTask DisposeAsync()
    {
        World.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "AWS emulator listening on {ServiceUrl} for region {Region}")]
    private static partial void LogStarted(ILogger logger, Uri serviceUrl, string region);

    [LoggerMessage(Level = LogLevel.Error, Message = "AWS emulator defect while handling {Service} {Action}")]
    private static partial void LogDefect(ILogger logger, Exception exception, string service, string action);
}
