namespace Karpenter.Aws.Pricing;

/// <summary>
/// On-demand Linux prices in USD per hour for us-east-1, written by hand from AWS's public price list for the families most
/// clusters use. They are the fallback until the Pricing API answers (and the only prices with <c>ISOLATED_VPC</c>), as
/// upstream's generated tables are. Types not listed have no on-demand price until then.
/// </summary>
internal static class StaticOnDemandPrices
{
    public const string Region = "us-east-1";

    public static IReadOnlyDictionary<string, decimal> UsEast1 { get; } = Build();

    private static Dictionary<string, decimal> Build()
    {
        var prices = new Dictionary<string, decimal>(StringComparer.Ordinal);

        // Burstable.
        Family(prices, "t3", ("nano", 0.0052m), ("micro", 0.0104m), ("small", 0.0208m), ("medium", 0.0416m), ("large", 0.0832m), ("xlarge", 0.1664m), ("2xlarge", 0.3328m));
        Family(prices, "t3a", ("nano", 0.0047m), ("micro", 0.0094m), ("small", 0.0188m), ("medium", 0.0376m), ("large", 0.0752m), ("xlarge", 0.1504m), ("2xlarge", 0.3008m));
        Family(prices, "t4g", ("nano", 0.0042m), ("micro", 0.0084m), ("small", 0.0168m), ("medium", 0.0336m), ("large", 0.0672m), ("xlarge", 0.1344m), ("2xlarge", 0.2688m));

        // General purpose: price per vCPU-pair scales linearly with size within a family.
        Linear(prices, "m5", 0.096m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"], metal: "24xlarge");
        Linear(prices, "m5a", 0.086m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"]);
        Linear(prices, "m6i", 0.096m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"], metal: "32xlarge");
        Linear(prices, "m6a", 0.0864m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "48xlarge"], metal: "48xlarge");
        Linear(prices, "m7i", 0.1008m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"]);
        Linear(prices, "m6g", 0.077m, ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"]);
        Linear(prices, "m7g", 0.0816m, ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"], metal: "16xlarge");

        // Compute optimized.
        Family(prices, "c5", ("large", 0.085m), ("xlarge", 0.17m), ("2xlarge", 0.34m), ("4xlarge", 0.68m), ("9xlarge", 1.53m), ("12xlarge", 2.04m),
            ("18xlarge", 3.06m), ("24xlarge", 4.08m), ("metal", 4.08m));
        Linear(prices, "c5a", 0.077m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"]);
        Linear(prices, "c6i", 0.085m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"], metal: "32xlarge");
        Linear(prices, "c7i", 0.08925m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"]);
        Linear(prices, "c6g", 0.068m, ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"]);
        Linear(prices, "c7g", 0.0725m, ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"], metal: "16xlarge");
        prices["c7g.medium"] = 0.0363m; // AWS rounds the half-size price up

        // Memory optimized.
        Linear(prices, "r5", 0.126m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"], metal: "24xlarge");
        Linear(prices, "r5a", 0.113m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"]);
        Linear(prices, "r6i", 0.126m, ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"], metal: "32xlarge");
        Linear(prices, "r6g", 0.1008m, ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"]);
        Linear(prices, "r7g", 0.1071m, ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"], metal: "16xlarge");
        prices["r7g.medium"] = 0.0536m;

        // Accelerated.
        Family(prices, "g4dn", ("xlarge", 0.526m), ("2xlarge", 0.752m), ("4xlarge", 1.204m), ("8xlarge", 2.176m), ("12xlarge", 3.912m),
            ("16xlarge", 4.352m), ("metal", 7.824m));
        Family(prices, "g5", ("xlarge", 1.006m), ("2xlarge", 1.212m), ("4xlarge", 1.624m), ("8xlarge", 2.448m), ("12xlarge", 5.672m),
            ("16xlarge", 4.096m), ("24xlarge", 8.144m), ("48xlarge", 16.288m));
        Family(prices, "inf2", ("xlarge", 0.7582m), ("8xlarge", 1.9679m), ("24xlarge", 6.4906m), ("48xlarge", 12.9813m));
        return prices;
    }

    private static void Family(Dictionary<string, decimal> prices, string family, params (string Size, decimal Price)[] sizes)
    {
        foreach (var (size, price) in sizes)
        {
            prices[$"{family}.{size}"] = price;
        }
    }

    /// <summary>A family whose price doubles with each size step from <c>large</c> (2 vCPUs) up, as AWS prices them.</summary>
    private static void Linear(Dictionary<string, decimal> prices, string family, decimal large, string[] sizes, string? metal = null)
    {
        foreach (var size in sizes)
        {
            prices[$"{family}.{size}"] = Math.Round(large * VcpuPairs(size), 6);
        }
        if (metal is not null)
        {
            prices[$"{family}.metal"] = prices[$"{family}.{metal}"];
        }
    }

    /// <summary>The size relative to <c>large</c>: medium ½, large 1, xlarge 2, Nxlarge 2N.</summary>
    private static decimal VcpuPairs(string size) => size switch
    {
        "medium" => 0.5m,
        "large" => 1m,
        "xlarge" => 2m,
        _ when size.EndsWith("xlarge", StringComparison.Ordinal) => 2m * decimal.Parse(size[..^"xlarge".Length], System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"unknown size {size}"),
    };
}
