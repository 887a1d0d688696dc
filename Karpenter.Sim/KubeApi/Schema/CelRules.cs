using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cel;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;

namespace Karpenter.Sim.KubeApi.Schema;

/// <summary>
/// <c>x-kubernetes-validations</c> evaluated with the Cel package plus the Kubernetes library functions
/// Karpenter's rules use (<c>find</c>, <c>findAll</c>, <c>lowerAscii</c>, <c>upperAscii</c>, the strings
/// extension). Rules that mention <c>oldSelf</c> are transition rules: skipped on create and when the old
/// value is absent. A rule that fails to compile or to evaluate rejects the object (fail closed).
/// </summary>
internal sealed class CelRules
{
    private readonly Lock _gate = new();
    private readonly CelEnvironment _environment = CreateEnvironment();
    private readonly ConcurrentDictionary<string, (CelProgramDelegate? Program, string? Error)> _programs = new(StringComparer.Ordinal);

    /// <summary>A CEL environment with the Kubernetes library functions the emulator supports (not thread-safe: callers lock).</summary>
    internal static CelEnvironment CreateEnvironment()
    {
        var environment = new CelEnvironment([], "");
        Cel.Internal.CelStringHandlingFunctions.RegisterStringExtensionFunctions(environment);
        environment.RegisterFunction("find", [typeof(string), typeof(string)], args =>
        {
            var match = Regex.Match(Text(args[0]), Text(args[1]), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            return match.Success ? match.Value : "";
        });
        environment.RegisterFunction("findAll", [typeof(string), typeof(string)], args =>
            Regex.Matches(Text(args[0]), Text(args[1]), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)).Select(m => (object?)m.Value).ToList());
        environment.RegisterFunction("lowerAscii", [typeof(string)], args => (Text(args[0])).ToLowerInvariant());
        environment.RegisterFunction("upperAscii", [typeof(string)], args => (Text(args[0])).ToUpperInvariant());
        return environment;
    }

    private static string Text(object? value) => value as string ?? throw new InvalidCastException("expected a string argument");

    /// <summary>Evaluates the rules of one schema node against its value (and the old value for transition rules).</summary>
    public void Evaluate(JsonArray rules, JsonNode? value, JsonNode? old, bool hasOld, string path, string schemaType, List<FieldError> errors)
    {
        foreach (var ruleNode in rules.OfType<JsonObject>())
        {
            var rule = ruleNode.GetString("rule") ?? "";
            var transition = rule.Contains("oldSelf", StringComparison.Ordinal);
            if (transition && !hasOld)
            {
                continue;
            }

            var fieldPath = ruleNode.GetString("fieldPath") is { Length: > 0 } extra ? path + extra : path;
            var (program, compileError) = _programs.GetOrAdd(rule, Compile);
            if (program is null)
            {
                errors.Add(FieldError.Invalid(fieldPath, schemaType, $"compilation failed: {compileError}"));
                continue;
            }

            object? result;
            try
            {
                var variables = new Dictionary<string, object?> { ["self"] = ToCel(value) };
                if (transition)
                {
                    variables["oldSelf"] = ToCel(old);
                }

                lock (_gate)
                {
                    result = program(variables);
                }
            }
            catch (Exception e) when (e is CelException or InvalidCastException or KeyNotFoundException or ArgumentException or NullReferenceException or IndexOutOfRangeException or RegexMatchTimeoutException)
            {
                errors.Add(FieldError.Invalid(fieldPath, schemaType, $"{rule}: evaluation error: {e.Message}"));
                continue;
            }

            if (result is true)
            {
                continue;
            }

            var message = ruleNode.GetString("message") is { Length: > 0 } m ? m : $"failed rule: {rule}";
            errors.Add(ruleNode.GetString("reason") switch
            {
                "FieldValueForbidden" => FieldError.Forbidden(fieldPath, message),
                "FieldValueRequired" => FieldError.Required(fieldPath, message),
                "FieldValueDuplicate" => new FieldError("FieldValueDuplicate", fieldPath, $"Duplicate value: {KubeJson.GoQuote(schemaType)}: {message}"),
                _ => FieldError.Invalid(fieldPath, schemaType, message),
            });
        }
    }

    private (CelProgramDelegate?, string?) Compile(string rule)
    {
        try
        {
            lock (_gate)
            {
                return (_environment.Compile(rule), null);
            }
        }
        catch (Exception e) when (e is CelException or ArgumentException or InvalidOperationException)
        {
            return (null, e.Message);
        }
    }

    /// <summary>JSON to the values the Cel package evaluates: maps, lists, long, double, string, bool, null.</summary>
    internal static object? ToCel(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => ToCel(p.Value)),
        JsonArray a => a.Select(ToCel).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => long.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l)
                ? l
                : double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        },
        _ => null,
    };
}
