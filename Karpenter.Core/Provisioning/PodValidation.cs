using k8s.Models;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Provisioning;

/// <summary>What the provisioner does with a pending pod before scheduling it.</summary>
public enum PodVerdict
{
    /// <summary>Schedule it.</summary>
    Provision,

    /// <summary>Leave it alone without an event: it opted out of Karpenter's nodes, or it asks for DRA devices.</summary>
    Ignore,

    /// <summary>Refuse it with an event: its constraints use a label Karpenter can never put on a node.</summary>
    Reject,
}

/// <summary>
/// Upstream's pre-scheduling checks of a pending pod (<c>provisioner.go</c> <c>Validate</c>): a pod requiring
/// <c>karpenter.sh/nodepool DoesNotExist</c> opted out of Karpenter; node selectors and node-affinity terms may not use
/// restricted label keys (the <c>kubernetes.io</c>, <c>k8s.io</c>, <c>karpenter.sh</c> and <c>karpenter.k8s.aws</c>
/// domains, except the well-known labels and the <c>node.kubernetes.io</c>, <c>node-restriction.kubernetes.io</c> and
/// <c>kops.k8s.io</c> domains) nor <c>matchFields</c>.
/// </summary>
public static class PodValidation
{
    private static readonly string[] RestrictedDomains = ["kubernetes.io", "k8s.io", Labels.KarpenterGroup, Labels.AwsGroup];
    private static readonly string[] DomainExceptions = ["kops.k8s.io", "node.kubernetes.io", "node-restriction.kubernetes.io"];

    /// <summary>The verdict for <paramref name="pod"/>, and why when it is not <see cref="PodVerdict.Provision"/>.</summary>
    /// <param name="pod">The pending pod.</param>
    /// <param name="wellKnownLabels">Label keys Karpenter's nodes carry (core and cloud-provider ones).</param>
    /// <param name="ignoreDraRequests">Whether pods with resource claims are left alone (<c>IGNORE_DRA_REQUESTS</c>).</param>
    /// <param name="reason">Why, for logs and the event.</param>
    public static PodVerdict Check(V1Pod pod, IReadOnlySet<string> wellKnownLabels, bool ignoreDraRequests, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(wellKnownLabels);
        reason = null;
        var spec = pod.Spec;
        if (spec is null)
        {
            reason = "the pod has no spec";
            return PodVerdict.Reject;
        }

        if (ignoreDraRequests && spec.ResourceClaims is { Count: > 0 })
        {
            reason = "it requests dynamic resources (DRA), which are ignored while IGNORE_DRA_REQUESTS is true";
            return PodVerdict.Ignore;
        }

        var required = spec.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms ?? [];
        var optOut = $"configured to not run on a Karpenter provisioned node via the {Labels.NodePool} DoesNotExist requirement";
        if (required.Count > 0 && required.All(t => t.MatchExpressions?.Any(e => e.Key == Labels.NodePool && e.OperatorProperty == Operators.DoesNotExist) == true))
        {
            reason = optOut;
            return PodVerdict.Ignore;
        }

        var problems = new List<string>();
        foreach (var key in (spec.NodeSelector ?? new Dictionary<string, string>()).Keys)
        {
            CheckKey(key, wellKnownLabels, problems);
        }

        var terms = required.Concat((spec.Affinity?.NodeAffinity?.PreferredDuringSchedulingIgnoredDuringExecution ?? []).Select(p => p.Preference));
        foreach (var term in terms)
        {
            if (term?.MatchFields is { Count: > 0 })
            {
                problems.Add("node selector term with matchFields is not supported");
            }

            foreach (var expression in term?.MatchExpressions ?? [])
            {
                CheckKey(expression.Key ?? string.Empty, wellKnownLabels, problems);
            }
        }

        if (problems.Count == 0)
        {
            return PodVerdict.Provision;
        }

        reason = string.Join("; ", problems.Distinct(StringComparer.Ordinal));
        return PodVerdict.Reject;
    }

    /// <summary>Whether a pod may select on <paramref name="key"/>: well-known, or outside the restricted domains.</summary>
    public static bool IsRestrictedLabel(string key, IReadOnlySet<string> wellKnownLabels)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(wellKnownLabels);
        key = Requirements.NormalizeKey(key);
        if (wellKnownLabels.Contains(key))
        {
            return false;
        }

        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return false;
        }

        var domain = key[..slash];
        if (DomainExceptions.Any(d => IsDomainOrSubdomain(domain, d)))
        {
            return false;
        }

        return RestrictedDomains.Any(d => IsDomainOrSubdomain(domain, d));
    }

    private static bool IsDomainOrSubdomain(string domain, string parent) =>
        domain.Equals(parent, StringComparison.Ordinal) || domain.EndsWith("." + parent, StringComparison.Ordinal);

    private static void CheckKey(string key, IReadOnlySet<string> wellKnownLabels, List<string> problems)
    {
        if (IsRestrictedLabel(key, wellKnownLabels))
        {
            problems.Add($"label {key} is restricted; specify a well known label: [{string.Join(", ", wellKnownLabels.Order(StringComparer.Ordinal))}], " +
                $"or a custom label that does not use a restricted domain: [{string.Join(", ", RestrictedDomains)}]");
        }
    }
}
