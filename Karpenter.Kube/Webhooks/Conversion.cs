using System.Text.Json.Nodes;
using k8s;

namespace Karpenter.Kube.Webhooks;

/// <summary>
/// Converts objects of one group and kind between its served versions (a CRD conversion webhook, served at
/// <see cref="WebhookPaths.Convert"/>). Works on JSON objects; <see cref="TypedConversionHandler"/> adds typed
/// conversions on top.
/// </summary>
public interface IConversionHandler
{
    string Group { get; }

    string Kind { get; }

    /// <summary>
    /// Returns <paramref name="obj"/> converted to <paramref name="desiredApiVersion"/> (<c>group/version</c>). Must
    /// keep metadata unchanged, as the API server requires; throw to fail the whole review with that message.
    /// </summary>
    JsonObject Convert(JsonObject obj, string desiredApiVersion);
}

/// <summary>
/// A conversion handler built from typed functions between version types: each registered pair converts one way;
/// an object already at the desired version is returned as it is.
/// </summary>
public abstract class TypedConversionHandler : IConversionHandler
{
    private readonly Dictionary<(string From, string To), Func<JsonObject, JsonObject>> _conversions = [];

    protected TypedConversionHandler(string group, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(kind);
        Group = group;
        Kind = kind;
    }

    public string Group { get; }

    public string Kind { get; }

    public JsonObject Convert(JsonObject obj, string desiredApiVersion)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var from = obj["apiVersion"]?.GetValue<string>() ?? throw new InvalidOperationException("object has no apiVersion");
        if (from == desiredApiVersion)
        {
            return obj;
        }

        if (!_conversions.TryGetValue((from, desiredApiVersion), out var convert))
        {
            throw new InvalidOperationException($"no conversion of {Kind} from {from} to {desiredApiVersion}");
        }

        var converted = convert(obj);
        converted["apiVersion"] = desiredApiVersion;
        converted["kind"] = Kind;

        // The API server rejects conversions that change metadata other than labels and annotations: keep it verbatim.
        converted["metadata"] = obj["metadata"]?.DeepClone();
        return converted;
    }

    /// <summary>Registers a one-way conversion between the versions carried by the two types' <c>[KubernetesEntity]</c>.</summary>
    protected void Register<TFrom, TTo>(Func<TFrom, TTo> convert)
        where TFrom : class
        where TTo : class
    {
        ArgumentNullException.ThrowIfNull(convert);
        var from = Client.KubeResource.Of<TFrom>().ApiVersion;
        var to = Client.KubeResource.Of<TTo>().ApiVersion;
        _conversions[(from, to)] = json =>
        {
            var typed = KubernetesJson.Deserialize<TFrom>(json.ToJsonString());
            return JsonNode.Parse(KubernetesJson.Serialize(convert(typed)))!.AsObject();
        };
    }
}
