using FluentValidation;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Webhooks;

namespace Karpenter.Entities.Validation;

/// <summary>
/// Serves an <see cref="ApiValidator{T}"/> as a validating admission webhook: creates and updates are refused with the
/// API server's Invalid message (<c>NodePool.karpenter.sh "default" is invalid: [spec.x: …, spec.y: …]</c>, code 422)
/// and admitted with the validator's warnings; deletes are always admitted.
/// </summary>
public sealed class ValidatingAdmission<T>(ApiValidator<T> validator) : IAdmissionValidator<T>
    where T : CustomKubernetesEntity
{
    public Task<AdmissionVerdict> ValidateAsync(AdmissionContext<T> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsDelete || context.Entity is null)
        {
            return Task.FromResult(AdmissionVerdict.Allow());
        }

        var raw = context.Request.NewObject is { ValueKind: System.Text.Json.JsonValueKind.Object } sent
            ? System.Text.Json.Nodes.JsonNode.Parse(sent.GetRawText()) as System.Text.Json.Nodes.JsonObject
            : null;
        var result = validator.Validate(context.Entity, context.IsUpdate ? context.OldEntity : null, raw);
        var warnings = result.Errors.Where(e => e.Severity == Severity.Warning).Select(e => e.ErrorMessage).ToArray();
        var errors = result.Errors.Where(e => e.Severity == Severity.Error).Select(e => e.ErrorMessage).ToList();
        if (errors.Count == 0)
        {
            return Task.FromResult(AdmissionVerdict.Allow(warnings));
        }

        var meta = EntityMetadata.Of(context.Entity.GetType());
        var name = context.Entity.Metadata?.Name ?? string.Empty;
        var detail = errors.Count == 1 ? errors[0] : $"[{string.Join(", ", errors)}]";
        return Task.FromResult(new AdmissionVerdict(false, $"{meta.Kind}.{meta.Group} \"{name}\" is invalid: {detail}", 422, "Invalid", warnings));
    }
}
