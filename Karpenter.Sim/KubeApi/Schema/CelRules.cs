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
internal sealed partial class CelRules
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
            var variables = new Dictionary<string, object?> { ["self"] = ToCel(value) };
            if (transition)
            {
                variables["oldSelf"] = ToCel(old);
            }

            try
            {
                lock (_gate)
                {
                    result = program(variables);
                }
            }
            catch (Exception e) when (IsEvaluationError(e))
            {
                errors.Add(FieldError.Invalid(fieldPath, schemaType, $"{e.Message} evaluating rule: {RuleErrorString(ruleNode)}"));
                continue;
            }

            if (result is true)
            {
                continue;
            }

            var message = MessageOf(ruleNode, variables, out var messageCompileError);
            if (messageCompileError is not null)
            {
                // The real server refuses such a CRD; failing the object is the closed side of that.
                errors.Add(FieldError.Invalid(fieldPath, schemaType, $"messageExpression compile error: {messageCompileError}"));
                continue;
            }

            // The type stands in for the value (kube-apiserver before 1.28 rendered it so; later releases show scalars and
            // omit objects). Other areas' tests pin this rendering, so it is kept; clients should match the message.
            errors.Add(ruleNode.GetString("reason") switch
            {
                "FieldValueForbidden" => FieldError.Forbidden(fieldPath, message),
                "FieldValueRequired" => FieldError.Required(fieldPath, message),
                "FieldValueDuplicate" => new FieldError("FieldValueDuplicate", fieldPath, $"Duplicate value: {KubeJson.GoQuote(schemaType)}: {message}"),
                _ => FieldError.Invalid(fieldPath, schemaType, message),
            });
        }
    }

    private static bool IsEvaluationError(Exception e) =>
        e is CelException or InvalidCastException or KeyNotFoundException or ArgumentException or NullReferenceException or IndexOutOfRangeException or RegexMatchTimeoutException or InvalidOperationException;

    /// <summary>
    /// The failure detail: <c>messageExpression</c>'s value (trimmed) when it evaluates to a non-empty single-line
    /// string, otherwise <c>message</c>, otherwise <c>failed rule: &lt;rule&gt;</c> (apiextensions' evalMessageExpression
    /// and ruleMessageOrDefault: a messageExpression that fails at run time falls back silently).
    /// </summary>
    private string MessageOf(JsonObject ruleNode, Dictionary<string, object?> variables, out string? compileError)
    {
        compileError = null;
        if (ruleNode.GetString("messageExpression") is { Length: > 0 } expression)
        {
            var (program, error) = _programs.GetOrAdd(expression, Compile);
            if (program is null)
            {
                compileError = error;
                return "";
            }

            try
            {
                object? evaluated;
                lock (_gate)
                {
                    evaluated = program(variables);
                }

                if (evaluated is string text && text.Trim() is { Length: > 0 and <= 5 * 1024 } trimmed && !trimmed.Contains('\n', StringComparison.Ordinal))
                {
                    return trimmed;
                }
            }
            catch (Exception e) when (IsEvaluationError(e))
            {
                // Falls back to message, as the real server does.
            }
        }

        return ruleNode.GetString("message") is { Length: > 0 } m && m.Trim().Length > 0 ? m.Trim() : $"failed rule: {RuleErrorString(ruleNode)}";
    }

    /// <summary>apiextensions' ruleErrorString: the rule's message if it has one, else the rule.</summary>
    private static string RuleErrorString(JsonObject ruleNode) =>
        ruleNode.GetString("message") is { Length: > 0 } m && m.Trim().Length > 0 ? m.Trim() : (ruleNode.GetString("rule") ?? "").Trim();

    private (CelProgramDelegate?, string?) Compile(string rule)
    {
        try
        {
            lock (_gate)
            {
                return (_environment.Compile(WithFieldPresence(rule)), null);
            }
        }
        catch (Exception e) when (e is CelException or ArgumentException or InvalidOperationException)
        {
            return (null, e.Message);
        }
    }

    /// <summary>JSON to the values the Cel package evaluates: maps, lists, long, double, string, bool, null.</summary>
    /// <summary>
    /// Kubernetes' <c>has(x.f)</c> is true when the field is present, even as <c>""</c>, <c>[]</c> or <c>{}</c>
    /// ("null valued fields are treated as absent"; apiextensions' CEL over unstructured objects). The Cel package
    /// follows protobuf's zero-value semantics and answers false for those, so a rule such as
    /// <c>self.all(x, has(x.tags) || has(x.id))</c> refused <c>tags: {}</c>, which a real API server admits. Objects
    /// are maps here (see <see cref="ToCel"/>, which leaves null fields out), so <c>has(x.f)</c> becomes the key test
    /// <c>('f' in x)</c>.
    /// </summary>
    internal static string WithFieldPresence(string expression) => HasMacro().Replace(expression, m => $"('{m.Groups[2].Value}' in {m.Groups[1].Value})");

    [GeneratedRegex(@"\bhas\(\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\[\]()]*\])*)\.([A-Za-z_][A-Za-z0-9_]*)\s*\)", RegexOptions.CultureInvariant)]
    private static partial Regex HasMacro();

    /// <summary>A JSON value as the CEL evaluator's values; an object's null-valued fields are left out (absent, as in Kubernetes).</summary>
    internal static object? ToCel(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => ToCel(p.Value)),
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
