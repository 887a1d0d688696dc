using System.CommandLine;

namespace Karpenter.Sim.Commands;

/// <summary>A verb whose work has not landed yet: it says so and exits with 2 rather than pretending.</summary>
internal static class NotBuiltCommand
{
    public static Command Create(string name, string description)
    {
        var command = new Command(name, description + " (not built yet)");
        command.SetAction(async parseResult =>
        {
            await parseResult.InvocationConfiguration.Error.WriteLineAsync(
                $"karpenter-sim {name}: not built yet (see the open issues); nothing was started.");
            return 2;
        });
        return command;
    }
}
