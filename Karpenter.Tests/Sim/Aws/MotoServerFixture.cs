using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>
/// A <c>moto_server</c> on a free loopback port for one test class: an AWS emulator we did not write, to check
/// our emulator's wire behaviour against. Absent moto, <see cref="ServiceUrl"/> is null and the tests skip.
/// </summary>
public sealed class MotoServerFixture : IAsyncLifetime
{
    private Process? _process;

    public Uri? ServiceUrl { get; private set; }

    public string? Problem { get; private set; }

    public async Task InitializeAsync()
    {
        if (RequiresToolFactAttribute.FindOnPath("moto_server") is null)
        {
            Problem = "moto_server is not on PATH";
            return;
        }

        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var url = new Uri($"http://127.0.0.1:{port}/");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 600; i++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(url, "/moto-api/"));
                ServiceUrl = url;
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
            catch (TaskCanceledException)
            {
                await Task.Delay(100);
            }
        }

        Problem = "moto_server did not answer within 60 s";
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
        }

        _process?.Dispose();
        return Task.CompletedTask;
    }
}
