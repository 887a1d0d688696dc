using System.ComponentModel.DataAnnotations;

namespace Karpenter.Kube.Hosting;

/// <summary>Ports and logging of the operator process (Karpenter's <c>METRICS_PORT</c>, <c>HEALTH_PROBE_PORT</c>, <c>LOG_LEVEL</c>).</summary>
public sealed class KubeHostingOptions
{
    /// <summary><c>/metrics</c> is served here (0: an ephemeral port, for tests).</summary>
    [Range(0, 65535)]
    public int MetricsPort { get; set; } = 8080;

    /// <summary><c>/healthz</c> and <c>/readyz</c> are served here.</summary>
    [Range(0, 65535)]
    public int HealthProbePort { get; set; } = 8081;

    /// <summary>Listen on loopback only (tests, local runs) instead of every interface.</summary>
    public bool LoopbackOnly { get; set; }

    /// <summary><c>json</c> (one JSON object per line, for log pipelines) or <c>console</c> (human-readable).</summary>
    [RegularExpression("^(json|console)$")]
    public string LogFormat { get; set; } = "json";
}
