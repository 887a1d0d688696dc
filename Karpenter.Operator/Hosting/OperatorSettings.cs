using System.Globalization;
using Karpenter.Core;
using Karpenter.Core.Scheduling;
using Karpenter.Entities;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Karpenter.Operator.Hosting;

/// <summary>
/// The operator's cloud-neutral settings, read from configuration keys named as upstream's environment variables
/// (<c>BATCH_IDLE_DURATION</c>, <c>FEATURE_GATES</c>, <c>DISABLE_LEADER_ELECTION</c>, …; the same keys may be given as
/// flags, <c>--batch-idle-duration=2s</c>). The AWS settings (<c>CLUSTER_NAME</c>, <c>INTERRUPTION_QUEUE</c>, …) are read
/// by the AWS provider's own options from the same configuration. <see cref="Read"/> reports every bad value at once.
/// </summary>
public sealed class OperatorSettings
{
    public TimeSpan BatchIdleDuration { get; private init; } = TimeSpan.FromSeconds(1);

    public TimeSpan BatchMaxDuration { get; private init; } = TimeSpan.FromSeconds(10);

    public PreferencePolicy PreferencePolicy { get; private init; } = PreferencePolicy.Respect;

    public MinValuesPolicy MinValuesPolicy { get; private init; } = MinValuesPolicy.Strict;

    public FeatureGates FeatureGates { get; private init; } = new();

    public double KubeClientQps { get; private init; } = 200;

    public int KubeClientBurst { get; private init; } = 300;

    public int MetricsPort { get; private init; } = 8080;

    public int HealthProbePort { get; private init; } = 8081;

    public LogLevel LogLevel { get; private init; } = LogLevel.Information;

    /// <summary><c>LOG_FORMAT</c> (ours): <c>json</c> (default, as upstream's zap production encoder) or <c>console</c>.</summary>
    public string LogFormat { get; private init; } = "json";

    /// <summary><c>SYSTEM_NAMESPACE</c>: the operator's namespace (the chart sets it from the pod), <c>kube-system</c> by default.</summary>
    public string SystemNamespace { get; private init; } = "kube-system";

    public bool DisableLeaderElection { get; private init; }

    public string LeaderElectionName { get; private init; } = "karpenter-leader-election";

    /// <summary><c>LEADER_ELECTION_NAMESPACE</c>, else <c>SYSTEM_NAMESPACE</c> (set from the pod's namespace by the chart), else <c>kube-system</c>.</summary>
    public string LeaderElectionNamespace { get; private init; } = "kube-system";

    /// <summary><c>DISABLE_WEBHOOK</c>: the validation and v1beta1 conversion webhooks are on by default.</summary>
    public bool DisableWebhook { get; private init; }

    public int WebhookPort { get; private init; } = 8443;

    /// <summary><c>WEBHOOK_CERT_FILE</c>/<c>WEBHOOK_KEY_FILE</c>: the serving certificate and key (PEM, e.g. the mounted
    /// <c>karpenter-webhook-cert</c> Secret from cert-manager), reloaded on change; neither: a development CA and
    /// certificate are generated at start (one replica, the simulator).</summary>
    public string? WebhookCertFile { get; private init; }

    public string? WebhookKeyFile { get; private init; }

    /// <summary><c>WEBHOOK_CA_FILE</c>: the CA of the certificate, injected as <c>caBundle</c> into the CRDs and webhook configurations.</summary>
    public string? WebhookCaFile { get; private init; }

    /// <summary><c>KARPENTER_SERVICE</c>: the Service in front of the webhook; the development certificate is valid for its DNS names.</summary>
    public string? KarpenterService { get; private init; }

    /// <summary>Reads and validates the settings; throws <see cref="OperatorSettingsException"/> listing every bad value.</summary>
    public static OperatorSettings Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var reader = new Reader(configuration);
        var systemNamespace = reader.String("SYSTEM_NAMESPACE") ?? "kube-system";
        var settings = new OperatorSettings
        {
            BatchIdleDuration = reader.Duration("BATCH_IDLE_DURATION", TimeSpan.FromSeconds(1)),
            BatchMaxDuration = reader.Duration("BATCH_MAX_DURATION", TimeSpan.FromSeconds(10)),
            PreferencePolicy = reader.Enum("PREFERENCE_POLICY", PreferencePolicy.Respect),
            MinValuesPolicy = reader.Enum("MIN_VALUES_POLICY", MinValuesPolicy.Strict),
            FeatureGates = reader.Parse("FEATURE_GATES", new FeatureGates(), FeatureGates.Parse),
            KubeClientQps = reader.Number("KUBE_CLIENT_QPS", 200, min: 0.001),
            KubeClientBurst = (int)reader.Number("KUBE_CLIENT_BURST", 300, min: 1, integer: true),
            MetricsPort = (int)reader.Number("METRICS_PORT", 8080, min: 0, max: 65535, integer: true),
            HealthProbePort = (int)reader.Number("HEALTH_PROBE_PORT", 8081, min: 0, max: 65535, integer: true),
            LogLevel = reader.Parse("LOG_LEVEL", LogLevel.Information, ParseLogLevel),
            LogFormat = reader.OneOf("LOG_FORMAT", "json", "json", "console"),
            SystemNamespace = systemNamespace,
            DisableLeaderElection = reader.Bool("DISABLE_LEADER_ELECTION", false),
            LeaderElectionName = reader.String("LEADER_ELECTION_NAME") ?? "karpenter-leader-election",
            LeaderElectionNamespace = reader.String("LEADER_ELECTION_NAMESPACE") ?? systemNamespace,
            DisableWebhook = reader.Bool("DISABLE_WEBHOOK", false),
            WebhookPort = (int)reader.Number("WEBHOOK_PORT", 8443, min: 0, max: 65535, integer: true),
            WebhookCertFile = reader.String("WEBHOOK_CERT_FILE"),
            WebhookKeyFile = reader.String("WEBHOOK_KEY_FILE"),
            WebhookCaFile = reader.String("WEBHOOK_CA_FILE"),
            KarpenterService = reader.String("KARPENTER_SERVICE"),
        };

