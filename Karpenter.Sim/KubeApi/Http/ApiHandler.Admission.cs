using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Resources;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    /// <summary>Mutating admission webhooks, in configuration order; returns the (possibly patched) object.</summary>
    private static Task<JsonObject> MutatingAdmissionAsync(RequestScope scope, JsonObject obj, JsonObject? old, string operation) =>
        Task.FromResult(obj);

    private static Task ValidatingAdmissionAsync(RequestScope scope, JsonObject obj, JsonObject? old, string operation) =>
        ValidatingAdmissionAsync(scope, obj, old, operation, scope.Type, scope.Aborted);

    /// <summary>Validating admission webhooks; a denial throws the webhook's Status.</summary>
    private static Task ValidatingAdmissionAsync(RequestScope? scope, JsonObject obj, JsonObject? old, string operation, ResourceType type, CancellationToken ct) =>
        Task.CompletedTask;
}
