// The simulator: Kubernetes API and AWS emulators with the whole operator on an accelerated clock.
using System.CommandLine;
using Karpenter.Sim.Commands;

var root = new RootCommand("Karpenter for .NET simulator: Kubernetes API and AWS emulators, and the operator on an accelerated clock.")
{
    ServeCommand.Create(new AwsServeComponent()),
    SimulateCommand.Create(),
    SandboxCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
