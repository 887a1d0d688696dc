using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>
/// IAM (Query/XML) and Pricing (JSON 1.1) through raw requests signed by AWSSDK.Core's SigV4 handler, the way
/// the provider's signed-request client reaches them (there is no IAM or Pricing SDK package here).
/// </summary>
public sealed class IamPricingTests
{
    private static readonly XNamespace Ns = "https://iam.amazonaws.com/doc/2010-05-08/";

    [Fact]
    public async Task An_instance_profile_is_created_with_tags_given_a_role_listed_by_path_and_deleted()
    {
        await using var h = await EmulatorHarness.StartAsync();
        const string Name = "test-cluster_1234567890";
        const string Path = "/karpenter/us-east-1/test-cluster/uid-1/";

        var (status, missing) = await h.IamAsync(("Action", "GetInstanceProfile"), ("InstanceProfileName", Name));
        Assert.Equal(404, status);
        Assert.Equal("NoSuchEntity", missing.Descendants(Ns + "Code").Single().Value);
        Assert.Equal("Sender", missing.Descendants(Ns + "Type").Single().Value);

        (status, _) = await h.IamAsync(("Action", "CreateInstanceProfile"), ("InstanceProfileName", Name), ("Path", Path),
            ("Tags.member.1.Key", "eks:eks-cluster-name"), ("Tags.member.1.Value", "test-cluster"));
        Assert.Equal(200, status);
        (status, var exists) = await h.IamAsync(("Action", "CreateInstanceProfile"), ("InstanceProfileName", Name), ("Path", Path));
        Assert.Equal((409, "EntityAlreadyExists"), (status, exists.Descendants(Ns + "Code").Single().Value));

        (status, var noRole) = await h.IamAsync(("Action", "AddRoleToInstanceProfile"), ("InstanceProfileName", Name), ("RoleName", "NoSuchRole"));
        Assert.Equal(404, status);
        Assert.Contains("role", noRole.Descendants(Ns + "Message").Single().Value, StringComparison.Ordinal);

        (status, _) = await h.IamAsync(("Action", "AddRoleToInstanceProfile"), ("InstanceProfileName", Name), ("RoleName", "KarpenterNodeRole-test-cluster"));
        Assert.Equal(200, status);
        (status, var second) = await h.IamAsync(("Action", "AddRoleToInstanceProfile"), ("InstanceProfileName", Name), ("RoleName", "KarpenterNodeRole-test-cluster"));
        Assert.Equal((409, "LimitExceeded"), (status, second.Descendants(Ns + "Code").Single().Value));

        var (_, profile) = await h.IamAsync(("Action", "GetInstanceProfile"), ("InstanceProfileName", Name));
        var result = profile.Descendants(Ns + "InstanceProfile").Single();
        Assert.Equal(Path, result.Element(Ns + "Path")!.Value);
        Assert.Equal($"arn:aws:iam::123456789012:instance-profile{Path}{Name}", result.Element(Ns + "Arn")!.Value);
        Assert.Equal("KarpenterNodeRole-test-cluster", result.Descendants(Ns + "RoleName").Single().Value);
        Assert.Equal("test-cluster", result.Element(Ns + "Tags")!.Descendants(Ns + "Value").Single().Value);

        var (_, listed) = await h.IamAsync(("Action", "ListInstanceProfiles"), ("PathPrefix", "/karpenter/us-east-1/test-cluster/"));
        Assert.Equal([Name], listed.Descendants(Ns + "InstanceProfileName").Select(e => e.Value));
        Assert.Equal("false", listed.Descendants(Ns + "IsTruncated").Single().Value);

        (status, var conflict) = await h.IamAsync(("Action", "DeleteInstanceProfile"), ("InstanceProfileName", Name));
        Assert.Equal((409, "DeleteConflict"), (status, conflict.Descendants(Ns + "Code").Single().Value));
        await h.IamAsync(("Action", "RemoveRoleFromInstanceProfile"), ("InstanceProfileName", Name), ("RoleName", "KarpenterNodeRole-test-cluster"));
        (status, _) = await h.IamAsync(("Action", "DeleteInstanceProfile"), ("InstanceProfileName", Name));
        Assert.Equal(200, status);
        Assert.DoesNotContain(Name, h.Emulator.World.InstanceProfiles().Keys);
    }

    [Fact]
    public async Task GetProducts_returns_price_list_JSON_strings_filtered_like_Karpenter_asks()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var prices = new Dictionary<string, double>();
        string? token = null;
        var pages = 0;
        do
        {
            var request = new JsonObject
            {
                ["ServiceCode"] = "AmazonEC2",
                ["FormatVersion"] = "aws_v1",
                ["MaxResults"] = 100,
                ["Filters"] = new JsonArray(
                    Term("regionCode", "us-east-1"), Term("serviceCode", "AmazonEC2"), Term("preInstalledSw", "NA"), Term("operatingSystem", "Linux"),
                    Term("capacitystatus", "Used"), Term("marketoption", "OnDemand"), Term("tenancy", "Shared"), Term("productFamily", "Compute Instance")),
            };
            if (token is not null)
            {
                request["NextToken"] = token;
            }

            using var content = new StringContent(request.ToJsonString(), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri("/", UriKind.Relative)) { Content = content };
            message.Headers.Add("X-Amz-Target", "AWSPriceListService.GetProducts");
            using var response = await h.Pricing.SendAsync(message);
            response.EnsureSuccessStatusCode();
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            foreach (var item in body["PriceList"]!.AsArray())
            {
                using var product = JsonDocument.Parse(item!.GetValue<string>());
                var type = product.RootElement.GetProperty("product").GetProperty("attributes").GetProperty("instanceType").GetString()!;
                var term = product.RootElement.GetProperty("terms").GetProperty("OnDemand").EnumerateObject().Single().Value;
                var usd = term.GetProperty("priceDimensions").EnumerateObject().Single().Value.GetProperty("pricePerUnit").GetProperty("USD").GetString()!;
                prices[type] = double.Parse(usd, System.Globalization.CultureInfo.InvariantCulture);
            }

            token = body["NextToken"]?.GetValue<string>();
            pages++;
        }
        while (token is not null);

        Assert.True(pages > 1);
        Assert.Equal(0.096, prices["m5.large"]);
        Assert.Equal(0.0104, prices["t3.micro"]);
        Assert.DoesNotContain("m5.metal", prices.Keys);

        static JsonObject Term(string field, string value) => new() { ["Type"] = "TERM_MATCH", ["Field"] = field, ["Value"] = value };
    }
}
