using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.LaunchTemplates;
using Karpenter.Aws.Pricing;
using Karpenter.Kube.Controllers;

namespace Karpenter.Aws.Refresh;

/// <summary>
/// <c>providers.instancetype</c> (upstream <c>pkg/controllers/providers/instancetype</c>): reloads the instance-type catalog and
/// its offerings every 12 hours (the first load happens at start-up).
/// </summary>
public sealed class InstanceTypeRefreshController(InstanceTypeProvider instanceTypes) : ISingletonReconciler
{
    public const string Name = "providers.instancetype";

    public static readonly TimeSpan Interval = TimeSpan.FromHours(12);

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        await instanceTypes.RefreshAsync(cancellationToken);
        return ReconcileResult.After(Interval);
    }
}

/// <summary>
/// <c>providers.pricing</c> (upstream <c>pkg/controllers/providers/pricing</c>): refreshes spot prices
/// (DescribeSpotPriceHistory) and on-demand prices (the Pricing API) every 12 hours; the static table stays the fallback.
/// </summary>
public sealed class PricingRefreshController(PricingProvider pricing) : ISingletonReconciler
{
    public const string Name = "providers.pricing";

    public static readonly TimeSpan Interval = TimeSpan.FromHours(12);

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        await pricing.UpdateSpotPricesAsync(cancellationToken);
        await pricing.UpdateOnDemandPricesAsync(cancellationToken);
        return ReconcileResult.After(Interval);
    }
}

/// <summary>
/// <c>providers.launchtemplate</c>: every minute deletes the launch templates no launch used for a minute (upstream's cache
/// eviction) and drops expired insufficient-capacity entries (upstream cleans them every 10 s; they are ignored once expired).
/// </summary>
public sealed class LaunchTemplateCleanupController(LaunchTemplateProvider launchTemplates, UnavailableOfferings unavailable) : ISingletonReconciler
{
    public const string Name = "providers.launchtemplate";

    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        unavailable.Cleanup();
        await launchTemplates.CleanupAsync(cancellationToken);
        return ReconcileResult.After(Interval);
    }
}
