using Karpenter.Entities;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;

namespace Karpenter.Tests.Entities;

public sealed class TypeHelperTests
{
    [Theory]
    [InlineData("720h", 720 * 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("0s", 0)]
    [InlineData("0", 0)]
    [InlineData("1.5h", 5400)]
    [InlineData("90s", 90)]
    [InlineData("2h45m30s", 9930)]
    public void Go_durations_parse(string text, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), GoDuration.Parse(text));
    }

    [Theory]
    [InlineData("", "invalid duration \"\": empty")]
    [InlineData("10", "missing unit in duration \"10\"")]
    [InlineData("10d", "unknown unit \"d\" in duration \"10d\"")]
    [InlineData("h", "invalid duration \"h\"")]
    public void Invalid_go_durations_say_why(string text, string error)
    {
        Assert.False(GoDuration.TryParse(text, out _, out var message));
        Assert.Equal(error, message);
    }

    [Theory]
    [InlineData(720 * 3600, "720h0m0s")]
    [InlineData(90, "1m30s")]
    [InlineData(0, "0s")]
    [InlineData(30, "30s")]
    public void Go_durations_format_as_go_prints_them(int seconds, string text)
    {
        Assert.Equal(text, GoDuration.Format(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void Never_is_a_nillable_duration_without_a_limit()
    {
        Assert.True(GoDuration.TryParseNillable("Never", out var never, out _));
        Assert.Null(never);
        Assert.True(GoDuration.TryParseNillable("5m", out var five, out _));
        Assert.Equal(TimeSpan.FromMinutes(5), five);
    }

    [Fact]
    public void A_budget_without_a_schedule_is_always_active_and_rounds_percentages_up()
    {
        var budget = new Budget { Nodes = "10%" };

        Assert.Equal(2, budget.GetAllowedDisruptions(DateTimeOffset.UnixEpoch, 11));
        Assert.Equal(0, new Budget { Nodes = "0" }.GetAllowedDisruptions(DateTimeOffset.UnixEpoch, 11));
        Assert.Equal(3, new Budget { Nodes = "3" }.GetAllowedDisruptions(DateTimeOffset.UnixEpoch, 11));
    }

    [Fact]
    public void A_scheduled_budget_is_active_for_its_duration_after_each_hit_as_robfig_cron_computes_it()
    {
        var budget = new Budget { Nodes = "0", Schedule = "0 9 * * mon-fri", Duration = "8h" };
        var monday = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

        Assert.False(budget.IsActive(monday.AddHours(8).AddMinutes(59)));
        Assert.True(budget.IsActive(monday.AddHours(9)));
        Assert.True(budget.IsActive(monday.AddHours(16).AddMinutes(59)));
        Assert.False(budget.IsActive(monday.AddHours(17)));
        Assert.False(budget.IsActive(monday.AddDays(-1).AddHours(10)));
        Assert.Equal(int.MaxValue, budget.GetAllowedDisruptions(monday.AddHours(20), 10));
    }

    [Fact]
    public void An_invalid_schedule_fails_closed_for_every_reason()
    {
        var pool = new NodePool();
        pool.Spec.Disruption.Budgets =
        [
            new Budget { Nodes = "100%" },
            new Budget { Nodes = "5", Schedule = "61 * * * *", Duration = "1h", Reasons = [DisruptionReason.Drifted] },
        ];

        Assert.Null(pool.Spec.Disruption.Budgets[1].IsActive(DateTimeOffset.UnixEpoch));
        Assert.Equal(0, pool.GetAllowedDisruptions(DateTimeOffset.UnixEpoch, 10, DisruptionReason.Empty));
    }

    [Fact]
    public void The_most_restrictive_matching_budget_wins()
    {
        var pool = new NodePool();
        pool.Spec.Disruption.Budgets =
        [
            new Budget { Nodes = "50%" },
            new Budget { Nodes = "1", Reasons = [DisruptionReason.Underutilized] },
        ];

        Assert.Equal(1, pool.GetAllowedDisruptions(DateTimeOffset.UnixEpoch, 10, DisruptionReason.Underutilized));
        Assert.Equal(5, pool.GetAllowedDisruptions(DateTimeOffset.UnixEpoch, 10, DisruptionReason.Drifted));
    }

    [Fact]
    public void A_template_becomes_a_nodeclaim_spec_with_copies_of_its_parts()
    {
        var template = new NodeClaimTemplate();
        template.Spec.NodeClassRef = NodeClassReference.Ec2NodeClass("default");
        template.Spec.Requirements = [new NodePoolRequirement { Key = "karpenter.sh/capacity-type", Operator = "In", Values = ["spot"], MinValues = 1 }];
        template.Spec.Taints = [new Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" }];
        template.Spec.ExpireAfter = "720h";

        var spec = template.ToNodeClaimSpec();

        Assert.Equal(template.Spec.NodeClassRef, spec.NodeClassRef);
        Assert.NotSame(template.Spec.NodeClassRef, spec.NodeClassRef);
        Assert.Equal("karpenter.sh/capacity-type", spec.Requirements[0].Key);
        Assert.Equal(1, spec.Requirements[0].MinValues);
        Assert.Equal(template.Spec.Taints[0], spec.Taints![0]);
        Assert.Equal("720h", spec.ExpireAfter);
    }

    [Fact]
    public void Taints_convert_to_and_from_the_core_type()
    {
        var taint = new Taint { Key = "k", Value = "v", Effect = "NoExecute", TimeAdded = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) };

        Assert.Equal(taint, Taint.FromV1Taint(taint.ToV1Taint()));
        Assert.True(taint.MatchesTaint(new Taint { Key = "k", Value = "v", Effect = "NoExecute" }));
        Assert.Equal("k=v:NoExecute", taint.ToString());
    }

    [Theory]
    [InlineData("al2@latest", AmiFamily.AL2)]
    [InlineData("bottlerocket@v1.26.0", AmiFamily.Bottlerocket)]
    [InlineData("windows2022@latest", AmiFamily.Windows2022)]
    public void The_ami_family_follows_the_alias_unless_set(string alias, AmiFamily family)
    {
        var spec = new EC2NodeClassSpec { AmiSelectorTerms = [new AmiSelectorTerm { Alias = alias }] };

        Assert.Equal(family, spec.ResolvedAmiFamily());
        spec.AmiFamily = AmiFamily.Custom;
        Assert.Equal(AmiFamily.Custom, spec.ResolvedAmiFamily());
    }
}
