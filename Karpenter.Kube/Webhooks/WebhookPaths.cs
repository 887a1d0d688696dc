using Karpenter.Kube.Client;

namespace Karpenter.Kube.Webhooks;

/// <summary>
/// Where each webhook is served, so webhook configurations and CRD conversion settings can point at it:
/// <c>/validate/{group}/{version}/{kind}</c>, <c>/mutate/{group}/{version}/{kind}</c> and <c>/convert/{group}/{kind}</c>
/// (lower-case kind; <c>core</c> for the core group).
/// </summary>
public static class WebhookPaths
{
    public static string Validate<T>() => Admission("validate", KubeResource.Of<T>());

    public static string Mutate<T>() => Admission("mutate", KubeResource.Of<T>());

    public static string Convert(string group, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(kind);
        return $"/convert/{group}/{kind.ToLowerInvariant()}";
    }

    private static string Admission(string verb, KubeResource r) =>
        $"/{verb}/{(r.Group.Length == 0 ? "core" : r.Group)}/{r.Version}/{r.Kind.ToLowerInvariant()}";
}
