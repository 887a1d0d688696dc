// The operator's executable: `run` (the default: the operator) and `manifests` (config/ from the types).
using System.CommandLine;
using Karpenter.Operator.Commands;

var root = new RootCommand("Karpenter for .NET: a Kubernetes node autoscaler for AWS, wire-compatible with Karpenter v1. " +
    "Without a verb it runs the operator (as `run`).")
{
    RunCommand.Create(),
    ManifestsCommand.Create(),
};
root.TreatUnmatchedTokensAsErrors = false;
root.SetAction((parseResult, ct) => RunCommand.RunAsync(parseResult.UnmatchedTokens, parseResult.InvocationConfiguration.Error, ct));
return await root.Parse(args).InvokeAsync();
