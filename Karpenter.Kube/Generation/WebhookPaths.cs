using Karpenter.Kube.Entities;

namespace Karpenter.Kube.Generation;

/// <summary>
/// The URL paths the API server calls for admission and conversion, shared by the generated webhook configurations
/// and the webhook host that serves them.
/// </summary>
public static class WebhookPaths
{
    /// <summary>One endpoint converts every kind: a ConversionReview names its objects' kinds and the desired version.</summary>
    public const string Conversion = "/convert";

    /// <summary><c>/validate/{group}/{version}/{plural}</c>.</summary>
    public static string Validation(EntityMetadata entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return $"/validate/{entity.Group}/{entity.Version}/{entity.Plural}";
    }

    /// <summary><c>/mutate/{group}/{version}/{plural}</c>.</summary>
    public static string Mutation(EntityMetadata entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return $"/mutate/{entity.Group}/{entity.Version}/{entity.Plural}";
    }
}
