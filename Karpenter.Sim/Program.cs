// The simulator: Kubernetes API and AWS emulators with the whole operator on an accelerated clock.
Console.Error.WriteLine("karpenter-sim: `simulate`, `sandbox` and `serve` are not built yet (see the open issues); nothing was started.");
return 2;
