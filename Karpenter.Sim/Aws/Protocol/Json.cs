using System.Text.Json.Nodes;

namespace Karpenter.Sim.Aws.Protocol;

/// <summary>Helpers for the awsJson 1.0/1.1 protocols: reading members and writing answers and <c>__type</c> errors.</summary>
internal static class Json
{
    public static ApiResponse Ok(JsonNode body, string version) =>
        new(200, "application/x-amz-json-" + version, body.ToJsonString());

    public static ApiResponse Error(AwsServiceException error, string version, string typePrefix = "")
    {
        var body = new JsonObject { ["__type"] = typePrefix + error.Code, ["message"] = error.Message };
        var response = new ApiResponse(error.StatusCode, "application/x-amz-json-" + version, body.ToJsonString());
        if (error.QueryErrorCode is { } queryCode)
        {
            response.Headers["x-amzn-query-error"] = queryCode + (error.SenderFault ? ";Sender" : ";Receiver");
        }

        return response;
    }

    public static string? Str(JsonObject? json, string name) =>
        json?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static string RequiredStr(JsonObject? json, string name) =>
        Str(json, name) is { Length: > 0 } s ? s : throw new AwsServiceException("ValidationException", $"1 validation error detected: Value null at '{Camel(name)}' failed to satisfy constraint: Member must not be null");

    public static int? Int(JsonObject? json, string name) => json?[name] switch
    {
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonValue v when v.TryGetValue<long>(out var l) => (int)l,
        JsonValue v when v.TryGetValue<string>(out var s) && int.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var p) => p,
        _ => null,
    };

    public static bool Bool(JsonObject? json, string name) => json?[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    public static List<string> Strings(JsonObject? json, string name) =>
        json?[name] is JsonArray array ? array.Select(n => n?.GetValue<string>()).Where(s => s is not null).Select(s => s!).ToList() : [];

    public static double Epoch(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}
