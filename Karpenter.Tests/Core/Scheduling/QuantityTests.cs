using k8s.Models;
using Karpenter.Core.Scheduling;

namespace Karpenter.Tests.Core.Scheduling;

public sealed class QuantityTests
{
    [Theory]
    [InlineData("1", 1_000_000_000L)]
    [InlineData("1500m", 1_500_000_000L)]
    [InlineData("0.5", 500_000_000L)]
    [InlineData(".5", 500_000_000L)]
    [InlineData("1Ki", 1024L * 1_000_000_000L)]
    [InlineData("1e3", 1_000_000_000_000L)]
    [InlineData("1E-3", 1_000_000L)]
    [InlineData("100u", 100_000L)]
    [InlineData("7n", 7L)]
    [InlineData("+2k", 2_000_000_000_000L)]
    [InlineData("-1", -1_000_000_000L)]
    public void Parses_every_suffix_exactly(string text, long nanos) =>
        Assert.Equal((Int128)nanos, Quantity.Parse(text).Nanos);

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("1.2.3")]
    [InlineData("1Kb")]
    [InlineData("1ei")]
    [InlineData(".")]
    [InlineData("1e400")]
    [InlineData("99999999999999999999999999999999999Ei")]
    public void Rejects_malformed_or_absurd_text(string text) => Assert.False(Quantity.TryParse(text, out _));

    [Fact]
    public void Rounds_below_nano_up_as_the_api_server_does() =>
        Assert.Equal((Int128)1, Quantity.Parse("0.1n").Nanos);

    [Fact]
    public void Thousand_tenths_of_a_core_sum_to_exactly_one_hundred_cores()
    {
        var sum = Quantity.Zero;
        for (var i = 0; i < 1000; i++)
        {
            sum += Quantity.Parse("0.1");
        }

        Assert.Equal(Quantity.Parse("100"), sum);
        Assert.Equal(100_000, sum.MilliValueCeiling);
    }

    [Fact]
    public void Scheduler_units_round_up_like_kube_scheduler()
    {
        Assert.Equal(1, Quantity.Parse("0.1m").MilliValueCeiling);
        Assert.Equal(1, Quantity.Parse("100m").ValueCeiling);
        Assert.Equal(1_610_612_736, Quantity.Parse("1.5Gi").ValueCeiling);
    }

    [Fact]
    public void Reads_kubernetes_client_quantities_through_their_canonical_text()
    {
        var r = Resources.FromList(new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new("1500m"),
            ["memory"] = new("2Gi"),
            ["nvidia.com/gpu"] = new("1"),
        });

        Assert.Equal(1500, r.CpuMilli);
        Assert.Equal(2L << 30, r.Memory);
        Assert.Equal(1, r.Get("nvidia.com/gpu"));
        Assert.Equal("{cpu: 1500m, memory: 2Gi, nvidia.com/gpu: 1}", r.ToString());
    }
}
