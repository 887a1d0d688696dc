using System.ComponentModel.DataAnnotations;

namespace Karpenter.Kube.Client;

/// <summary>Settings of <see cref="KubeClient"/>.</summary>
public sealed class KubeClientOptions
{
    /// <summary>The <c>fieldManager</c> sent with writes (shows in managedFields).</summary>
    [Required]
    [RegularExpression("^[^\\s]{1,128}$")]
    public string FieldManager { get; set; } = "karpenter";

    /// <summary>Timeout of one non-watch request.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests per second sustained towards the API server (client-go's QPS; Karpenter's <c>KUBE_CLIENT_QPS</c>, 200).</summary>
    [Range(0.001, 1_000_000)]
    public double Qps { get; set; } = 200;

    /// <summary>Requests allowed at once above <see cref="Qps"/> (client-go's Burst; <c>KUBE_CLIENT_BURST</c>, 300).</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 300;
}
