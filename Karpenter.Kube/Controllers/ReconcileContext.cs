namespace Karpenter.Kube.Controllers;

/// <summary>
/// The controller whose reconcile is running on the current async flow (controller-runtime's
/// <c>injection.GetControllerName(ctx)</c>): decorators such as the cloud provider's metrics label their series with it.
/// Null outside a reconcile.
/// </summary>
public static class ReconcileContext
{
    private static readonly AsyncLocal<string?> Current = new();

    public static string? ControllerName => Current.Value;

    /// <summary>Marks the rest of the calling async method (and what it awaits) as running for <paramref name="controller"/>.</summary>
    internal static void Enter(string controller) => Current.Value = controller;
}
