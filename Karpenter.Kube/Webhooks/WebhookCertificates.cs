using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Kube.Webhooks;

/// <summary>
/// The webhook server's certificate, for Kestrel's <c>ServerCertificateSelector</c>: loaded from PEM files and
/// reloaded when they change (checked every <see cref="WebhookOptions.ReloadInterval"/>; a broken new pair keeps the
/// old one serving), or a self-signed development CA and server certificate generated at start.
/// </summary>
public sealed partial class WebhookCertificates : IDisposable
{
    private readonly WebhookOptions _options;
    private readonly ILogger<WebhookCertificates> _logger;
    private readonly ITimer? _timer;
    private readonly Lock _lock = new();
    private X509Certificate2 _current;
    private (DateTime, long, DateTime, long) _fileStamp;

    public WebhookCertificates(IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookCertificates> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _logger = logger;
        if (_options.CertificateFile is { } certFile && _options.KeyFile is { } keyFile)
        {
            _fileStamp = Stamp(certFile, keyFile);
            _current = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            CaBundle = _options.CaFile is { } ca ? File.ReadAllBytes(ca) : null;
            _timer = time.CreateTimer(_ => Reload(), null, _options.ReloadInterval, _options.ReloadInterval);
            IsDevelopment = false;
        }
        else if (_options.CertificateFile is not null || _options.KeyFile is not null)
        {
            throw new InvalidOperationException("Webhook certificates need both CertificateFile and KeyFile (PEM), or neither for a development certificate.");
        }
        else
        {
            var (ca, server) = CreateDevelopment(_options.DnsNames, time.GetUtcNow());
            _current = server;
            CaBundle = Encoding.ASCII.GetBytes(ca.ExportCertificatePem());
            ca.Dispose();
            IsDevelopment = true;
            DevelopmentCertificate(string.Join(", ", _options.DnsNames));
        }
    }

    /// <summary>The certificate to serve now.</summary>
    public X509Certificate2 Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>PEM of the CA that signed <see cref="Current"/>, for a webhook configuration's <c>caBundle</c> (null when unknown).</summary>
    public byte[]? CaBundle { get; }

    public bool IsDevelopment { get; }

    /// <summary>Checks the files now and swaps the certificate if they changed and load cleanly.</summary>
    public void Reload()
    {
        if (_options.CertificateFile is not { } certFile || _options.KeyFile is not { } keyFile)
        {
            return;
        }

        try
        {
            var stamp = Stamp(certFile, keyFile);
            if (stamp == _fileStamp)
            {
                return;
            }

            var fresh = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            lock (_lock)
            {
                _current = fresh;
                _fileStamp = stamp;
            }

            Reloaded(fresh.Subject, fresh.NotAfter);
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException or ArgumentException)
        {
            ReloadFailed(e, certFile);
        }
    }

    /// <summary>A development CA and a server certificate it signed for <paramref name="dnsNames"/> (plus 127.0.0.1 and ::1).</summary>
    public static (X509Certificate2 Ca, X509Certificate2 Server) CreateDevelopment(IEnumerable<string> dnsNames, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(dnsNames);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=karpenter-kube-webhook-dev-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var ca = caRequest.CreateSelfSigned(now.AddHours(-1), now.AddYears(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = dnsNames.ToArray();
        var serverRequest = new CertificateRequest($"CN={(names.Length > 0 ? names[0] : "localhost")}", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            san.AddDnsName(name);
        }

        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var signed = serverRequest.Create(ca, now.AddHours(-1), now.AddDays(364), serial);
        var server = signed.CopyWithPrivateKey(serverKey);
        return (ca, server);
    }

    public void Dispose()
    {
        _timer?.Dispose();
        lock (_lock)
        {
            _current.Dispose();
        }
    }

    private static (DateTime, long, DateTime, long) Stamp(string cert, string key)
    {
        var c = new FileInfo(cert);
        var k = new FileInfo(key);
        return (c.LastWriteTimeUtc, c.Length, k.LastWriteTimeUtc, k.Length);
    }

    [LoggerMessage(5001, LogLevel.Information, "Webhook certificate reloaded: {Subject}, valid until {NotAfter}")]
    private partial void Reloaded(string subject, DateTime notAfter);

    [LoggerMessage(5002, LogLevel.Error, "Webhook certificate files {File} changed but could not be loaded; still serving the previous certificate")]
    private partial void ReloadFailed(Exception exception, string file);

    [LoggerMessage(5003, LogLevel.Warning, "No webhook certificate configured: serving a self-signed development certificate for {Names}")]
    private partial void DevelopmentCertificate(string names);
}
