namespace Karpenter.Sim.Aws.World;

/// <summary>IAM roles and instance profiles (global in AWS; kept with the region's world here).</summary>
public sealed partial class AwsWorld
{
    internal SortedDictionary<string, InstanceProfile> Profiles { get; } = new(StringComparer.Ordinal);

    internal SortedDictionary<string, Role> Roles { get; } = new(StringComparer.Ordinal);

    /// <summary>The names of the instance profiles that exist, with their role (if any).</summary>
    public IReadOnlyDictionary<string, string?> InstanceProfiles() =>
        Locked(() => Profiles.Values.ToDictionary(p => p.Name, p => p.Roles.FirstOrDefault()?.Name, StringComparer.Ordinal));

    /// <summary>Creates an IAM role (Karpenter only attaches roles; it never creates them).</summary>
    public void CreateRole(string roleName, string path = "/") => Locked(() =>
    {
        if (!Roles.ContainsKey(roleName))
        {
            Roles[roleName] = NewRole(roleName, path);
        }
    });

    internal Role NewRole(string name, string path) => new()
    {
        Name = name,
        Id = "AROA" + NewId("x", 17)[2..].ToUpperInvariant(),
        Path = path,
        Arn = $"arn:aws:iam::{AccountId}:role{path}{name}",
        CreateDate = Now,
    };

    internal InstanceProfile NewInstanceProfile(string name, string path, DateTimeOffset now) => new()
    {
        Name = name,
        Id = "AIPA" + NewId("x", 17)[2..].ToUpperInvariant(),
        Path = path,
        Arn = $"arn:aws:iam::{AccountId}:instance-profile{path}{name}",
        CreateDate = now,
    };
}
