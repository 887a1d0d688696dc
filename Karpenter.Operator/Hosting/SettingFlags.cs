namespace Karpenter.Operator.Hosting;

/// <summary>
/// Flags as upstream's binary accepts them: every setting is also a flag named after its environment variable in
/// kebab case (<c>BATCH_IDLE_DURATION</c> ↔ <c>--batch-idle-duration</c>), as <c>--name=value</c> or <c>--name value</c>;
/// a boolean flag given alone means true. Unknown flags are refused with the list of known ones.
/// </summary>
public static class SettingFlags
{
    /// <summary>Every setting the operator reads (core and AWS), by environment-variable name.</summary>
    public static IReadOnlyList<string> Known { get; } =
    [
        // core
        "BATCH_MAX_DURATION", "BATCH_IDLE_DURATION", "PREFERENCE_POLICY", "MIN_VALUES_POLICY", "FEATURE_GATES",
        "KUBE_CLIENT_QPS", "KUBE_CLIENT_BURST", "METRICS_PORT", "HEALTH_PROBE_PORT", "LOG_LEVEL", "LOG_FORMAT",
        "DISABLE_LEADER_ELECTION", "LEADER_ELECTION_NAME", "LEADER_ELECTION_NAMESPACE", "SYSTEM_NAMESPACE",
        "DISABLE_WEBHOOK", "WEBHOOK_PORT", "WEBHOOK_CERT_FILE", "WEBHOOK_KEY_FILE", "WEBHOOK_CA_FILE",
        "KARPENTER_SERVICE",

        // aws
        "CLUSTER_NAME", "CLUSTER_ENDPOINT", "CLUSTER_CA_BUNDLE", "CLUSTER_CIDR", "CLUSTER_DNS_IP", "KUBERNETES_VERSION",
        "INTERRUPTION_QUEUE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2",
        "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_PRICING",
        "AWS_MAX_ATTEMPTS", "VM_MEMORY_OVERHEAD_PERCENT", "RESERVED_ENIS", "ISOLATED_VPC", "DISABLE_DRY_RUN",
        "AMI_REFRESH_INTERVAL", "SUBNET_REFRESH_INTERVAL",
    ];

    /// <summary>The flags as configuration keys and values; throws <see cref="OperatorSettingsException"/> on unknown or malformed flags.</summary>
    public static IReadOnlyDictionary<string, string?> Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        var problems = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                problems.Add($"'{arg}' is not a flag; settings are given as --name=value (e.g. --cluster-name=demo)");
                continue;
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? arg[2..] : arg[2..eq];
            var key = name.Replace('-', '_').ToUpperInvariant();
            if (!Known.Contains(key))
            {
                problems.Add($"unknown flag --{name}; known flags: {string.Join(", ", Known.Select(ToFlag))}");
                continue;
            }

            if (eq >= 0)
            {
                values[key] = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                values[key] = args[++i];
            }
            else
            {
                values[key] = "true";
            }
        }

        return problems.Count == 0 ? values : throw new OperatorSettingsException(problems);
    }

    /// <summary><c>BATCH_IDLE_DURATION</c> → <c>--batch-idle-duration</c>.</summary>
    public static string ToFlag(string key) => "--" + key.ToLowerInvariant().Replace('_', '-');
}
