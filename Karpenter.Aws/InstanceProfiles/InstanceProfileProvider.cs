using System.Globalization;
using Amazon.Runtime;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.InstanceProfiles;

/// <summary>A role the NodeClass names does not exist (or cannot be attached): the NodeClass cannot be made ready.</summary>
public sealed class RoleNotFoundException(string role, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Role { get; } = role;
}

/// <summary>
/// Instance profiles for EC2NodeClasses that name a <c>role</c> (upstream <c>pkg/providers/instanceprofile</c>): one profile
/// per NodeClass, named <c>&lt;cluster&gt;_&lt;hash&gt;</c> under the path <c>/karpenter/&lt;region&gt;/&lt;cluster&gt;/&lt;uid&gt;/</c>,
/// tagged for the cluster, with exactly the named role attached. A missing role is remembered for a minute, a resolved profile
/// for 15 minutes; a profile whose role cannot be attached is deleted again so nothing half-made is left.
/// </summary>
public sealed class InstanceProfileProvider(IamClient iam, TimeProvider time, IOptions<AwsOptions> options)
{
    private readonly TtlCache<string, InstanceProfileInfo> _profiles = new(time, TimeSpan.FromMinutes(15));
    private readonly TtlCache<string, string> _missingRoles = new(time, TimeSpan.FromMinutes(1));
    private readonly AwsOptions _options = options.Value;

    /// <summary>The profile name for a NodeClass: stable for its name and UID in this cluster and region.</summary>
    public string ProfileName(string nodeClassName, string nodeClassUid) =>
        $"{_options.ClusterName}_{Fnv64($"{_options.Region}{nodeClassName}{nodeClassUid}").ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The IAM path every profile of this cluster lives under.</summary>
    public string ClusterPath => $"/karpenter/{_options.Region}/{_options.ClusterName}/";

    public string ProfilePath(string nodeClassUid) => $"{ClusterPath}{nodeClassUid}/";

    /// <summary>Creates the profile if needed and makes <paramref name="roleArnOrName"/> its only role; returns the profile name.</summary>
    public async Task<string> EnsureAsync(string nodeClassName, string nodeClassUid, string roleArnOrName,
        IReadOnlyDictionary<string, string>? userTags, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(roleArnOrName);
        var role = roleArnOrName.Split('/')[^1];
        var name = ProfileName(nodeClassName, nodeClassUid);
        if (_missingRoles.TryGet(role, out var why))
        {
            throw new RoleNotFoundException(role, why);
        }
        if (_profiles.TryGet(name, out var cached) && cached.Roles.Count == 1 && cached.Roles[0] == role)
        {
            return name;
        }
        var profile = await iam.GetInstanceProfileAsync(name, cancellationToken);
        var created = false;
        if (profile is null)
        {
            var tags = new Dictionary<string, string>(userTags ?? new Dictionary<string, string>(), StringComparer.Ordinal)
            {
                [$"kubernetes.io/cluster/{_options.ClusterName}"] = "owned",
                ["eks:eks-cluster-name"] = _options.ClusterName,
                [Labels.Ec2NodeClass] = nodeClassName,
                [Labels.TopologyRegion] = _options.Region,
            };
            try
            {
                profile = await iam.CreateInstanceProfileAsync(name, ProfilePath(nodeClassUid), tags, cancellationToken);
                created = true;
            }
            catch (AmazonServiceException e) when (e.ErrorCode == "EntityAlreadyExists")
            {
                profile = await iam.GetInstanceProfileAsync(name, cancellationToken)
                    ?? throw new InvalidOperationException($"instance profile {name} exists and does not", e);
            }
        }
        try
        {
            if (!(profile.Roles.Count == 1 && profile.Roles[0] == role))
            {
                foreach (var other in profile.Roles.Where(r => r != role))
                {
                    await iam.RemoveRoleFromInstanceProfileAsync(name, other, cancellationToken);
                }
                if (!profile.Roles.Contains(role))
                {
                    await iam.AddRoleToInstanceProfileAsync(name, role, cancellationToken);
                }
                profile = profile with { Roles = [role] };
            }
        }
        catch (AmazonServiceException e) when (IamClient.IsNotFound(e))
        {
            var message = $"role '{role}' does not exist: IAM answered {e.ErrorCode}: {e.Message}";
            _missingRoles.Set(role, message);
            if (created)
            {
                await DeleteQuietlyAsync(name, cancellationToken);
            }
            throw new RoleNotFoundException(role, message, e);
        }
        catch when (created)
        {
            await DeleteQuietlyAsync(name, cancellationToken);
            throw;
        }
        _profiles.Set(name, profile);
        return name;
    }

    /// <summary>Detaches the role and deletes the profile; a profile already gone is fine.</summary>
    public async Task DeleteAsync(string profileName, CancellationToken cancellationToken)
    {
        _profiles.Remove(profileName);
        var profile = await iam.GetInstanceProfileAsync(profileName, cancellationToken);
        if (profile is null)
        {
            return;
        }
        foreach (var role in profile.Roles)
        {
            try
            {
                await iam.RemoveRoleFromInstanceProfileAsync(profileName, role, cancellationToken);
            }
            catch (AmazonServiceException e) when (IamClient.IsNotFound(e))
            {
                // Detached concurrently.
            }
        }
        try
        {
            await iam.DeleteInstanceProfileAsync(profileName, cancellationToken);
        }
        catch (AmazonServiceException e) when (IamClient.IsNotFound(e))
        {
            // Deleted concurrently.
        }
    }

    /// <summary>Every profile this cluster's operator created (for garbage collection).</summary>
    public Task<IReadOnlyList<InstanceProfileInfo>> ListClusterProfilesAsync(CancellationToken cancellationToken) =>
        iam.ListInstanceProfilesAsync(ClusterPath, cancellationToken);

    private async Task DeleteQuietlyAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await DeleteAsync(name, cancellationToken);
        }
        catch (AmazonServiceException)
        {
            // Best effort; garbage collection retries.
        }
    }

    internal static ulong Fnv64(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return hash;
    }
}
