// Benchmarks are programs that print figures; verbs (scheduling, consolidation, kubeapi) arrive with their issues.
Console.Error.WriteLine("karpenter-bench: no benchmark is built yet.");
return 2;
