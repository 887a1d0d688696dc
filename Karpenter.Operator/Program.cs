// The operator's composition root. The `run` and `manifests` verbs arrive with the runtime and API issues.
Console.Error.WriteLine("karpenter: the operator host is not built yet (see the open issues); nothing was started.");
return 2;
