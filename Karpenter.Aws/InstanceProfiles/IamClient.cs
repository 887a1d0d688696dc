using System.Globalization;
using System.Xml.Linq;
using Amazon.Runtime;
using Karpenter.Aws.Sdk;

namespace Karpenter.Aws.InstanceProfiles;

/// <summary>An IAM instance profile as the provider needs it.</summary>
public sealed record InstanceProfileInfo(string Name, string Id, string Arn, string Path, IReadOnlyList<string> Roles,
    IReadOnlyDictionary<string, string> Tags);

/// <summary>
/// The IAM instance-profile calls (Query protocol, <c>Version=2010-05-08</c>) over <see cref="AwsSignedClient"/>, since
/// AWSSDK.IdentityManagement is not available. Errors keep IAM's codes (<c>NoSuchEntity</c>, <c>EntityAlreadyExists</c>,
/// <c>LimitExceeded</c>) as <see cref="AmazonServiceException.ErrorCode"/>.
/// </summary>
public sealed class IamClient(AwsSignedClient client)
{
    private const string Version = "2010-05-08";

    /// <summary>The profile, or null when IAM answers NoSuchEntity.</summary>
    public async Task<InstanceProfileInfo?> GetInstanceProfileAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var root = await client.QueryAsync("GetInstanceProfile", Version, [new("InstanceProfileName", name)], cancellationToken);
            return Parse(Child(root, "GetInstanceProfileResult", "InstanceProfile") ?? throw Malformed("GetInstanceProfile"));
        }
        catch (AmazonServiceException e) when (IsNotFound(e))
        {
            return null;
        }
    }

    public async Task<InstanceProfileInfo> CreateInstanceProfileAsync(string name, string path, IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken)
    {
        var parameters = new List<KeyValuePair<string, string>> { new("InstanceProfileName", name), new("Path", path) };
        var i = 1;
        foreach (var (key, value) in tags.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            parameters.Add(new($"Tags.member.{i}.Key", key));
            parameters.Add(new($"Tags.member.{i}.Value", value));
            i++;
        }
        var root = await client.QueryAsync("CreateInstanceProfile", Version, parameters, cancellationToken);
        return Parse(Child(root, "CreateInstanceProfileResult", "InstanceProfile") ?? throw Malformed("CreateInstanceProfile"));
    }

    public Task AddRoleToInstanceProfileAsync(string profile, string role, CancellationToken cancellationToken) =>
        client.QueryAsync("AddRoleToInstanceProfile", Version, [new("InstanceProfileName", profile), new("RoleName", role)], cancellationToken);

    public Task RemoveRoleFromInstanceProfileAsync(string profile, string role, CancellationToken cancellationToken) =>
        client.QueryAsync("RemoveRoleFromInstanceProfile", Version, [new("InstanceProfileName", profile), new("RoleName", role)], cancellationToken);

    public Task DeleteInstanceProfileAsync(string profile, CancellationToken cancellationToken) =>
        client.QueryAsync("DeleteInstanceProfile", Version, [new("InstanceProfileName", profile)], cancellationToken);

    /// <summary>Every profile under <paramref name="pathPrefix"/>, following <c>Marker</c> pages.</summary>
    public async Task<IReadOnlyList<InstanceProfileInfo>> ListInstanceProfilesAsync(string pathPrefix, CancellationToken cancellationToken)
    {
        var result = new List<InstanceProfileInfo>();
        string? marker = null;
        do
        {
            var parameters = new List<KeyValuePair<string, string>> { new("PathPrefix", pathPrefix), new("MaxItems", "1000") };
            if (marker is not null)
            {
                parameters.Add(new("Marker", marker));
            }
            var root = await client.QueryAsync("ListInstanceProfiles", Version, parameters, cancellationToken);
            var body = Child(root, "ListInstanceProfilesResult") ?? throw Malformed("ListInstanceProfiles");
            result.AddRange((Child(body, "InstanceProfiles")?.Elements() ?? []).Select(Parse));
            var truncated = string.Equals(Child(body, "IsTruncated")?.Value, "true", StringComparison.OrdinalIgnoreCase);
            marker = truncated ? Child(body, "Marker")?.Value : null;
        }
        while (marker is not null);
        // Some implementations ignore PathPrefix; the contract is the prefix, so enforce it.
        return result.Where(p => p.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList();
    }

    public static bool IsNotFound(AmazonServiceException e) => e.ErrorCode == "NoSuchEntity";

    private static InstanceProfileInfo Parse(XElement profile) => new(
        Child(profile, "InstanceProfileName")?.Value ?? "",
        Child(profile, "InstanceProfileId")?.Value ?? "",
        Child(profile, "Arn")?.Value ?? "",
        Child(profile, "Path")?.Value ?? "/",
        (Child(profile, "Roles")?.Elements() ?? []).Select(r => Child(r, "RoleName")?.Value ?? "").Where(n => n.Length > 0).ToList(),
        (Child(profile, "Tags")?.Elements() ?? []).ToDictionary(t => Child(t, "Key")?.Value ?? "", t => Child(t, "Value")?.Value ?? "", StringComparer.Ordinal));

    private static XElement? Child(XElement element, params string[] path)
    {
        XElement? current = element;
        foreach (var name in path)
        {
            current = current?.Elements().FirstOrDefault(e => e.Name.LocalName == name);
        }
        return current;
    }

    private static AmazonServiceException Malformed(string action) =>
        new(string.Create(CultureInfo.InvariantCulture, $"iam {action}: the response lacks its result element"));
}
