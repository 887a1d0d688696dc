using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Karpenter.Kube.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Kube.Webhooks;

public sealed class WebhookCertificatesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kube-webhook-certs").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public void Without_files_a_development_certificate_chains_to_the_exposed_ca_bundle()
    {
        using var certs = new WebhookCertificates(Options.Create(new WebhookOptions { DnsNames = ["karpenter.kube-system.svc"] }), _time, NullLogger<WebhookCertificates>.Instance);

        Assert.True(certs.IsDevelopment);
        Assert.True(certs.Current.HasPrivateKey);
        using var ca = X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(certs.CaBundle!));
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(certs.Current), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.True(certs.Current.MatchesHostname("karpenter.kube-system.svc"));
        Assert.False(certs.Current.MatchesHostname("other.svc"));
    }

    [Fact]
    public void File_certificates_are_reloaded_when_they_change_and_a_broken_pair_keeps_the_old_one()
    {
        WritePair("first.example");
        using var certs = new WebhookCertificates(
            Options.Create(new WebhookOptions { CertificateFile = Path.Combine(_dir, "tls.crt"), KeyFile = Path.Combine(_dir, "tls.key") }),
            _time,
            NullLogger<WebhookCertificates>.Instance);
        Assert.Equal("CN=first.example", certs.Current.Subject);

        WritePair("second.example");
        File.SetLastWriteTimeUtc(Path.Combine(_dir, "tls.crt"), DateTime.UtcNow.AddMinutes(1));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("CN=second.example", certs.Current.Subject);

        File.WriteAllText(Path.Combine(_dir, "tls.key"), "not a key");
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("CN=second.example", certs.Current.Subject);
    }

    [Fact]
    public void Only_one_of_certificate_and_key_is_refused() =>
        Assert.Throws<InvalidOperationException>(() =>
            new WebhookCertificates(Options.Create(new WebhookOptions { CertificateFile = "tls.crt" }), _time, NullLogger<WebhookCertificates>.Instance));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void WritePair(string cn)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_dir, "tls.crt"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "tls.key"), key.ExportPkcs8PrivateKeyPem());
    }
}
