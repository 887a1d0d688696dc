using System.Text.Json.Nodes;

namespace Karpenter.Sim.KubeApi.Resources;

/// <summary>
/// Converts custom resources between a served version and the storage version. Strategy <c>None</c> only
/// rewrites <c>apiVersion</c>; strategy <c>Webhook</c> sends a ConversionReview to the CRD's webhook.
/// </summary>
internal sealed class CustomResourceConverter(
    string group,
    string version,
    string storageVersion,
    Func<string, IReadOnlyList<JsonObject>, CancellationToken, Task<IReadOnlyList<JsonObject>>>? webhook) : IObjectConverter
{
    public async Task<JsonObject> ToStorageAsync(JsonObject obj, CancellationToken ct)
    {
        var converted = await ConvertAsync([obj], $"{group}/{storageVersion}", ct);
        return converted[0];
    }

    public Task<IReadOnlyList<JsonObject>> FromStorageAsync(IReadOnlyList<JsonObject> objects, CancellationToken ct) =>
        ConvertAsync(objects, $"{group}/{version}", ct);

    private Task<IReadOnlyList<JsonObject>> ConvertAsync(IReadOnlyList<JsonObject> objects, string desired, CancellationToken ct)
    {
        if (objects.Count == 0)
        {
            return Task.FromResult(objects);
        }

        if (webhook is null)
        {
            foreach (var obj in objects)
            {
                obj["apiVersion"] = desired;
            }

            return Task.FromResult(objects);
        }

        return webhook(desired, objects, ct);
    }
}
