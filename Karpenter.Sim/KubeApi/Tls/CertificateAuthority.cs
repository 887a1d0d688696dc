using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Karpenter.Sim.KubeApi.Tls;

/// <summary>
/// A throw-away certificate authority for loopback TLS: the emulator's own serving certificate and the
/// serving certificates of test webhook servers (whose <c>caBundle</c> is <see cref="CaBundle"/>).
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    private CertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>PEM of the CA certificate: a kubeconfig's <c>certificate-authority-data</c> or a webhook's <c>caBundle</c> (base64 of this).</summary>
    public string CertificatePem => Certificate.ExportCertificatePem();

    /// <summary>Base64 of <see cref="CertificatePem"/>, as <c>caBundle</c> fields carry it.</summary>
    public string CaBundle => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(CertificatePem));

    public static CertificateAuthority Create(string commonName = "karpenter-sim-ca", TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        return new CertificateAuthority(certificate);
    }

    /// <summary>Issues a serving certificate (with private key) for the given DNS names and IP addresses.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses, TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = dnsNames.ToList();
        var request = new CertificateRequest($"CN={(names.Count > 0 ? names[0] : "localhost")}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            san.AddDnsName(name);
        }

        foreach (var address in addresses)
        {
            san.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var issued = request.Create(Certificate, now.AddDays(-1), now.AddYears(5), serial);
        using var withKey = issued.CopyWithPrivateKey(key);

        // Round-trip through PKCS#12 so that SslStream can use the key on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A loopback serving certificate: <c>localhost</c>, 127.0.0.1 and ::1.</summary>
    public X509Certificate2 IssueLoopbackCertificate(TimeProvider? time = null) =>
        IssueServerCertificate(["localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback], time);

    /// <summary>Validates a peer certificate against a PEM bundle only (a <c>caBundle</c>), ignoring the machine's trust store.</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        return chain.Build(certificate);
    }

    public void Dispose() => Certificate.Dispose();
}
