using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Sim.Aws.Catalog;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.World;

namespace Karpenter.Sim.Aws.Pricing;

/// <summary>
/// The Price List Query API over awsJson 1.1 (<c>X-Amz-Target: AWSPriceListService.GetProducts</c>): Linux
/// on-demand products of the catalog for the emulated region, each a JSON string in the price-list shape
/// (<c>product.attributes</c>, <c>terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD</c>), filtered by TERM_MATCH.
/// </summary>
internal sealed class PricingApi(AwsWorld world) : IAwsApi
{
    private const string OnDemandTerm = "JRTCKXETXF";
    private const string RateCode = "6YS6EN2CT7";

    public string Service => "pricing";

    public Task<ApiResponse> InvokeAsync(ApiRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(world.Locked(() => request.Action switch
        {
            "GetProducts" => GetProducts(request.Json),
            "DescribeServices" => Json.Ok(new JsonObject
            {
                ["FormatVersion"] = "aws_v1",
                ["Services"] = new JsonArray(new JsonObject { ["ServiceCode"] = "AmazonEC2", ["AttributeNames"] = new JsonArray("instanceType", "regionCode", "operatingSystem", "tenancy") }),
            }, "1.1"),
            _ => throw new AwsServiceException("InvalidAction", $"The action {request.Action} is not valid for this web service."),
        }));

    public ApiResponse Error(AwsServiceException error, string requestId) => Json.Error(error, "1.1");

    private ApiResponse GetProducts(JsonObject? json)
    {
        var serviceCode = Json.Str(json, "ServiceCode");
        if (string.IsNullOrEmpty(serviceCode))
        {
            throw new AwsServiceException("InvalidParameterException", "Input validation error: ServiceCode is required.");
        }

        var size = Json.Int(json, "MaxResults") ?? 100;
        if (size is < 1 or > 100)
        {
            throw new AwsServiceException("InvalidParameterException", $"Input validation error: MaxResults must be between 1 and 100, got {size}.");
        }

        var filters = new List<(string Field, string Value)>();
        if (json?["Filters"] is JsonArray array)
        {
            foreach (var node in array.OfType<JsonObject>())
            {
                var type = Json.Str(node, "Type");
                if (type is not ("TERM_MATCH" or "EQUALS"))
                {
                    throw new AwsServiceException("InvalidParameterException", $"Input validation error: filter type '{type}' is not supported.");
                }

                filters.Add((Json.Str(node, "Field") ?? "", Json.Str(node, "Value") ?? ""));
            }
        }

        var products = serviceCode == "AmazonEC2"
            ? world.Catalog.Types.Where(t => t.OnDemandPrice is not null).Select(Attributes).Where(a => filters.All(f => Match(a.Attributes, f))).ToList()
            : [];
        var offset = Paging.Decode(Json.Str(json, "NextToken"), "GetProducts");
        var page = products.Skip(offset).Take(size).ToList();
        var body = new JsonObject
        {
            ["FormatVersion"] = Json.Str(json, "FormatVersion") ?? "aws_v1",
            ["PriceList"] = new JsonArray(page.Select(p => (JsonNode)Product(p.Type, p.Attributes)).ToArray()),
        };
        if (offset + page.Count < products.Count)
        {
            body["NextToken"] = Paging.Encode(offset + page.Count, "GetProducts");
        }

        return Json.Ok(body, "1.1");
    }

    private static bool Match(Dictionary<string, string> attributes, (string Field, string Value) filter) =>
        attributes.TryGetValue(filter.Field, out var v) && string.Equals(v, filter.Value, StringComparison.OrdinalIgnoreCase);

    private (InstanceTypeInfo Type, Dictionary<string, string> Attributes) Attributes(InstanceTypeInfo t)
    {
        var attributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["servicecode"] = "AmazonEC2",
            ["productFamily"] = t.BareMetal ? "Compute Instance (bare metal)" : "Compute Instance",
            ["instanceType"] = t.Name,
            ["instanceFamily"] = t.GpuCount > 0 || t.AcceleratorCount > 0 ? "GPU instance" : "General purpose",
            ["regionCode"] = world.Region,
            ["location"] = world.Region,
            ["locationType"] = "AWS Region",
            ["operatingSystem"] = "Linux",
            ["preInstalledSw"] = "NA",
            ["licenseModel"] = "No License required",
            ["tenancy"] = t.BareMetal ? "Dedicated" : "Shared",
            ["capacitystatus"] = "Used",
            ["marketoption"] = "OnDemand",
            ["operation"] = "RunInstances",
            ["usagetype"] = $"BoxUsage:{t.Name}",
            ["vcpu"] = t.VCpus.ToString(CultureInfo.InvariantCulture),
            ["memory"] = (t.MemoryMiB / 1024.0).ToString("0.###", CultureInfo.InvariantCulture) + " GiB",
            ["physicalProcessor"] = t.CpuManufacturer,
            ["processorArchitecture"] = t.Architecture == "arm64" ? "64-bit" : "64-bit",
            ["currentGeneration"] = "Yes",
        };
        return (t, attributes);
    }

    private static string Product(InstanceTypeInfo t, Dictionary<string, string> attributes)
    {
        var sku = Sku(t.Name + attributes["regionCode"]);
        var attributeJson = new JsonObject();
        foreach (var (key, value) in attributes.Where(kv => kv.Key != "productFamily"))
        {
            attributeJson[key] = value;
        }

        var price = t.OnDemandPrice!.Value.ToString("0.0000000000", CultureInfo.InvariantCulture);
        var product = new JsonObject
        {
            ["product"] = new JsonObject { ["productFamily"] = attributes["productFamily"], ["attributes"] = attributeJson, ["sku"] = sku },
            ["serviceCode"] = "AmazonEC2",
            ["terms"] = new JsonObject
            {
                ["OnDemand"] = new JsonObject
                {
                    [$"{sku}.{OnDemandTerm}"] = new JsonObject
                    {
                        ["priceDimensions"] = new JsonObject
                        {
                            [$"{sku}.{OnDemandTerm}.{RateCode}"] = new JsonObject
                            {
                                ["unit"] = "Hrs",
                                ["endRange"] = "Inf",
                                ["description"] = $"${t.OnDemandPrice.Value.ToString(CultureInfo.InvariantCulture)} per On Demand Linux {t.Name} Instance Hour",
                                ["appliesTo"] = new JsonArray(),
                                ["rateCode"] = $"{sku}.{OnDemandTerm}.{RateCode}",
                                ["beginRange"] = "0",
                                ["pricePerUnit"] = new JsonObject { ["USD"] = price },
                            },
                        },
                        ["sku"] = sku,
                        ["effectiveDate"] = "2025-11-01T00:00:00Z",
                        ["offerTermCode"] = OnDemandTerm,
                        ["termAttributes"] = new JsonObject(),
                    },
                },
            },
            ["version"] = "20251120000000",
            ["publicationDate"] = "2025-11-20T00:00:00Z",
        };
        return product.ToJsonString();
    }

    private static string Sku(string text)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        return new string(hash.Take(16).Select(b => alphabet[b % alphabet.Length]).ToArray());
    }
}
