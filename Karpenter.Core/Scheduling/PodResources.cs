using k8s.Models;

namespace Karpenter.Core.Scheduling;

/// <summary>
/// A pod's effective requests exactly as kube-scheduler computes them (<c>resourcehelper.PodRequests</c>):
/// the sum of the regular containers and of the restartable init containers (sidecars), raised to the largest
/// one-at-a-time init container (each counted with the sidecars started before it), plus the pod overhead; pod-level
/// requests, when set, replace the container sum for the resources they name. Every pod also requests one pod slot.
/// </summary>
public static class PodResources
{
    public static Resources Requests(V1Pod pod, ICollection<string>? errors = null)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var spec = pod.Spec;
        if (spec is null)
        {
            return new Resources(0, 0, 1);
        }

        var total = Aggregate(spec, c => ContainerRequests(c, errors), spec.Resources?.Requests, errors);
        if (spec.Overhead is { Count: > 0 } overhead)
        {
            total += Resources.FromList(overhead, errors);
        }

        return total.WithPods(1);
    }

    /// <summary>
    /// A pod's effective limits as <c>resourcehelper.PodLimits</c> computes them: the same aggregation as
    /// <see cref="Requests"/> over the containers' limits, with the pod overhead added to the resources that have a
    /// limit; no pod slot.
    /// </summary>
    public static Resources Limits(V1Pod pod, ICollection<string>? errors = null)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (pod.Spec is not { } spec)
        {
            return default;
        }

        var total = Aggregate(spec, c => Resources.FromList(c.Resources?.Limits, errors), spec.Resources?.Limits, errors);
        if (spec.Overhead is { Count: > 0 } overhead)
        {
            var extra = Resources.FromList(overhead, errors);
            foreach (var name in total.Names.ToList())
            {
                total = total.With(name, total.Get(name) + extra.Get(name));
            }
        }

        return total;
    }

    /// <summary>
    /// The regular containers and the restartable init containers (sidecars) summed, raised to the largest
    /// one-at-a-time init container counted with the sidecars started before it; pod-level amounts, when set, replace
    /// the sum for cpu and memory.
    /// </summary>
    private static Resources Aggregate(V1PodSpec spec, Func<V1Container, Resources> perContainer, IDictionary<string, ResourceQuantity>? podLevel, ICollection<string>? errors)
    {
        var containers = default(Resources);
        foreach (var c in spec.Containers ?? [])
        {
            containers += perContainer(c);
        }

        var sidecars = default(Resources);
        var initMax = default(Resources);
        foreach (var c in spec.InitContainers ?? [])
        {
            var amounts = perContainer(c);
            if (string.Equals(c.RestartPolicy, "Always", StringComparison.Ordinal))
            {
                containers += amounts;
                sidecars += amounts;
                initMax = Resources.Max(initMax, sidecars);
            }
            else
            {
                initMax = Resources.Max(initMax, amounts + sidecars);
            }
        }

        var total = Resources.Max(containers, initMax);

        // Pod-level resources (KEP-2837) override the aggregate for the resources they declare.
        if (podLevel is { Count: > 0 })
        {
            var declared = Resources.FromList(podLevel, errors);
            foreach (var name in podLevel.Keys)
            {
                if (name is ResourceNames.Cpu or ResourceNames.Memory)
                {
                    total = total.With(name, declared.Get(name));
                }
            }
        }

        return total;
    }

    /// <summary>A container's requests; a resource with a limit but no request requests its limit (API-server defaulting).</summary>
    private static Resources ContainerRequests(V1Container container, ICollection<string>? errors)
    {
        var resources = container.Resources;
        if (resources is null)
        {
            return default;
        }

        var requests = Resources.FromList(resources.Requests, errors);
        if (resources.Limits is { Count: > 0 } limits)
        {
            foreach (var (name, quantity) in limits)
            {
                if (resources.Requests?.ContainsKey(name) == true || quantity is null)
                {
                    continue;
                }

                if (Quantity.TryParse(quantity.ToString(), out var q))
                {
                    requests = requests.With(name, Resources.ToUnit(name, q));
                }
                else
                {
                    errors?.Add($"resource {name} has an invalid limit '{quantity}'");
                }
            }
        }

        return requests;
    }
}
