using Karpenter.Aws.LaunchTemplates.UserData;

namespace Karpenter.Tests.Aws.LaunchTemplates.UserData;

/// <summary>
/// The user data of every AMI family, byte for byte against golden files written from upstream's formats
/// (<c>pkg/providers/launchtemplate/testdata</c>): what a node boots with is part of the wire contract.
/// </summary>
public sealed class UserDataGoldenTests
{
    private static readonly Dictionary<string, string> Labels = new()
    {
        ["team"] = "platform",
        ["karpenter.sh/nodepool"] = "default",
        ["karpenter.sh/capacity-type"] = "on-demand",
        ["karpenter.k8s.aws/ec2nodeclass"] = "default",
        ["karpenter.sh/do-not-sync-taints"] = "true",
    };

    private static BootstrapOptions Options(string? customUserData = null) => new()
    {
        ClusterName = "test-cluster",
        ClusterEndpoint = "https://test-cluster",
        ClusterCidr = "10.100.0.0/16",
        CaBundle = "Y2EtYnVuZGxlCg==",
        Kubelet = new KubeletSettings { ClusterDns = ["10.0.100.10"], MaxPods = 110 },
        Labels = Labels,
        CustomUserData = customUserData,
    };

    private static BootstrapOptions FullKubelet(params string[] dns) => Options() with
    {
        Kubelet = new KubeletSettings
        {
            ClusterDns = dns,
            MaxPods = 58,
            PodsPerCore = 10,
            SystemReserved = new Dictionary<string, string> { ["memory"] = "100Mi", ["cpu"] = "100m" },
            KubeReserved = new Dictionary<string, string> { ["ephemeral-storage"] = "1Gi", ["cpu"] = "200m" },
            EvictionHard = new Dictionary<string, string> { ["nodefs.available"] = "10%", ["memory.available"] = "5%" },
            EvictionSoft = new Dictionary<string, string> { ["memory.available"] = "10%" },
            EvictionSoftGracePeriod = new Dictionary<string, string> { ["memory.available"] = "90s" },
            EvictionMaxPodGracePeriod = 60,
            ImageGcHighThresholdPercent = 85,
            ImageGcLowThresholdPercent = 80,
            CpuCfsQuota = true,
        },
        Taints = [new NodeTaint("dedicated", "gpu", "NoSchedule"), new NodeTaint("node.cilium.io/agent-not-ready", "true", "NoExecute")],
        InstanceStorePolicy = "RAID0",
    };

    [Theory]
    [InlineData("al2023_unmerged", null)]
    [InlineData("al2023_shell_merged", "al2023_shell_input")]
    [InlineData("al2023_yaml_merged", "al2023_yaml_input")]
    [InlineData("al2023_mime_merged", "al2023_mime_input")]
    public void AL2023_renders_a_nodeadm_NodeConfig_after_the_custom_parts(string golden, string? input) =>
        ExpectGolden(new NodeadmUserData().Render(Options(Read(input))), golden);

    [Fact]
    public void AL2023_carries_the_whole_kubelet_block_taints_and_RAID0() =>
        ExpectGolden(new NodeadmUserData().Render(FullKubelet("10.0.100.10", "10.0.100.11")), "al2023_kubelet_raid0");

    [Fact]
    public void AL2023_without_the_service_CIDR_is_refused_with_the_setting_to_fix()
    {
        var e = Assert.Throws<UserDataException>(() => new NodeadmUserData().Render(Options() with { ClusterCidr = null }));
        Assert.Contains("CLUSTER_CIDR", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("al2_unmerged", null)]
    [InlineData("al2_shell_merged", "al2_shell_input")]
    [InlineData("al2_mime_merged", "al2_mime_input")]
    public void AL2_runs_bootstrap_sh_after_the_custom_parts(string golden, string? input) =>
        ExpectGolden(new EksBootstrapUserData().Render(Options(Read(input))), golden);

    [Fact]
    public void AL2_passes_kubelet_settings_as_arguments_and_switches_to_IPv6() =>
        ExpectGolden(new EksBootstrapUserData().Render(FullKubelet("fd00:10:100::a")), "al2_kubelet_ipv6_raid0");

    [Theory]
    [InlineData("br_unmerged", null)]
    [InlineData("br_merged", "br_input")]
    public void Bottlerocket_overwrites_what_Karpenter_owns_and_keeps_other_settings(string golden, string? input) =>
        ExpectGolden(new BottlerocketUserData().Render(Options(Read(input))), golden);

    [Fact]
    public void Bottlerocket_takes_reserved_resources_eviction_image_GC_and_RAID0_bootstrap_commands() =>
        ExpectGolden(new BottlerocketUserData().Render(FullKubelet("10.0.100.10", "10.0.100.11")), "br_kubelet_raid0");

    [Fact]
    public void Bottlerocket_user_data_that_is_not_TOML_is_refused()
    {
        var e = Assert.Throws<UserDataException>(() => new BottlerocketUserData().Render(Options("[settings.kubernetes\nx = ")));
        Assert.Contains("TOML", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("windows_unmerged", null)]
    [InlineData("windows_merged", "windows_input")]
    public void Windows_runs_Start_EKSBootstrap_after_the_custom_script(string golden, string? input) =>
        ExpectGolden(new WindowsUserData().Render(Options(Read(input))), golden);

    [Fact]
    public void Custom_family_passes_the_user_data_through_untouched() =>
        Assert.Equal("#!/bin/bash\nmy-own-bootstrap\n", new CustomUserData().Render(Options("#!/bin/bash\nmy-own-bootstrap\n")));

    [Fact]
    public void A_MIME_document_without_a_boundary_is_refused_with_the_reason()
    {
        var e = Assert.Throws<UserDataException>(() =>
            new NodeadmUserData().Render(Options("MIME-Version: 1.0\nContent-Type: multipart/mixed\n\nhello\n")));
        Assert.Contains("boundary", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_unregistered_taint_is_not_added_twice()
    {
        var withTaint = Options() with { Taints = [new NodeTaint("karpenter.sh/unregistered", null, "NoExecute")] };
        var text = new EksBootstrapUserData().Render(withTaint);
        Assert.Contains("--register-with-taints=\"karpenter.sh/unregistered:NoExecute\"", text, StringComparison.Ordinal);
    }

    private static string? Read(string? name) =>
        name is null ? null : File.ReadAllText(AwsTestPaths.TestData("LaunchTemplates", "UserData", "testdata", name + ".golden"));

    private static void ExpectGolden(string actual, string golden)
    {
        var expected = File.ReadAllText(AwsTestPaths.TestData("LaunchTemplates", "UserData", "testdata", golden + ".golden"));
        Assert.Equal(expected, actual);
    }
}
