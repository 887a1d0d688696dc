using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Karpenter.Sim.Scenarios;

/// <summary>The Kubernetes objects a scenario's <see cref="Workload"/> stands for: a Deployment and, optionally, its PodDisruptionBudget.</summary>
public static class WorkloadObjects
{
    /// <summary>The label every pod of a workload carries (and its selector matches).</summary>
    public const string AppLabel = "app";

    /// <summary>The label that marks pods and Deployments the simulator created from a scenario.</summary>
    public const string ScenarioLabel = "simulator.karpenter.sh/scenario";

    public static V1Deployment Deployment(Workload workload, string scenario)
    {
        ArgumentNullException.ThrowIfNull(workload);
        var labels = new Dictionary<string, string>(workload.Labels, StringComparer.Ordinal)
        {
            [AppLabel] = workload.Name,
            [ScenarioLabel] = scenario,
        };
        var selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [AppLabel] = workload.Name } };
        var spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container
                {
                    Name = workload.Name,
                    Image = "public.ecr.aws/docker/library/busybox:stable",
                    Resources = new V1ResourceRequirements
                    {
                        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(workload.Cpu), ["memory"] = new(workload.Memory) },
                    },
                },
            ],
            NodeSelector = workload.NodeSelector.Count == 0 ? null : new Dictionary<string, string>(workload.NodeSelector, StringComparer.Ordinal),
            Tolerations = Convert<List<V1Toleration>>(workload.Tolerations, workload, "tolerations"),
            Affinity = Convert<V1Affinity>(workload.Affinity, workload, "affinity"),
            TopologySpreadConstraints = Convert<List<V1TopologySpreadConstraint>>(workload.TopologySpreadConstraints, workload, "topologySpreadConstraints"),
            TerminationGracePeriodSeconds = 30,
        };
        foreach (var constraint in spec.TopologySpreadConstraints ?? [])
        {
            constraint.LabelSelector ??= selector;
        }

        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = workload.Name, NamespaceProperty = workload.Namespace, Labels = new Dictionary<string, string> { [ScenarioLabel] = scenario } },
            Spec = new V1DeploymentSpec
            {
                Replicas = workload.Replicas,
                Selector = selector,
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = spec },
            },
        };
    }

    public static V1PodDisruptionBudget? Budget(Workload workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        if (workload.DisruptionBudget is not { } budget)
        {
            return null;
        }

        return new V1PodDisruptionBudget
        {
            ApiVersion = "policy/v1",
            Kind = "PodDisruptionBudget",
            Metadata = new V1ObjectMeta { Name = workload.Name, NamespaceProperty = workload.Namespace },
            Spec = new V1PodDisruptionBudgetSpec
            {
                MinAvailable = budget.MinAvailable is { } min ? IntOrPercent(min) : null,
                MaxUnavailable = budget.MaxUnavailable is { } max ? IntOrPercent(max) : null,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [AppLabel] = workload.Name } },
            },
        };
    }

    private static IntOrString IntOrPercent(string value) =>
        value.EndsWith('%') ? (IntOrString)value : (IntOrString)int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);

    private static T? Convert<T>(JsonNode? node, Workload workload, string field)
        where T : class
    {
        if (node is null)
        {
            return null;
        }

        try
        {
            return KubernetesJson.Deserialize<T>(node.ToJsonString());
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ScenarioException(workload.Position, $"workload '{workload.Name}': {field} is not what a pod spec takes: {e.Message}", e);
        }
    }
}
