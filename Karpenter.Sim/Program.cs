// The simulator: Kubernetes API and AWS emulators with the whole operator on an accelerated clock.
using System.CommandLine;
using Karpenter.Sim.Commands;

var root = new RootCommand("Karpenter for .NET simulator: Kubernetes API and AWS emulators, and the operator on an accelerated clock.")
{
    ServeCommand.Create(new AwsServeComponent()),
    NotBuiltCommand.Create("simulate", "Run the operator against the emulators on a scenario."),
    NotBuiltCommand.Create("sandbox", "Run a local sandbox cluster for kubectl."),
};
return await root.Parse(args).InvokeAsync();
