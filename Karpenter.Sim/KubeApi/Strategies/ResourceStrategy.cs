using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Validation;

namespace Karpenter.Sim.KubeApi.Strategies;

/// <summary>What a strategy may look up while it prepares or validates an object.</summary>
internal interface IStrategyContext
{
    DateTimeOffset Now { get; }

    /// <summary>Reads a stored object (storage form) of another resource, e.g. a PriorityClass.</summary>
    JsonObject? Read(string storageId, string? ns, string name);
}

/// <summary>
/// The per-resource behaviour of apiserver's registry strategies (<c>PrepareForCreate</c>,
/// <c>PrepareForUpdate</c>, <c>Validate</c>, <c>ValidateUpdate</c>, status reset, graceful deletion), acting
/// on the JSON form of the object in the request's version.
/// </summary>
internal abstract class ResourceStrategy
{
    /// <summary>How <c>metadata.name</c> is validated.</summary>
    public virtual ObjectMetaValidation.NameRule NameRule => ObjectMetaValidation.NameRule.Dns1123Subdomain;

    /// <summary>Whether a PUT without <c>metadata.resourceVersion</c> is last-write-wins (built-ins) or 422 (CRs).</summary>
    public virtual bool AllowUnconditionalUpdate => true;

    /// <summary>Pods, PVCs…: DELETE answers with the object instead of a Status.</summary>
    public virtual bool ReturnDeletedObject => false;

    /// <summary>Whether <c>metadata.generation</c> is maintained (1 on create, +1 on spec change).</summary>
    public virtual bool TracksGeneration => false;

    /// <summary>Whether the main endpoint ignores <c>status</c> (the type has a status subresource).</summary>
    public virtual bool HasStatusSubresource => false;

    /// <summary>Whether <c>status</c> in a create body is dropped (most built-ins with status do, Nodes do not).</summary>
    public virtual bool ResetStatusOnCreate => HasStatusSubresource;

    /// <summary>
    /// The built-in admission plugins that act on this type (NamespaceLifecycle is generic; here: Priority,
    /// DefaultTolerationSeconds, TaintNodesByCondition…). Runs before mutating webhooks. Throws <see cref="ApiError"/>.
    /// </summary>
    public virtual void Admit(IStrategyContext context, JsonObject obj, JsonObject? old, string operation)
    {
    }

    public virtual void PrepareForCreate(IStrategyContext context, JsonObject obj)
    {
        if (ResetStatusOnCreate)
        {
            obj.Remove("status");
        }
    }

    public virtual void PrepareForUpdate(IStrategyContext context, JsonObject obj, JsonObject old)
    {
        if (HasStatusSubresource)
        {
            CopyField(old, obj, "status");
        }
    }

    /// <summary>The status endpoint: everything but <c>status</c> comes from the stored object.</summary>
    public virtual JsonObject PrepareForStatusUpdate(IStrategyContext context, JsonObject obj, JsonObject old)
    {
        var result = old.DeepClone().AsObject();
        CopyField(obj, result, "status");
        var rv = obj.StringAt("metadata", "resourceVersion");
        var metadata = result.GetOrAddObject("metadata");
        if (rv is not null)
        {
            metadata["resourceVersion"] = rv;
        }
        else
        {
            metadata.Remove("resourceVersion");
        }

        return result;
    }

    /// <summary>Whether the change bumps generation: anything outside metadata (and status when it is a subresource).</summary>
    public virtual bool SpecChanged(JsonObject obj, JsonObject old)
    {
        foreach (var (name, value) in obj)
        {
            if (name is "metadata" or "apiVersion" or "kind" || (name == "status" && HasStatusSubresource))
            {
                continue;
            }

            if (!JsonNode.DeepEquals(value, old[name]))
            {
                return true;
            }
        }

        foreach (var (name, value) in old)
        {
            if (name is "metadata" or "apiVersion" or "kind" || (name == "status" && HasStatusSubresource))
            {
                continue;
            }

            if (value is not null && !obj.ContainsKey(name))
            {
                return true;
            }
        }

        return false;
    }

    public virtual void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
    }

    public virtual void ValidateUpdate(IStrategyContext context, JsonObject obj, JsonObject old, List<FieldError> errors) =>
        Validate(context, obj, errors);

    public virtual void ValidateStatusUpdate(IStrategyContext context, JsonObject obj, JsonObject old, List<FieldError> errors)
    {
    }

    /// <summary>
    /// The grace period a DELETE gets: null for types deleted immediately (everything but Pods), else the
    /// seconds until the object may go (0 = now).
    /// </summary>
    public virtual long? GracePeriodSeconds(JsonObject obj, long? requested) => null;

    protected static void CopyField(JsonObject from, JsonObject to, string name)
    {
        if (from.TryGetPropertyValue(name, out var value) && value is not null)
        {
            to[name] = value.DeepClone();
        }
        else
        {
            to.Remove(name);
        }
    }
}

/// <summary>Types with no special behaviour (Leases, StorageClasses, webhook configurations…).</summary>
internal sealed class GenericStrategy(bool hasStatus = false, bool tracksGeneration = false, bool resetStatusOnCreate = true) : ResourceStrategy
{
    public override bool HasStatusSubresource => hasStatus;

    public override bool TracksGeneration => tracksGeneration;

    public override bool ResetStatusOnCreate => hasStatus && resetStatusOnCreate;
}
