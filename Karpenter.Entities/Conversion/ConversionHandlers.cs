using System.Text.Json.Nodes;
using k8s;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Webhooks;
using V1 = Karpenter.Entities.V1;
using V1Beta1 = Karpenter.Entities.V1Beta1;

namespace Karpenter.Entities.Conversion;

/// <summary>The conversion webhook of NodePools (<c>karpenter.sh</c> v1beta1 ⇄ v1).</summary>
public sealed class NodePoolConversionHandler(NodePoolConversion conversion) : IConversionHandler
{
    public string Group => WellKnown.Labels.KarpenterGroup;

    public string Kind => "NodePool";

    public JsonObject Convert(JsonObject obj, string desiredApiVersion) =>
        ConversionJson.Convert<V1Beta1.NodePool, V1.NodePool>(obj, desiredApiVersion, conversion.ToV1, conversion.ToV1Beta1);
}

/// <summary>The conversion webhook of EC2NodeClasses (<c>karpenter.k8s.aws</c> v1beta1 ⇄ v1).</summary>
public sealed class EC2NodeClassConversionHandler(EC2NodeClassConversion conversion) : IConversionHandler
{
    public string Group => WellKnown.Labels.AwsGroup;

    public string Kind => "EC2NodeClass";

    public JsonObject Convert(JsonObject obj, string desiredApiVersion) =>
        ConversionJson.Convert<Aws.V1Beta1.EC2NodeClass, Aws.V1.EC2NodeClass>(obj, desiredApiVersion, conversion.ToV1, conversion.ToV1Beta1);
}

/// <summary>
/// Runs a typed conversion on a ConversionReview object: the result keeps the request's metadata verbatim except for
/// annotations (the only metadata a conversion may change, and where the compatibility annotations live).
/// </summary>
internal static class ConversionJson
{
    public static JsonObject Convert<TSpoke, THub>(JsonObject obj, string desiredApiVersion, Func<TSpoke, THub> up, Func<THub, TSpoke> down)
        where TSpoke : CustomKubernetesEntity
        where THub : CustomKubernetesEntity
    {
        ArgumentNullException.ThrowIfNull(obj);
        var from = obj["apiVersion"] is JsonValue v && v.TryGetValue<string>(out var apiVersion)
            ? apiVersion
            : throw new InvalidOperationException("the object has no apiVersion");
        if (from == desiredApiVersion)
        {
            return obj;
        }

        obj = (JsonObject)PruneNulls(obj.DeepClone(), string.Empty)!;
        var spoke = EntityMetadata.Of<TSpoke>();
        var hub = EntityMetadata.Of<THub>();
        object converted;
        if (from == spoke.ApiVersion && desiredApiVersion == hub.ApiVersion)
        {
            converted = up(KubernetesJson.Deserialize<TSpoke>(obj.ToJsonString()));
        }
        else if (from == hub.ApiVersion && desiredApiVersion == spoke.ApiVersion)
        {
            converted = down(KubernetesJson.Deserialize<THub>(obj.ToJsonString()));
        }
        else
        {
            throw new InvalidOperationException(
                $"cannot convert {hub.Kind} from {from} to {desiredApiVersion}: the served versions are {hub.ApiVersion} and {spoke.ApiVersion}");
        }

        var result = JsonNode.Parse(KubernetesJson.Serialize(converted))!.AsObject();
        var metadata = obj["metadata"]?.DeepClone() as JsonObject ?? [];
        if (result["metadata"]?["annotations"]?.DeepClone() is { } annotations)
        {
            metadata["annotations"] = annotations;
        }
        else
        {
            metadata.Remove("annotations");
        }

        result["metadata"] = metadata;
        if (!obj.ContainsKey("status"))
        {
            result.Remove("status");
        }

        return result;
    }

    /// <summary>
    /// Drops fields whose value is null, as the API server does before it validates or stores an object of a CRD whose
    /// schema does not make them nullable (none of Karpenter's does); a null list item has no such rule and is refused.
    /// </summary>
    private static JsonNode? PruneNulls(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (value is null)
                    {
                        obj.Remove(key);
                    }
                    else
                    {
                        PruneNulls(value, path.Length == 0 ? key : $"{path}.{key}");
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    _ = PruneNulls(array[i], $"{path}[{i}]") ?? throw new InvalidOperationException($"{path}[{i}]: a list item may not be null");
                }

                break;
        }

        return node;
    }
}
