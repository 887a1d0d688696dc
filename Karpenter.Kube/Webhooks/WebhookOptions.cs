using System.ComponentModel.DataAnnotations;

namespace Karpenter.Kube.Webhooks;

/// <summary>
/// Settings of the webhook server: its HTTPS port and where its certificate comes from. With
/// <see cref="CertificateFile"/> and <see cref="KeyFile"/> (PEM, e.g. a mounted Secret or cert-manager) the files are
/// watched and reloaded when they change; without them a self-signed development certificate is generated for
/// <see cref="DnsNames"/>, and its CA is exposed (<see cref="WebhookCertificates.CaBundle"/>) for <c>caBundle</c>.
/// </summary>
public sealed class WebhookOptions
{
    public bool Enabled { get; set; }

    [Range(0, 65535)]
    public int Port { get; set; } = 8443;

    public string? CertificateFile { get; set; }

    public string? KeyFile { get; set; }

    /// <summary>The CA that signed the files' certificate, for <c>caBundle</c> (optional).</summary>
    public string? CaFile { get; set; }

    /// <summary>Names the development certificate is valid for (e.g. <c>karpenter.kube-system.svc</c>).</summary>
    public IList<string> DnsNames { get; set; } = ["localhost"];

    /// <summary>How often certificate files are checked for changes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(10);
}
