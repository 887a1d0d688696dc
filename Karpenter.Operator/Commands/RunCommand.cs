using System.CommandLine;
using Karpenter.Aws.Startup;
using Karpenter.Operator.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Karpenter.Operator.Commands;

/// <summary><c>run</c> (the default verb): the operator against the cluster in the kubeconfig or the pod's service account.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "Run the operator against the cluster in the kubeconfig (or in-cluster). Settings come from environment " +
            "variables with upstream Karpenter's names (CLUSTER_NAME, INTERRUPTION_QUEUE, BATCH_IDLE_DURATION, …) or the same names as flags " +
            "(--cluster-name=demo).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction((parseResult, ct) => RunAsync(parseResult.UnmatchedTokens, parseResult.InvocationConfiguration.Error, ct));
        return command;
    }

    /// <summary>Builds and runs the operator until stopped; a bad setting ends it at once with exit code 1 and every problem named.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> flags, TextWriter error, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            app = OperatorHost.Build(new OperatorHostOptions { Args = flags });
        }
        catch (OperatorSettingsException e)
        {
            await error.WriteLineAsync($"karpenter: {e.Message}");
            return 1;
        }

        await using (app)
        {
            try
            {
                // IHost's RunAsync: WebApplication's own RunAsync(url) would take the token for a URL.
                await HostingAbstractionsHostExtensions.RunAsync(app, cancellationToken);
                return 0;
            }
            catch (OptionsValidationException e)
            {
                await error.WriteLineAsync($"karpenter: invalid settings:{string.Concat(e.Failures.Select(f => Environment.NewLine + "  " + f))}");
                return 1;
            }
            catch (AwsStartupException e)
            {
                await error.WriteLineAsync($"karpenter: {e.Message}");
                return 1;
            }
        }
    }
}
