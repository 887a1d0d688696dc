using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>The Expect* vocabulary of the API-server emulator's tests.</summary>
internal static class KubeApiExpectations
{
    /// <summary>Runs a request that must fail and returns the Status the server answered with, checking code and reason.</summary>
    public static async Task<V1Status> ExpectStatusAsync(int code, string? reason, Func<Task> request)
    {
        var error = await Assert.ThrowsAsync<HttpOperationException>(request);
        Assert.Equal((HttpStatusCode)code, error.Response.StatusCode);
        var status = KubernetesJson.Deserialize<V1Status>(error.Response.Content);
        Assert.Equal("Status", status.Kind);
        Assert.Equal("Failure", status.Status);
        Assert.Equal(code, status.Code);
        if (reason is not null)
        {
            Assert.Equal(reason, status.Reason);
        }

        return status;
    }

    public static V1Pod Pod(string name, string? ns = null, IDictionary<string, string>? labels = null, string? nodeName = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
        Spec = new V1PodSpec
        {
            NodeName = nodeName,
            Containers = [new V1Container { Name = "main", Image = "registry.k8s.io/pause:3.10" }],
        },
    };

    public static V1Node Node(string name, IDictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Spec = new V1NodeSpec { ProviderID = "" },
    };

    public static long Rv(IMetadata<V1ObjectMeta> obj) => long.Parse(obj.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);

    public static JsonElement Json(string content) => JsonDocument.Parse(content).RootElement.Clone();
}
