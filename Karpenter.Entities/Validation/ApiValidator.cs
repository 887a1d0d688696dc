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

    /// <summary>The <see cref="ValidationContext{T}.RootContextData"/> key of the object as sent (a <see cref="JsonObject"/>), for the schema check.</summary>
    public const string RawObjectKey = "karpenter.raw-object";

    private readonly SchemaValidator _schema;

    protected ApiValidator()
    {
        var version = new CrdGenerator().Generate(typeof(T)).Spec.Versions.Single();
        _schema = new SchemaValidator(version.Schema.OpenAPIV3Schema);
    }

    /// <summary>
    /// The schema's verdict first: an object it refuses (a wrong type, a null, a missing required field) is refused with
    /// those errors alone, as the rules written for well-formed objects cannot read it; otherwise the API's own rules.
    /// </summary>
    public override ValidationResult Validate(ValidationContext<T> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var schemaErrors = SchemaErrors(context);
        return schemaErrors.Count > 0 ? new ValidationResult(schemaErrors.Select(ToFailure)) : base.Validate(context);
    }

    /// <inheritdoc cref="Validate(ValidationContext{T})"/>
    public override Task<ValidationResult> ValidateAsync(ValidationContext<T> context, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var schemaErrors = SchemaErrors(context);
        return schemaErrors.Count > 0 ? Task.FromResult(new ValidationResult(schemaErrors.Select(ToFailure))) : base.ValidateAsync(context, cancellation);
    }

    /// <summary>
    /// The schema errors of the object as it was sent when the caller has it (<see cref="RawObjectKey"/>): the typed
    /// object cannot show a field that is absent where its type has a default, or a value it could not hold.
    /// </summary>
    private IReadOnlyList<FieldError> SchemaErrors(ValidationContext<T> context)
    {
        var json = context.RootContextData.TryGetValue(RawObjectKey, out var raw) && raw is JsonObject sent
            ? sent.DeepClone().AsObject()
            : JsonNode.Parse(KubernetesJson.Serialize(context.InstanceToValidate))!.AsObject();

        // Metadata is the API server's to validate, and status is not written through the main resource.
        json.Remove("metadata");
        json.Remove("status");
        return _schema.Validate(json);
    }

    private static ValidationFailure ToFailure(FieldError error) => new(error.Field, error.ToString()) { ErrorCode = error.Reason };

    /// <summary>
    /// Validates a create (<paramref name="old"/> null) or an update of <paramref name="old"/>; <paramref name="raw"/> is
    /// the object as it was sent, when the caller has it (the schema is checked on it).
    /// </summary>
    public ValidationResult Validate(T entity, T? old, JsonObject? raw = null)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var context = new ValidationContext<T>(entity);
        if (old is not null)
        {
            context.RootContextData[OldObjectKey] = old;
        }

        if (raw is not null)
        {
            context.RootContextData[RawObjectKey] = raw;
        }

        return Validate(context);
    }

    /// <summary>The object being replaced, on an update.</summary>
    protected static T? Old(ValidationContext<T> context) =>
        context.RootContextData.TryGetValue(OldObjectKey, out var old) ? old as T : null;

    protected static void Fail(ValidationContext<T> context, FieldError error) =>
        context.AddFailure(ToFailure(error));

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
