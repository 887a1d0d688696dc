using Karpenter.Aws.InstanceProfiles;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Aws.Moto;

/// <summary>
/// Instance profiles through our SigV4-signed IAM Query client against moto_server's IAM. moto ignores
/// <c>ListInstanceProfiles</c>' PathPrefix; the client filters by the prefix itself, which these tests rely on.
/// </summary>
[Collection(MotoTests.Name)]
public sealed class InstanceProfileMotoTests(MotoServerFixture moto) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private Karpenter.Aws.Sdk.AwsClients _clients = null!;
    private IamClient _iam = null!;
    private InstanceProfileProvider _provider = null!;

    public async Task InitializeAsync()
    {
        await moto.ResetAsync();
        _clients = moto.Clients(_time);
        _iam = new IamClient(_clients.Iam);
        _provider = new InstanceProfileProvider(_iam, _time, Microsoft.Extensions.Options.Options.Create(moto.Options()));
    }

    public Task DisposeAsync()
    {
        _clients?.Dispose();
        return Task.CompletedTask;
    }

    private Task<System.Xml.Linq.XElement> CreateRole(string name) => _clients.Iam.QueryAsync("CreateRole", "2010-05-08",
        [new("RoleName", name), new("AssumeRolePolicyDocument", "{\"Version\":\"2012-10-17\",\"Statement\":[]}")], default);

    [SkippableFact]
    public async Task A_role_gets_a_tagged_profile_under_the_cluster_path_with_exactly_that_role()
    {
        await CreateRole("KarpenterNodeRole-test");
        var name = await _provider.EnsureAsync("default", "uid-1", "KarpenterNodeRole-test", new Dictionary<string, string> { ["team"] = "a" }, default);

        Assert.StartsWith("test-cluster_", name, StringComparison.Ordinal);
        var profile = await _iam.GetInstanceProfileAsync(name, default);
        Assert.NotNull(profile);
        Assert.Equal(["KarpenterNodeRole-test"], profile.Roles);
        Assert.Equal("/karpenter/us-east-1/test-cluster/uid-1/", profile.Path);
        Assert.Equal("owned", profile.Tags["kubernetes.io/cluster/test-cluster"]);
        Assert.Equal("test-cluster", profile.Tags["eks:eks-cluster-name"]);
        Assert.Equal("default", profile.Tags["karpenter.k8s.aws/ec2nodeclass"]);
        Assert.Equal("a", profile.Tags["team"]);
        Assert.Equal(name, await _provider.EnsureAsync("default", "uid-1", "KarpenterNodeRole-test", null, default));
    }

    [SkippableFact]
    public async Task A_changed_role_replaces_the_attached_one()
    {
        await CreateRole("old-role");
        await CreateRole("new-role");
        var name = await _provider.EnsureAsync("default", "uid-2", "old-role", null, default);
        _time.Advance(TimeSpan.FromMinutes(16));
        await _provider.EnsureAsync("default", "uid-2", "arn:aws:iam::123456789012:role/new-role", null, default);
        Assert.Equal(["new-role"], (await _iam.GetInstanceProfileAsync(name, default))!.Roles);
    }

    [SkippableFact]
    public async Task A_missing_role_is_reported_and_leaves_no_profile_behind()
    {
        var e = await Assert.ThrowsAsync<RoleNotFoundException>(() => _provider.EnsureAsync("default", "uid-3", "NoSuchRole", null, default));
        Assert.Contains("NoSuchRole", e.Message, StringComparison.Ordinal);
        Assert.Null(await _iam.GetInstanceProfileAsync(_provider.ProfileName("default", "uid-3"), default));
        Assert.Empty(await _provider.ListClusterProfilesAsync(default));
    }

    [SkippableFact]
    public async Task Delete_detaches_and_removes_and_listing_sees_only_this_cluster()
    {
        await CreateRole("node-role");
        var mine = await _provider.EnsureAsync("a", "uid-a", "node-role", null, default);
        var other = new InstanceProfileProvider(_iam, _time,
            Microsoft.Extensions.Options.Options.Create(moto.Options(o => o.ClusterName = "other-cluster")));
        await other.EnsureAsync("a", "uid-a", "node-role", null, default);

        Assert.Equal([mine], (await _provider.ListClusterProfilesAsync(default)).Select(p => p.Name));
        await _provider.DeleteAsync(mine, default);
        Assert.Null(await _iam.GetInstanceProfileAsync(mine, default));
        await _provider.DeleteAsync(mine, default); // already gone: no error
        Assert.Empty(await _provider.ListClusterProfilesAsync(default));
    }
}
