using k8s;
using k8s.Models;
using Karpenter.Tests.Support;
using static Karpenter.Tests.Sim.KubeApi.KubeApiExpectations;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>
/// storage.k8s.io/v1 VolumeAttachments are served (node termination waits for them): stored without an
/// attach/detach controller, status only through /status, spec immutable, validated like the real server.
/// </summary>
public sealed class VolumeAttachmentTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>
{
    private IKubernetes Client => api.Client;

    private static V1VolumeAttachment Attachment(string name, string node, string? pv = "pv-1") => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1VolumeAttachmentSpec { Attacher = "ebs.csi.aws.com", NodeName = node, Source = new V1VolumeAttachmentSource { PersistentVolumeName = pv } },
        Status = new V1VolumeAttachmentStatus { Attached = true },
    };

    [Fact]
    public async Task Attachments_are_stored_listed_by_node_and_their_status_is_a_subresource()
    {
        var created = await Client.StorageV1.CreateVolumeAttachmentAsync(Attachment("va-1", "node-a"));
        Assert.False(created.Status?.Attached ?? false);

        created.Status = new V1VolumeAttachmentStatus { Attached = true };
        var attached = await Client.StorageV1.ReplaceVolumeAttachmentStatusAsync(created, "va-1");
        Assert.True(attached.Status.Attached);

        await Client.StorageV1.CreateVolumeAttachmentAsync(Attachment("va-2", "node-b", "pv-2"));
        var all = await Client.StorageV1.ListVolumeAttachmentAsync();
        Assert.Equal(["node-a"], all.Items.Where(a => a.Metadata.Name == "va-1").Select(a => a.Spec.NodeName));

        await Client.StorageV1.DeleteVolumeAttachmentAsync("va-2");
        Assert.DoesNotContain((await Client.StorageV1.ListVolumeAttachmentAsync()).Items, a => a.Metadata.Name == "va-2");
    }

    [Fact]
    public async Task Invalid_attachments_and_spec_changes_are_refused()
    {
        var noSource = Attachment("va-bad", "node-a", pv: null);
        noSource.Spec.Attacher = "";
        var invalid = await ExpectStatusAsync(422, "Invalid", () => Client.StorageV1.CreateVolumeAttachmentAsync(noSource));
        Assert.Contains("spec.attacher: Required value", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName", invalid.Message, StringComparison.Ordinal);

        var stored = await Client.StorageV1.CreateVolumeAttachmentAsync(Attachment("va-fixed", "node-a"));
        stored.Spec.NodeName = "node-b";
        var immutable = await ExpectStatusAsync(422, "Invalid", () => Client.StorageV1.ReplaceVolumeAttachmentAsync(stored, "va-fixed"));
        Assert.Contains("spec: Invalid value: field is immutable", immutable.Message, StringComparison.Ordinal);
    }
}
