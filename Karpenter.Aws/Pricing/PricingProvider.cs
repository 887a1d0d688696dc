using System.Globalization;
using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using Karpenter.Aws.Sdk;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.Pricing;

/// <summary>
/// Instance prices (upstream <c>pkg/providers/pricing</c>): on-demand from the Pricing API's GetProducts (through the signed
/// client; the embedded table until it answers, and always under <c>ISOLATED_VPC</c>), spot per zone from
/// DescribeSpotPriceHistory. Until the first spot update a spot price is the on-demand price.
/// </summary>
public sealed partial class PricingProvider(IAmazonEC2 ec2, AwsSignedClient pricing, TimeProvider time, IOptions<AwsOptions> options,
    ILogger<PricingProvider> logger)
{
    private readonly AwsOptions _options = options.Value;
    private volatile IReadOnlyDictionary<string, decimal> _onDemand = StaticOnDemandPrices.UsEast1;
    private volatile Dictionary<(string Type, string Zone), decimal> _spot = [];

    /// <summary>When on-demand prices last came from the Pricing API (null: still the embedded table).</summary>
    public DateTimeOffset? OnDemandUpdated { get; private set; }

    /// <summary>When spot prices last came from EC2 (null: spot prices are still the on-demand ones).</summary>
    public DateTimeOffset? SpotUpdated { get; private set; }

    public bool TryGetOnDemandPrice(string instanceType, out decimal price) => _onDemand.TryGetValue(instanceType, out price);

    public bool TryGetSpotPrice(string instanceType, string zone, out decimal price)
    {
        if (SpotUpdated is null)
        {
            return TryGetOnDemandPrice(instanceType, out price);
        }
        // A type EC2 reported spot prices for, but not in this zone, has no spot offering price there.
        return _spot.TryGetValue((instanceType, zone), out price);
    }

    /// <summary>Reads spot prices for every type and zone (paginated); keeps the newest price per pair.</summary>
    public async Task UpdateSpotPricesAsync(CancellationToken cancellationToken)
    {
        var latest = new Dictionary<(string, string), (decimal Price, DateTime At)>();
        var request = new DescribeSpotPriceHistoryRequest
        {
            ProductDescriptions = ["Linux/UNIX", "Linux/UNIX (Amazon VPC)"],
            StartTime = time.GetUtcNow().UtcDateTime,
            MaxResults = 1000,
        };
        await foreach (var p in ec2.Paginators.DescribeSpotPriceHistory(request).SpotPriceHistory.WithCancellation(cancellationToken))
        {
            if (p.InstanceType is null || p.AvailabilityZone is null
                || !decimal.TryParse(p.Price, NumberStyles.Float, CultureInfo.InvariantCulture, out var price))
            {
                continue;
            }
            var key = (p.InstanceType.Value, p.AvailabilityZone);
            var at = p.Timestamp ?? DateTime.MinValue;
            if (!latest.TryGetValue(key, out var existing) || existing.At < at)
            {
                latest[key] = (price, at);
            }
        }
        if (latest.Count == 0)
        {
            LogNoSpotPrices(logger);
            return;
        }
        _spot = latest.ToDictionary(p => p.Key, p => p.Value.Price);
        SpotUpdated = time.GetUtcNow();
        LogSpotUpdated(logger, latest.Count);
    }

    /// <summary>Reads on-demand prices for the region from the Pricing API; keeps the current ones if it cannot.</summary>
    public async Task UpdateOnDemandPricesAsync(CancellationToken cancellationToken)
    {
        if (_options.IsolatedVpc)
        {
            return;
        }
        var prices = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var (tenancy, family) in new[] { ("Shared", "Compute Instance"), ("Dedicated", "Compute Instance (bare metal)") })
        {
            string? next = null;
            do
            {
                var filters = new List<object>
                {
                    Term("regionCode", _options.Region), Term("serviceCode", "AmazonEC2"), Term("preInstalledSw", "NA"),
                    Term("operatingSystem", "Linux"), Term("capacitystatus", "Used"), Term("marketoption", "OnDemand"),
                    Term("tenancy", tenancy), Term("productFamily", family),
                };
                var payload = new Dictionary<string, object?>
                {
                    ["ServiceCode"] = "AmazonEC2",
                    ["Filters"] = filters,
                    ["FormatVersion"] = "aws_v1",
                    ["MaxResults"] = 100,
                };
                if (next is not null)
                {
                    payload["NextToken"] = next;
                }
                using var response = await pricing.JsonAsync("AWSPriceListService.GetProducts", payload, cancellationToken);
                if (response.RootElement.TryGetProperty("PriceList", out var list))
                {
                    foreach (var item in list.EnumerateArray())
                    {
                        if (ParsePriceListItem(item.GetString(), _options.Region.StartsWith("cn-", StringComparison.Ordinal) ? "CNY" : "USD") is { } p)
                        {
                            prices.TryAdd(p.InstanceType, p.Price);
                        }
                    }
                }
                next = response.RootElement.TryGetProperty("NextToken", out var token) && token.ValueKind == JsonValueKind.String
                    && token.GetString() is { Length: > 0 } t ? t : null;
            }
            while (next is not null);
        }
        if (prices.Count == 0)
        {
            LogNoOnDemandPrices(logger, _options.Region);
            return;
        }
        _onDemand = prices;
        OnDemandUpdated = time.GetUtcNow();
        LogOnDemandUpdated(logger, prices.Count);
    }

    /// <summary>One PriceList entry (a JSON document in a string): its instance type and its hourly on-demand price.</summary>
    internal static (string InstanceType, decimal Price)? ParsePriceListItem(string? json, string currency)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("product", out var product)
                || !product.TryGetProperty("attributes", out var attributes)
                || !attributes.TryGetProperty("instanceType", out var type)
                || !doc.RootElement.TryGetProperty("terms", out var terms)
                || !terms.TryGetProperty("OnDemand", out var onDemand))
            {
                return null;
            }
            foreach (var term in onDemand.EnumerateObject())
            {
                if (!term.Value.TryGetProperty("priceDimensions", out var dimensions))
                {
                    continue;
                }
                foreach (var dimension in dimensions.EnumerateObject())
                {
                    if (dimension.Value.TryGetProperty("pricePerUnit", out var perUnit) && perUnit.TryGetProperty(currency, out var value)
                        && decimal.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var price) && price > 0)
                    {
                        return (type.GetString()!, price);
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A malformed entry is skipped, like upstream does.
        }
        return null;
    }

    private static Dictionary<string, string> Term(string field, string value) => new()
    {
        ["Type"] = "TERM_MATCH",
        ["Field"] = field,
        ["Value"] = value,
    };

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "updated spot prices for {Count} instance type and zone pairs")]
    private static partial void LogSpotUpdated(ILogger logger, int count);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "updated on-demand prices for {Count} instance types")]
    private static partial void LogOnDemandUpdated(ILogger logger, int count);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "DescribeSpotPriceHistory returned no prices; keeping the previous spot prices")]
    private static partial void LogNoSpotPrices(ILogger logger);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "the Pricing API returned no on-demand prices for {Region}; keeping the previous prices")]
    private static partial void LogNoOnDemandPrices(ILogger logger, string region);
}
