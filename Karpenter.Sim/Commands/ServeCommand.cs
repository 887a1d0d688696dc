using System.CommandLine;
using Karpenter.Sim.KubeApi;

namespace Karpenter.Sim.Commands;

/// <summary>What a running <c>serve</c> offers the components started beside the API server.</summary>
internal sealed record ServeContext(KubeApiServer KubeApi, TextWriter Out);

/// <summary>
/// Something <c>serve</c> starts next to the Kubernetes API emulator (e.g. the AWS emulator behind
/// <c>--aws-port</c>): it declares its options and starts when they are given.
/// </summary>
internal interface IServeComponent
{
    void AddOptions(Command command);

    /// <summary>Starts the component if its options ask for it; returns what to dispose on shutdown, or null.</summary>
    Task<IAsyncDisposable?> StartAsync(ParseResult parseResult, ServeContext context, CancellationToken ct);
}

/// <summary><c>serve</c>: the Kubernetes API emulator on a fixed port, with a kubeconfig for the user's kubectl.</summary>
internal static class ServeCommand
{
    public static Command Create(params IServeComponent[] components)
    {
        var port = new Option<int>("--port") { Description = "TCP port on 127.0.0.1 (0 picks a free one).", DefaultValueFactory = _ => 6443 };
        var kubeconfig = new Option<FileInfo?>("--kubeconfig") { Description = "Write a kubeconfig for this server to this path (for kubectl)." };
        var tls = new Option<bool>("--tls") { Description = "Serve HTTPS with a generated CA (written into the kubeconfig)." };
        var command = new Command("serve", "Run the in-memory Kubernetes API server until interrupted.") { port, kubeconfig, tls };
        foreach (var component in components)
        {
            component.AddOptions(command);
        }

        command.SetAction(async (parseResult, ct) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            KubeApiServer server;
            try
            {
                server = await KubeApiServer.StartAsync(new KubeApiServerOptions
                {
                    Port = parseResult.GetValue(port),
                    UseTls = parseResult.GetValue(tls),
                }, ct);
            }
            catch (Exception e) when (e is IOException or ArgumentException or System.Net.Sockets.SocketException)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync($"karpenter-sim serve: could not start the API server: {e.Message}");
                return 1;
            }

            var started = new List<IAsyncDisposable>();
            await using (server)
            {
                await output.WriteLineAsync($"Kubernetes API server listening on {server.BaseAddress}");
                if (parseResult.GetValue(kubeconfig) is { } file)
                {
                    server.WriteKubeconfig(file.FullName);
                    await output.WriteLineAsync($"kubeconfig written to {file.FullName} (kubectl --kubeconfig {file.FullName} get nodes)");
                }

                var context = new ServeContext(server, output);
                foreach (var component in components)
                {
                    if (await component.StartAsync(parseResult, context, ct) is { } handle)
                    {
                        started.Add(handle);
                    }
                }

                await output.WriteLineAsync("Press Ctrl+C to stop.");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    // Interrupted: shut down.
                }

                foreach (var handle in Enumerable.Reverse(started))
                {
                    await handle.DisposeAsync();
                }
            }

            return 0;
        });
        return command;
    }
}
