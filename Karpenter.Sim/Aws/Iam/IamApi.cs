using System.Text.RegularExpressions;
using System.Xml.Linq;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.World;
using static Karpenter.Sim.Aws.Protocol.Xml;

namespace Karpenter.Sim.Aws.Iam;

/// <summary>
/// IAM over the Query protocol (<c>Version=2010-05-08</c>): instance profiles (create, get, tag, add/remove role,
/// delete, list by path) and roles, with IAM's error shape (<c>&lt;ErrorResponse&gt;</c>, 404 NoSuchEntity,
/// 409 EntityAlreadyExists/LimitExceeded/DeleteConflict).
/// </summary>
internal sealed partial class IamApi(AwsWorld world) : IAwsApi
{
    private static readonly XNamespace Ns = "https://iam.amazonaws.com/doc/2010-05-08/";

    public string Service => "iam";

    [GeneratedRegex(@"^[\w+=,.@-]{1,128}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^(/|/[\u0021-\u007E]*/)$")]
    private static partial Regex PathPattern();

    public Task<ApiResponse> InvokeAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        var q = request.Query;
        return Task.FromResult(world.Locked(() => request.Action switch
        {
            "CreateInstanceProfile" => CreateInstanceProfile(request),
            "GetInstanceProfile" => Ok(request, Node("GetInstanceProfileResult", ProfileXml(Profile(q.Required("InstanceProfileName"))))),
            "DeleteInstanceProfile" => DeleteInstanceProfile(request),
            "AddRoleToInstanceProfile" => AddRole(request),
            "RemoveRoleFromInstanceProfile" => RemoveRole(request),
            "TagInstanceProfile" => TagInstanceProfile(request),
            "UntagInstanceProfile" => UntagInstanceProfile(request),
            "ListInstanceProfileTags" => Ok(request, Node("ListInstanceProfileTagsResult",
                Members("Tags", Profile(q.Required("InstanceProfileName")).Tags.Select(t => new object[] { E("Key", t.Key)!, E("Value", t.Value)! })),
                E("IsTruncated", false))),
            "ListInstanceProfiles" => ListInstanceProfiles(request),
            "ListInstanceProfilesForRole" => Ok(request, Node("ListInstanceProfilesForRoleResult",
                Members("InstanceProfiles", world.Profiles.Values.Where(p => p.Roles.Contains(Role(q.Required("RoleName")))).Select(ProfileContent)),
                E("IsTruncated", false))),
            "GetRole" => Ok(request, Node("GetRoleResult", Node("Role", RoleContent(Role(q.Required("RoleName")))))),
            "CreateRole" => CreateRole(request),
            _ => throw new AwsServiceException("InvalidAction", $"Could not find operation {request.Action} for version 2010-05-08"),
        }));
    }

    public ApiResponse Error(AwsServiceException error, string requestId)
    {
        var xml = new XElement("ErrorResponse",
            new XElement("Error", new XElement("Type", error.SenderFault ? "Sender" : "Receiver"), new XElement("Code", error.Code), new XElement("Message", error.Message)),
            new XElement("RequestId", requestId));
        return new ApiResponse(error.StatusCode, "text/xml", Document(xml, Ns));
    }

    private static ApiResponse Ok(ApiRequest request, XElement? result)
    {
        var root = Node(request.Action + "Response", result, Node("ResponseMetadata", E("RequestId", request.RequestId)));
        return new ApiResponse(200, "text/xml", Document(root, Ns));
    }

    private static AwsServiceException NoSuchEntity(string message) => new("NoSuchEntity", message, 404);

    private InstanceProfile Profile(string name) =>
        world.Profiles.TryGetValue(name, out var p) ? p : throw NoSuchEntity($"Instance Profile {name} cannot be found.");

    private Role Role(string name) =>
        world.Roles.TryGetValue(name, out var r) ? r : throw NoSuchEntity($"The role with name {name} cannot be found.");

    private static string ValidName(string name, string field) =>
        NamePattern().IsMatch(name)
            ? name
            : throw new AwsServiceException("ValidationError", $"1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+");

    private static List<KeyValuePair<string, string>> Tags(QueryParameters q)
    {
        var tags = q.Tags("Tags.member");
        if (tags.Count > 50)
        {
            throw new AwsServiceException("LimitExceeded", "Cannot exceed quota for TagsPerInstanceProfile: 50", 409);
        }

        return tags;
    }

    private static object[] ProfileContent(InstanceProfile p) =>
    [
        E("Path", p.Path)!, E("InstanceProfileName", p.Name)!, E("InstanceProfileId", p.Id)!, E("Arn", p.Arn)!,
        E("CreateDate", Iso(p.CreateDate))!,
        Members("Roles", p.Roles.Select(RoleContent)),
        p.Tags.Count > 0 ? Members("Tags", p.Tags.Select(t => new object[] { E("Key", t.Key)!, E("Value", t.Value)! })) : new XElement("Tags"),
    ];

    private static XElement ProfileXml(InstanceProfile p) => Node("InstanceProfile", ProfileContent(p));

    private static object[] RoleContent(Role r) =>
    [
        E("Path", r.Path)!, E("RoleName", r.Name)!, E("RoleId", r.Id)!, E("Arn", r.Arn)!, E("CreateDate", Iso(r.CreateDate))!,
        E("AssumeRolePolicyDocument", Uri.EscapeDataString(r.AssumeRolePolicyDocument))!,
    ];

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private ApiResponse CreateInstanceProfile(ApiRequest request)
    {
        var q = request.Query;
        var name = ValidName(q.Required("InstanceProfileName"), "instanceProfileName");
        var path = q["Path"] ?? "/";
        if (!PathPattern().IsMatch(path) || path.Length > 512)
        {
            throw new AwsServiceException("ValidationError", $"The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.");
        }

        if (world.Profiles.ContainsKey(name))
        {
            throw new AwsServiceException("EntityAlreadyExists", $"Instance Profile {name} already exists.", 409);
        }

        var tags = Tags(q);
        var profile = world.NewInstanceProfile(name, path, world.Now);
        profile.Tags.AddRange(tags);
        world.Profiles[name] = profile;
        return Ok(request, Node("CreateInstanceProfileResult", ProfileXml(profile)));
    }

    private ApiResponse DeleteInstanceProfile(ApiRequest request)
    {
        var profile = Profile(request.Query.Required("InstanceProfileName"));
        if (profile.Roles.Count > 0)
        {
            throw new AwsServiceException("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409);
        }

        world.Profiles.Remove(profile.Name);
        return Ok(request, null);
    }

    private ApiResponse AddRole(ApiRequest request)
    {
        var profile = Profile(request.Query.Required("InstanceProfileName"));
        var role = Role(request.Query.Required("RoleName"));
        if (profile.Roles.Count > 0)
        {
            throw new AwsServiceException("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1", 409);
        }

        profile.Roles.Add(role);
        return Ok(request, null);
    }

    private ApiResponse RemoveRole(ApiRequest request)
    {
        var profile = Profile(request.Query.Required("InstanceProfileName"));
        var roleName = request.Query.Required("RoleName");
        var role = profile.Roles.FirstOrDefault(r => r.Name == roleName)
            ?? throw NoSuchEntity($"The role with name {roleName} cannot be found.");
        profile.Roles.Remove(role);
        return Ok(request, null);
    }

    private ApiResponse TagInstanceProfile(ApiRequest request)
    {
        var profile = Profile(request.Query.Required("InstanceProfileName"));
        foreach (var (key, value) in Tags(request.Query))
        {
            profile.Tags.RemoveAll(t => t.Key == key);
            profile.Tags.Add(new(key, value));
        }

        if (profile.Tags.Count > 50)
        {
            throw new AwsServiceException("LimitExceeded", "Cannot exceed quota for TagsPerInstanceProfile: 50", 409);
        }

        return Ok(request, null);
    }

    private ApiResponse UntagInstanceProfile(ApiRequest request)
    {
        var profile = Profile(request.Query.Required("InstanceProfileName"));
        var keys = request.Query.List("TagKeys.member");
        profile.Tags.RemoveAll(t => keys.Contains(t.Key));
        return Ok(request, null);
    }

    private ApiResponse ListInstanceProfiles(ApiRequest request)
    {
        var q = request.Query;
        var prefix = q["PathPrefix"] ?? "/";
        var maxItems = q.Int("MaxItems") ?? 100;
        if (maxItems is < 1 or > 1000)
        {
            throw new AwsServiceException("ValidationError", $"1 validation error detected: Value '{maxItems}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000");
        }

        var matches = world.Profiles.Values.Where(p => p.Path.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var offset = Paging.Decode(q["Marker"], "ListInstanceProfiles");
        var page = matches.Skip(offset).Take(maxItems).ToList();
        var truncated = offset + page.Count < matches.Count;
        return Ok(request, Node("ListInstanceProfilesResult",
            Members("InstanceProfiles", page.Select(ProfileContent)),
            E("IsTruncated", truncated),
            truncated ? E("Marker", Paging.Encode(offset + page.Count, "ListInstanceProfiles")) : null));
    }

    private ApiResponse CreateRole(ApiRequest request)
    {
        var q = request.Query;
        var name = ValidName(q.Required("RoleName"), "roleName");
        if (world.Roles.ContainsKey(name))
        {
            throw new AwsServiceException("EntityAlreadyExists", $"Role with name {name} already exists.", 409);
        }

        var role = world.NewRole(name, q["Path"] ?? "/");
        world.Roles[name] = role;
        return Ok(request, Node("CreateRoleResult", Node("Role", RoleContent(role))));
    }
}
