using k8s;
using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>What to list: scope, selectors and paging. A null <see cref="Namespace"/> lists across namespaces.</summary>
public sealed record ListOptions
{
    public string? Namespace { get; init; }

    /// <summary>A label selector in query form (see <see cref="Client.LabelSelector"/>).</summary>
    public string? LabelSelector { get; init; }

    /// <summary>A field selector in query form (see <see cref="Client.FieldSelector"/>).</summary>
    public string? FieldSelector { get; init; }

    /// <summary>Page size; null asks for everything at once.</summary>
    public int? Limit { get; init; }

    /// <summary>The continue token of the previous page.</summary>
    public string? Continue { get; init; }

    /// <summary><c>resourceVersion</c> semantics of the API (unset = most recent, "0" = any).</summary>
    public string? ResourceVersion { get; init; }

    /// <summary><c>NotOlderThan</c> or <c>Exact</c>; only together with <see cref="ResourceVersion"/>.</summary>
    public string? ResourceVersionMatch { get; init; }

    public static ListOptions InNamespace(string? @namespace) => new() { Namespace = @namespace };

    public ListOptions WithLabels(LabelSelector selector) => this with { LabelSelector = NullIfEmpty(selector?.ToString()) };

    public ListOptions WithFields(FieldSelector selector) => this with { FieldSelector = NullIfEmpty(selector?.ToString()) };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary>One page of a list: the items, the list's resourceVersion and the token of the next page.</summary>
public sealed record KubeList<T>(IReadOnlyList<T> Items, string? ResourceVersion, string? Continue, long? RemainingItemCount = null);

/// <summary>What to watch. Bookmarks are asked for by default.</summary>
public sealed record WatchOptions
{
    public string? Namespace { get; init; }

    public string? LabelSelector { get; init; }

    public string? FieldSelector { get; init; }

    /// <summary>Watch changes after this resourceVersion (unset: synthetic ADDED for the current state, then changes).</summary>
    public string? ResourceVersion { get; init; }

    public bool AllowBookmarks { get; init; } = true;

    /// <summary>Asks the server to end the watch after this long.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>
/// One watch event. <see cref="Entity"/> is set for ADDED/MODIFIED/DELETED and BOOKMARK (a bookmark carries only
/// <c>metadata.resourceVersion</c>); <see cref="Status"/> is set for ERROR (e.g. 410 Expired).
/// </summary>
public sealed record WatchEvent<T>(WatchEventType Type, T? Entity, V1Status? Status = null)
    where T : class;
