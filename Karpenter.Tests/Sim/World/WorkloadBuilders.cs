using k8s.Models;

namespace Karpenter.Tests.Sim.World;

/// <summary>Small builders for the pods, Deployments and budgets the simulated-cluster tests create.</summary>
public static class WorkloadBuilders
{
    public static V1Pod Pod(string name, string cpu = "100m", string memory = "128Mi", string ns = "default") => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1PodSpec { Containers = [Container(cpu, memory)] },
    };

    public static V1Deployment Deployment(string name, int replicas, string cpu = "100m", string memory = "128Mi", string ns = "default") => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [Container(cpu, memory)] },
            },
        },
    };

    public static V1PodDisruptionBudget Budget(string name, string app, int minAvailable, string ns = "default") => new()
    {
        ApiVersion = "policy/v1",
        Kind = "PodDisruptionBudget",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1PodDisruptionBudgetSpec
        {
            MinAvailable = minAvailable,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = app } },
        },
    };

    public static V1Container Container(string cpu, string memory) => new()
    {
        Name = "app",
        Image = "public.ecr.aws/docker/library/nginx:latest",
        Resources = new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new(memory) },
        },
    };

    public static string? AppOf(V1Pod pod) => pod.Metadata.Labels is { } labels && labels.TryGetValue("app", out var app) ? app : null;

    public static bool IsRunning(V1Pod pod) => pod.Status?.Phase == "Running";

    public static V1PodCondition? Scheduled(V1Pod pod) => pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
}
