using System.CommandLine;
using Karpenter.Operator.Hosting;
using Karpenter.Sim.Scenarios;
using Karpenter.Sim.World;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Sim.Commands;

/// <summary>
/// <c>sandbox --kubeconfig PATH</c>: the simulated world with the operator and no scenario, at real speed (or
/// <c>--speed</c>), until interrupted, so that a user can <c>kubectl apply</c> their NodePools, EC2NodeClasses and
/// Deployments and watch NodeClaims, Nodes and pods appear.
/// </summary>
internal static class SandboxCommand
{
    public static Command Create()
    {
        var kubeconfig = new Option<FileInfo>("--kubeconfig") { Description = "Write a kubeconfig for the sandbox's API server here (for kubectl).", Required = true };
        var speed = new Option<double>("--speed") { Description = "Simulated seconds per real second (1: real time).", DefaultValueFactory = _ => 1 };
        var catalog = new Option<FileInfo?>("--catalog") { Description = "An instance-type catalog file for the AWS emulator instead of the embedded one." };
        var worldFile = new Option<FileInfo?>("--world") { Description = "A world description (YAML: cluster name, region, zones, subnets, security groups, instance profiles, catalog); default: my-cluster in us-east-1." };
        var command = new Command("sandbox", "Run a local cluster with the operator for kubectl, until interrupted.") { kubeconfig, speed, catalog, worldFile };
        command.SetAction(async (parseResult, ct) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            using var loggers = new LoggerFactory([new ConsoleLines(stderr)]);
            var options = new SimulatedWorldOptions { Speed = parseResult.GetValue(speed), LoggerFactory = loggers };
            try
            {
                if (parseResult.GetValue(worldFile) is { } file)
                {
                    WorldFile.Apply(file.FullName, options);
                }
            }
            catch (ScenarioException e)
            {
                await stderr.WriteLineAsync($"karpenter-sim sandbox: {e.Message}");
                return 2;
            }

            options.InstanceTypeCatalogPath = parseResult.GetValue(catalog)?.FullName ?? options.InstanceTypeCatalogPath;
            SimulatedWorld world;
            try
            {
                world = await SimulatedWorld.StartAsync(options, ct);
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException)
            {
                await stderr.WriteLineAsync($"karpenter-sim sandbox: the world could not start: {e.Message}");
                return 1;
            }

            await using (world)
            {
                try
                {
                    await OperatorLauncher.StartAsync(world, logging: b => b.SetMinimumLevel(LogLevel.Information), cancellationToken: ct);
                }
                catch (Exception e) when (e is OperatorSettingsException or OptionsValidationException or TimeoutException)
                {
                    await stderr.WriteLineAsync($"karpenter-sim sandbox: the operator could not start: {e.Message}");
                    return 1;
                }

                var path = world.WriteKubeconfig(parseResult.GetValue(kubeconfig)!.FullName);
                await stdout.WriteLineAsync($"Kubernetes API:  {world.ClusterEndpoint}");
                await stdout.WriteLineAsync($"kubeconfig:      {path}   (kubectl --kubeconfig {path} get nodeclaims,nodes,pods -A)");
                await stdout.WriteLineAsync($"AWS endpoint:    {world.AwsEndpoint}   (region {world.AwsRegion}, access key {world.AwsAccessKeyId})");
                await stdout.WriteLineAsync(parseResult.GetValue(worldFile) is { } described
                    ? $"cluster:         {world.ClusterName} in {world.AwsRegion}, as {described.FullName} describes it"
                    : $"cluster:         {world.ClusterName} (subnets and security groups tagged karpenter.sh/discovery: {world.ClusterName}, instance profile KarpenterNodeInstanceProfile-{world.ClusterName})");
                await stdout.WriteLineAsync("Press Ctrl+C to stop.");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    // Interrupted: the world stops the operator, then itself.
                }
            }

            return 0;
        });
        return command;
    }

    /// <summary>The world's warnings on standard error, one line each.</summary>
    private sealed class ConsoleLines(TextWriter error) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(error, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(TextWriter error, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    error.WriteLine($"{logLevel} {category}: {formatter(state, exception)}");
                }
            }
        }
    }
}
