using System.Text.Json.Nodes;
using FluentValidation;
using FluentValidation.Results;
using k8s;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Generation;

namespace Karpenter.Entities.Validation;

/// <summary>
/// The base of Karpenter's validators: the CRD's OpenAPI rules (types, enums, patterns, bounds, required fields)
/// evaluated on the object's JSON, plus the rules each API adds by hand, which are its CEL rules (for API servers that
/// run none) and the checks CEL cannot make. Failures carry the field path as <c>PropertyName</c>, the API server's
/// rendering as <c>ErrorMessage</c> and the cause type (<c>FieldValueInvalid</c>, …) as <c>ErrorCode</c>; warnings
/// have <see cref="Severity.Warning"/>.
/// </summary>
public abstract class ApiValidator<T> : AbstractValidator<T>
    where T : CustomKubernetesEntity
{
    /// <summary>The <see cref="ValidationContext{T}.RootContextData"/> key of the object an update replaces.</summary>
    public const string OldObjectKey = "karpenter.old-object";

    private readonly SchemaValidator _schema;

    protected ApiValidator()
    {
        var version = new CrdGenerator().Generate(typeof(T)).Spec.Versions.Single();
        _schema = new SchemaValidator(version.Schema.OpenAPIV3Schema);
        RuleFor(entity => entity).Custom((entity, context) =>
        {
            var json = JsonNode.Parse(KubernetesJson.Serialize(entity))!.AsObject();

            // Metadata is the API server's to validate, and status is not written through the main resource.
            json.Remove("metadata");
            json.Remove("status");
            foreach (var error in _schema.Validate(json))
            {
                Fail(context, error);
            }
        });
    }

    /// <summary>Validates a create (<paramref name="old"/> null) or an update of <paramref name="old"/>.</summary>
    public ValidationResult Validate(T entity, T? old)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var context = new ValidationContext<T>(entity);
        if (old is not null)
        {
            context.RootContextData[OldObjectKey] = old;
        }

        return Validate(context);
    }

    /// <summary>The object being replaced, on an update.</summary>
    protected static T? Old(ValidationContext<T> context) =>
        context.RootContextData.TryGetValue(OldObjectKey, out var old) ? old as T : null;

    protected static void Fail(ValidationContext<T> context, FieldError error) =>
        context.AddFailure(new ValidationFailure(error.Field, error.ToString()) { ErrorCode = error.Reason });

    protected static void Warn(ValidationContext<T> context, string field, string message) =>
        context.AddFailure(new ValidationFailure(field, $"{field}: {message}") { Severity = Severity.Warning });

    /// <summary>A check beyond CEL failed: the offending value is shown.</summary>
    protected static void Invalid(ValidationContext<T> context, string field, string? value, string message) =>
        Fail(context, FieldError.Invalid(field, value is null ? null : JsonValue.Create(value), message));

    /// <summary>
    /// A CEL rule failed on a node of <paramref name="schemaType"/> (<c>object</c>, <c>array</c>, <c>string</c>): the API
    /// server renders the schema type where other errors show the value, e.g. <c>spec: Invalid value: "object": …</c>.
    /// </summary>
    protected static void Rule(ValidationContext<T> context, string field, string schemaType, string message) =>
        Fail(context, FieldError.Rule(field, schemaType, message));
}
