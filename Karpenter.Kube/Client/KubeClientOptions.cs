using System.ComponentModel.DataAnnotations;

namespace Karpenter.Kube.Client;

/// <summary>Settings of <see cref="KubeClient"/>.</summary>
public sealed class KubeClientOptions
{
    /// <summary>The <c>fieldManager</c> sent with writes (shows in managedFields).</summary>
    [Required]
    [RegularExpression("^[^\\s]{1,128}$")]
    public string FieldManager { get; set; } = "karpenter";

    /// <summary>Timeout of one non-watch request.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
