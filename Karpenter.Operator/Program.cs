// The operator's composition root: `run` (the operator) and `manifests` (config/ from the types).
using System.CommandLine;
using Karpenter.Operator.Commands;

var root = new RootCommand("Karpenter for .NET: a Kubernetes node autoscaler for AWS, wire-compatible with Karpenter v1.")
{
    RunCommand.Create(),
    ManifestsCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
