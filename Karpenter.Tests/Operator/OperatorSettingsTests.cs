using Karpenter.Core.Scheduling;
using Karpenter.Operator.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Karpenter.Tests.Operator;

/// <summary>Upstream's setting names and defaults, flags as upstream's binary takes them, and every bad value named at once.</summary>
public sealed class OperatorSettingsTests
{
    [Fact]
    public void Defaults_are_upstreams()
    {
        var settings = Read();

        Assert.Equal(TimeSpan.FromSeconds(1), settings.BatchIdleDuration);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.BatchMaxDuration);
        Assert.Equal(PreferencePolicy.Respect, settings.PreferencePolicy);
        Assert.Equal(MinValuesPolicy.Strict, settings.MinValuesPolicy);
        Assert.True(settings.FeatureGates.ReservedCapacity);
        Assert.False(settings.FeatureGates.SpotToSpotConsolidation);
        Assert.Equal(200, settings.KubeClientQps);
        Assert.Equal(300, settings.KubeClientBurst);
        Assert.Equal(8080, settings.MetricsPort);
        Assert.Equal(8081, settings.HealthProbePort);
        Assert.Equal(LogLevel.Information, settings.LogLevel);
        Assert.False(settings.DisableLeaderElection);
        Assert.Equal("karpenter-leader-election", settings.LeaderElectionName);
        Assert.Equal("kube-system", settings.LeaderElectionNamespace);
    }

    [Fact]
    public void Reads_upstream_environment_names()
    {
        var settings = Read(
            ("BATCH_IDLE_DURATION", "500ms"),
            ("BATCH_MAX_DURATION", "1m30s"),
            ("PREFERENCE_POLICY", "Ignore"),
            ("MIN_VALUES_POLICY", "BestEffort"),
            ("FEATURE_GATES", "SpotToSpotConsolidation=true,ReservedCapacity=false"),
            ("LOG_LEVEL", "debug"),
            ("SYSTEM_NAMESPACE", "karpenter"),
            ("DISABLE_LEADER_ELECTION", "true"));

        Assert.Equal(TimeSpan.FromMilliseconds(500), settings.BatchIdleDuration);
        Assert.Equal(TimeSpan.FromSeconds(90), settings.BatchMaxDuration);
        Assert.Equal(PreferencePolicy.Ignore, settings.PreferencePolicy);
        Assert.Equal(MinValuesPolicy.BestEffort, settings.MinValuesPolicy);
        Assert.True(settings.FeatureGates.SpotToSpotConsolidation);
        Assert.False(settings.FeatureGates.ReservedCapacity);
        Assert.Equal(LogLevel.Debug, settings.LogLevel);
        Assert.Equal("karpenter", settings.LeaderElectionNamespace);
        Assert.True(settings.DisableLeaderElection);
    }

    [Fact]
    public void Every_bad_value_is_named_with_its_key_and_value_in_one_message()
    {
        var e = Assert.Throws<OperatorSettingsException>(() => Read(
            ("BATCH_IDLE_DURATION", "soon"),
            ("FEATURE_GATES", "SpotToSpot=true"),
            ("LOG_LEVEL", "loud"),
            ("KUBE_CLIENT_BURST", "2.5"),
            ("METRICS_PORT", "70000"),
            ("DISABLE_WEBHOOK", "yes")));

        Assert.Equal(6, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.StartsWith("BATCH_IDLE_DURATION: 'soon' is not a duration", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("unknown gate 'SpotToSpot'; known gates: NodeRepair, ReservedCapacity, SpotToSpotConsolidation", StringComparison.Ordinal));
        Assert.Contains("LOG_LEVEL: 'loud' must be one of debug, info, warn, error", e.Problems);
        Assert.Contains("KUBE_CLIENT_BURST: '2.5' is not an integer", e.Problems);
        Assert.Contains("METRICS_PORT: '70000' must be between 0 and 65535", e.Problems);
        Assert.Contains("DISABLE_WEBHOOK: 'yes' must be true or false", e.Problems);
    }

    [Fact]
    public void A_batch_window_shorter_than_its_idle_time_is_refused()
    {
        var e = Assert.Throws<OperatorSettingsException>(() => Read(("BATCH_IDLE_DURATION", "5s"), ("BATCH_MAX_DURATION", "2s")));

        Assert.Equal("BATCH_MAX_DURATION (2s) must not be shorter than BATCH_IDLE_DURATION (5s)", Assert.Single(e.Problems));
    }

    [Fact]
    public void Flags_are_the_environment_names_in_kebab_case()
    {
        var flags = SettingFlags.Parse(["--cluster-name=demo", "--batch-idle-duration", "2s", "--disable-leader-election"]);

        Assert.Equal("demo", flags["CLUSTER_NAME"]);
        Assert.Equal("2s", flags["BATCH_IDLE_DURATION"]);
        Assert.Equal("true", flags["DISABLE_LEADER_ELECTION"]);
    }

    [Fact]
    public void Unknown_flags_and_stray_words_are_refused()
    {
        var e = Assert.Throws<OperatorSettingsException>(() => SettingFlags.Parse(["--cluster-nmae=demo", "manfests"]));

        Assert.StartsWith("unknown flag --cluster-nmae; known flags: --batch-max-duration", e.Problems[0], StringComparison.Ordinal);
        Assert.Equal("'manfests' is not a flag; settings are given as --name=value (e.g. --cluster-name=demo)", e.Problems[1]);
    }

    [Fact]
    public void Webhook_certificate_files_must_come_in_pairs_and_exist()
    {
        var e = Assert.Throws<OperatorSettingsException>(() => Read(("WEBHOOK_CERT_FILE", "/no/such/tls.crt")));

        Assert.Contains("WEBHOOK_CERT_FILE and WEBHOOK_KEY_FILE go together: give both (a TLS Secret's tls.crt and tls.key) or neither (a development certificate)", e.Problems);
        Assert.Contains("WEBHOOK_CERT_FILE: '/no/such/tls.crt' does not exist; mount the webhook certificate Secret (e.g. issued by cert-manager) or set DISABLE_WEBHOOK=true", e.Problems);
        Assert.Null(Read(("WEBHOOK_CERT_FILE", "/no/such/tls.crt"), ("DISABLE_WEBHOOK", "true")).WebhookKeyFile);
    }

    [Fact]
    public void The_development_certificate_names_the_service_in_the_system_namespace()
    {
        var settings = Read(("KARPENTER_SERVICE", "karpenter"), ("SYSTEM_NAMESPACE", "autoscaling"));

        Assert.Equal(["karpenter", "karpenter.autoscaling", "karpenter.autoscaling.svc", "karpenter.autoscaling.svc.cluster.local"], settings.WebhookDnsNames());
    }

    private static OperatorSettings Read(params (string Key, string Value)[] values) =>
        OperatorSettings.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build());
}
