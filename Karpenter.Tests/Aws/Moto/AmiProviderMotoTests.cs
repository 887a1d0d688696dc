using Amazon.EC2;
using Amazon.EC2.Model;
using Karpenter.Aws.Amis;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Time.Testing;
using PutParameterRequest = Amazon.SimpleSystemsManagement.Model.PutParameterRequest;

namespace Karpenter.Tests.Aws.Moto;

/// <summary>
/// AMI selector terms against moto_server. moto has no EKS-optimized AMIs and cannot store <c>/aws/service/*</c> SSM
/// parameters, so alias resolution succeeds only against our emulator; here an alias must fail with a message that says so,
/// and the other kinds of term resolve images the test registers.
/// </summary>
[Collection(MotoTests.Name)]
public sealed class AmiProviderMotoTests(MotoServerFixture moto) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private Karpenter.Aws.Sdk.AwsClients _clients = null!;
    private AmiProvider _provider = null!;

    public async Task InitializeAsync()
    {
        await moto.ResetAsync();
        _clients = moto.Clients(_time);
        _provider = new AmiProvider(_clients.Ec2, _clients.Ssm, _time, Microsoft.Extensions.Options.Options.Create(moto.Options()));
    }

    public Task DisposeAsync()
    {
        _clients?.Dispose();
        return Task.CompletedTask;
    }

    private async Task Tag(string id, params (string Key, string Value)[] tags) =>
        await _clients.Ec2.CreateTagsAsync(new CreateTagsRequest { Resources = [id], Tags = [.. tags.Select(t => new Tag(t.Key, t.Value))] });

    private static string ImageId(string name) => MotoServerFixture.Images.Single(i => i.Name == name).Id;

    [SkippableFact]
    public async Task An_id_term_resolves_the_image_with_its_architecture()
    {
        const string name = "amazon-eks-node-al2023-arm64-standard-1.33-v20260201";
        var amis = await _provider.ListAsync([new AmiSelector(Id: ImageId(name))], default);
        var ami = Assert.Single(amis);
        Assert.Equal(ImageId(name), ami.Id);
        Assert.Equal(name, ami.Name);
        Assert.Equal(["arm64"], ami.Requirements.Get(Labels.Arch).Values);
    }

    [SkippableFact]
    public async Task Name_and_tag_terms_keep_one_image_per_architecture_by_upstreams_order()
    {
        // moto gives every image the same creation date, so the tie-break decides: the smaller name.
        var olderX86 = ImageId("amazon-eks-node-al2023-x86_64-standard-1.33-v20260101");
        var newerX86 = ImageId("amazon-eks-node-al2023-x86_64-standard-1.33-v20260201");
        var arm = ImageId("amazon-eks-node-al2023-arm64-standard-1.33-v20260201");

        var byName = await _provider.ListAsync([new AmiSelector(Name: "amazon-eks-node-al2023-*-standard-1.33-*")], default);
        Assert.Equal([arm, olderX86], byName.Select(a => a.Id));
        Assert.Equal(["arm64", "amd64"], byName.Select(a => a.Requirements.Get(Labels.Arch).Values.Single()));

        await Tag(olderX86, ("team", "platform"));
        await Tag(arm, ("team", "platform"));
        await Tag(newerX86, ("team", "data"));
        Assert.Equal([newerX86], (await _provider.ListAsync([new AmiSelector(Tags: new Dictionary<string, string> { ["team"] = "data" })], default)).Select(a => a.Id));
        var byTag = await _provider.ListAsync([new AmiSelector(Tags: new Dictionary<string, string> { ["team"] = "platform" })], default);
        Assert.Equal(new[] { olderX86, arm }.Order(), byTag.Select(a => a.Id).Order());
    }

    [SkippableFact]
    public async Task An_ssmParameter_term_reads_the_image_id_from_SSM()
    {
        var id = ImageId("bottlerocket-aws-k8s-1.33-x86_64-v1.40.0");
        await _clients.Ssm.PutParameterAsync(new PutParameterRequest { Name = "/team/node-ami", Value = id, Type = "String" });
        var ami = Assert.Single(await _provider.ListAsync([new AmiSelector(SsmParameter: "/team/node-ami")], default));
        Assert.Equal(id, ami.Id);
        var e = await Assert.ThrowsAsync<AmiResolutionException>(() => _provider.ListAsync([new AmiSelector(SsmParameter: "/team/missing")], default));
        Assert.Contains("/team/missing", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Terms_that_match_nothing_resolve_no_image()
    {
        Assert.Empty(await _provider.ListAsync([new AmiSelector(Tags: new Dictionary<string, string> { ["team"] = "nobody" })], default));
    }

    [SkippableFact]
    public async Task An_alias_whose_SSM_parameters_are_absent_fails_with_the_alias_and_version()
    {
        // moto answers ParameterNotFound for every /aws/service/eks path, as AWS would for a version with no AMIs.
        var e = await Assert.ThrowsAsync<AmiResolutionException>(() => _provider.ListAsync([new AmiSelector(Alias: "al2023@latest")], default));
        Assert.Contains("al2023@latest", e.Message, StringComparison.Ordinal);
        Assert.Contains("1.33", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task An_unknown_alias_family_is_refused_before_any_call()
    {
        var e = await Assert.ThrowsAsync<AmiResolutionException>(() => _provider.ListAsync([new AmiSelector(Alias: "ubuntu@latest")], default));
        Assert.Contains("ubuntu@latest", e.Message, StringComparison.Ordinal);
        Assert.Contains("al2023", e.Message, StringComparison.Ordinal);
    }
}
