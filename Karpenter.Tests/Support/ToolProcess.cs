using System.Diagnostics;

namespace Karpenter.Tests.Support;

/// <summary>Runs a command-line tool the tests use as an independent client (kubectl, aws), bounded by 60 s.</summary>
internal static class ToolProcess
{
    /// <summary>Starts <paramref name="start"/> with its output and error captured, and waits for it to exit.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
