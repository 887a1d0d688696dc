namespace Karpenter.Entities;

/// <summary>The regular expressions upstream's CRDs put on Karpenter's fields, verbatim.</summary>
public static class SchemaPatterns
{
    /// <summary>A qualified name (label key, taint key and value): optional DNS-subdomain prefix and a name.</summary>
    public const string QualifiedName = @"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\/))?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$";

    /// <summary>A label value (up to 63 characters, checked separately).</summary>
    public const string LabelValue = @"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";

    /// <summary><c>expireAfter</c> and <c>consolidateAfter</c>: a duration in s, m and h, or <c>Never</c>.</summary>
    public const string NillableDuration = @"^(([0-9]+(s|m|h))+|Never)$";

    /// <summary><c>terminationGracePeriod</c>: a duration in s, m and h.</summary>
    public const string Duration = @"^([0-9]+(s|m|h))+$";

    /// <summary>The v1beta1 spelling of <see cref="NillableDuration"/>.</summary>
    public const string V1Beta1NillableDuration = @"^(([0-9]+(s|m|h))+)|(Never)$";

    /// <summary>A budget's <c>nodes</c>: a percentage up to 100% or a count.</summary>
    public const string BudgetNodes = @"^((100|[0-9]{1,2})%|[0-9]+)$";

    /// <summary>A budget's <c>schedule</c>: a cron macro or five fields (the cron library checks the rest).</summary>
    public const string BudgetSchedule = @"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly))|((.+)\s(.+)\s(.+)\s(.+)\s(.+))$";

    /// <summary>A budget's <c>duration</c>: minutes and hours only, as Go prints them (with an optional trailing <c>0s</c>).</summary>
    public const string BudgetDuration = @"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$";

    /// <summary>A <c>nodeClassRef.group</c>: no slash.</summary>
    public const string Group = "^[^/]*$";

    /// <summary>An eviction threshold: a percentage or a quantity.</summary>
    public const string EvictionThreshold = @"^((\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)%||(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?)$";

    /// <summary>A resource quantity.</summary>
    public const string Quantity = @"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

    /// <summary>An EBS volume size in Gi, G, Ti or T within EBS's limits.</summary>
    public const string VolumeSize = "^((?:[1-9][0-9]{0,3}|[1-4][0-9]{4}|[5][0-8][0-9]{3}|59000)Gi|(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|[6][0-3][0-9]{3}|64000)G|([1-9]||[1-5][0-7]|58)Ti|([1-9]||[1-5][0-9]|6[0-3]|64)T)$";
}
