using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Microsoft.AspNetCore.Http;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    /// <summary>
    /// <c>/openapi/v3</c>: the index and per-group-version documents kubectl reads to learn that the server
    /// supports <c>fieldValidation</c> (server-side validation for <c>kubectl apply/create</c>). Paths carry
    /// <c>x-kubernetes-group-version-kind</c>; custom resources also publish their schema as a component.
    /// </summary>
    private async Task<bool> TryServeOpenApiAsync(HttpContext http, string path)
    {
        if (!path.StartsWith("/openapi/v3", StringComparison.Ordinal))
        {
            return false;
        }

        var rest = path["/openapi/v3".Length..].Trim('/');
        var groupVersions = _registry.All.GroupBy(t => t.Group.Length == 0 ? $"api/{t.Version}" : $"apis/{t.Group}/{t.Version}").ToDictionary(g => g.Key, g => g.ToList());
        var hash = _store.Resource(CrdStorage, _registry.FieldExtractor(CrdStorage)).Items.Values.Sum(o => o.ResourceVersion).ToString("x", CultureInfo.InvariantCulture);
        if (rest.Length == 0)
        {
            var paths = new JsonObject();
            foreach (var key in groupVersions.Keys.Order(StringComparer.Ordinal))
            {
                paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={hash}" };
            }

            await WriteJsonAsync(http, 200, KubeJson.ToBytes(new JsonObject { ["paths"] = paths }));
            return true;
        }

        if (!groupVersions.TryGetValue(rest, out var types))
        {
            await WritePlainNotFoundAsync(http);
            return true;
        }

        await WriteJsonAsync(http, 200, KubeJson.ToBytes(OpenApiDocument(types)));
        return true;
    }

    private static JsonObject OpenApiDocument(List<ResourceType> types)
    {
        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (var type in types)
        {
            var prefix = type.Group.Length == 0 ? $"/api/{type.Version}" : $"/apis/{type.Group}/{type.Version}";
            var collection = type.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{type.Plural}" : $"{prefix}/{type.Plural}";
            var gvk = new JsonObject { ["group"] = type.Group, ["version"] = type.Version, ["kind"] = type.Kind };
            var schemaName = $"{(type.Group.Length == 0 ? "io.k8s.api.core" : string.Join('.', type.Group.Split('.').Reverse()))}.{type.Version}.{type.Kind}";
            JsonObject Operation(string id) => new()
            {
                ["operationId"] = id + type.Kind,
                ["x-kubernetes-group-version-kind"] = gvk.DeepClone(),
                ["parameters"] = new JsonArray(
                    new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } },
                    new JsonObject { ["name"] = "dryRun", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } },
                    new JsonObject { ["name"] = "fieldManager", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } }),
                ["responses"] = new JsonObject
                {
                    ["200"] = new JsonObject
                    {
                        ["description"] = "OK",
                        ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = $"#/components/schemas/{schemaName}" } } },
                    },
                },
            };
            paths[collection] = new JsonObject { ["post"] = Operation("create"), ["get"] = Operation("list") };
            paths[collection + "/{name}"] = new JsonObject { ["get"] = Operation("read"), ["put"] = Operation("replace"), ["patch"] = Operation("patch"), ["delete"] = Operation("delete") };
            var schema = type.Custom?.Schema.Root.DeepClone().AsObject() ?? new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
            schema["x-kubernetes-group-version-kind"] = new JsonArray(gvk.DeepClone());
            schemas[schemaName] = schema;
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = GitVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }
}
