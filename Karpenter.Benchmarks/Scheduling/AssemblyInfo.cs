using System.Runtime.CompilerServices;

// The scheduler's plan checks (Karpenter.Tests/Core/Scheduling) validate plans for these very workloads.
[assembly: InternalsVisibleTo("Karpenter.Tests")]