        if (settings.BatchMaxDuration < settings.BatchIdleDuration && reader.Problems.Count == 0)
        {
            reader.Problems.Add($"BATCH_MAX_DURATION ({GoDuration.Format(settings.BatchMaxDuration)}) must not be shorter than BATCH_IDLE_DURATION ({GoDuration.Format(settings.BatchIdleDuration)})");
        }

        if (!settings.DisableWebhook)
        {
            if ((settings.WebhookCertFile is null) != (settings.WebhookKeyFile is null))
            {
                reader.Problems.Add("WEBHOOK_CERT_FILE and WEBHOOK_KEY_FILE go together: give both (a TLS Secret's tls.crt and tls.key) or neither (a development certificate)");
            }

            foreach (var (key, file) in new[] { ("WEBHOOK_CERT_FILE", settings.WebhookCertFile), ("WEBHOOK_KEY_FILE", settings.WebhookKeyFile), ("WEBHOOK_CA_FILE", settings.WebhookCaFile) })
            {
                if (file is not null && !File.Exists(file))
                {
                    reader.Problems.Add($"{key}: '{file}' does not exist; mount the webhook certificate Secret (e.g. issued by cert-manager) or set DISABLE_WEBHOOK=true");
                }
            }
        }

        return reader.Problems.Count == 0 ? settings : throw new OperatorSettingsException(reader.Problems);
    }

    /// <summary>The DNS names the development webhook certificate is valid for.</summary>
    public IList<string> WebhookDnsNames() => KarpenterService is { } service
        ? [service, $"{service}.{SystemNamespace}", $"{service}.{SystemNamespace}.svc", $"{service}.{SystemNamespace}.svc.cluster.local"]
        : ["localhost"];

    private static LogLevel ParseLogLevel(string text) => text.ToLowerInvariant() switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => throw new FormatException("must be one of debug, info, warn, error"),
    };

    /// <summary>Collects problems instead of stopping at the first, so a user fixes a bad deployment in one round.</summary>
    private sealed class Reader(IConfiguration configuration)
    {
        public List<string> Problems { get; } = [];

        public string? String(string key)
        {
            var value = configuration[key];
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        }

        public T Parse<T>(string key, T fallback, Func<string, T> parse)
        {
            if (String(key) is not { } text)
            {
                return fallback;
            }

            try
            {
                return parse(text);
            }
            catch (FormatException e)
            {
                Problems.Add(e.Message.StartsWith(key, StringComparison.Ordinal) ? e.Message : $"{key}: '{text}' {e.Message}");
                return fallback;
            }
        }

        public TimeSpan Duration(string key, TimeSpan fallback) => Parse(key, fallback, text =>
            GoDuration.TryParse(text, out var value, out var error) ? value > TimeSpan.Zero ? value : throw new FormatException("must be positive")
                : throw new FormatException($"is not a duration ({error}); use Go syntax such as 500ms, 1s or 1m30s"));

        public bool Bool(string key, bool fallback) => Parse(key, fallback, text =>
            bool.TryParse(text, out var value) ? value : throw new FormatException("must be true or false"));

        public T Enum<T>(string key, T fallback)
            where T : struct, Enum => Parse(key, fallback, text =>
            System.Enum.GetNames<T>().FirstOrDefault(n => n.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } name
                ? System.Enum.Parse<T>(name)
                : throw new FormatException($"must be one of {string.Join(", ", System.Enum.GetNames<T>())}"));

        public string OneOf(string key, string fallback, params string[] allowed) => Parse(key, fallback, text =>
            allowed.Contains(text, StringComparer.OrdinalIgnoreCase) ? text.ToLowerInvariant() : throw new FormatException($"must be one of {string.Join(", ", allowed)}"));

        public double Number(string key, double fallback, double min = double.MinValue, double max = double.MaxValue, bool integer = false) =>
            Parse(key, fallback, text =>
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || (integer && value != Math.Floor(value)))
                {
                    throw new FormatException(integer ? "is not an integer" : "is not a number");
                }

                return value >= min && value <= max ? value
                    : throw new FormatException(max == double.MaxValue ? $"must be at least {min.ToString(CultureInfo.InvariantCulture)}"
                        : $"must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}");
            });
    }
}

/// <summary>Bad settings, each named with its key and the value given.</summary>
public sealed class OperatorSettingsException(IReadOnlyList<string> problems)
    : Exception("invalid settings:" + string.Concat(problems.Select(p => Environment.NewLine + "  " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
