using System.Text.Json.Nodes;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.World;

namespace Karpenter.Sim.Aws.Ssm;

/// <summary>
/// SSM Parameter Store over awsJson 1.1 (<c>X-Amz-Target: AmazonSSM.*</c>). The public EKS, Bottlerocket and
/// Windows AMI parameters exist for every configured Kubernetes version; clients may add their own.
/// </summary>
internal sealed class SsmApi(AwsWorld world) : IAwsApi
{
    public string Service => "ssm";

    public Task<ApiResponse> InvokeAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        var json = request.Json;
        return Task.FromResult(world.Locked(() => request.Action switch
        {
            "GetParameter" => Json.Ok(new JsonObject { ["Parameter"] = ParameterJson(Find(Json.RequiredStr(json, "Name"))) }, "1.1"),
            "GetParameters" => GetParameters(json),
            "GetParametersByPath" => GetParametersByPath(json),
            "PutParameter" => PutParameter(json),
            "DeleteParameter" => DeleteParameter(json),
            _ => throw new AwsServiceException("InvalidAction", $"The action {request.Action} is not valid for this web service."),
        }));
    }

    public ApiResponse Error(AwsServiceException error, string requestId) => Json.Error(error, "1.1");

    private SsmParameter Find(string name)
    {
        // Accept an ARN and a ":version" or ":label" selector, as SSM does.
        var bare = name;
        if (bare.StartsWith("arn:", StringComparison.Ordinal))
        {
            var index = bare.IndexOf(":parameter", StringComparison.Ordinal);
            bare = index < 0 ? bare : bare[(index + ":parameter".Length)..];
        }

        var colon = bare.LastIndexOf(':');
        if (colon > 0)
        {
            bare = bare[..colon];
        }

        return world.Parameters.TryGetValue(bare, out var p) || world.Parameters.TryGetValue("/" + bare, out p)
            ? p
            : throw new AwsServiceException("ParameterNotFound", "");
    }

    private JsonObject ParameterJson(SsmParameter p) => new()
    {
        ["Name"] = p.Name,
        ["Type"] = p.Type,
        ["Value"] = p.Value,
        ["Version"] = p.Version,
        ["LastModifiedDate"] = Json.Epoch(p.LastModifiedDate),
        ["ARN"] = p.Name.StartsWith("/aws/", StringComparison.Ordinal)
            ? $"arn:aws:ssm:{world.Region}::parameter{p.Name}"
            : $"arn:aws:ssm:{world.Region}:{world.AccountId}:parameter{(p.Name.StartsWith('/') ? "" : "/")}{p.Name}",
        ["DataType"] = p.DataType,
    };

    private ApiResponse GetParameters(JsonObject? json)
    {
        var names = Json.Strings(json, "Names");
        if (names.Count is 0 or > 10)
        {
            throw new AwsServiceException("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1");
        }

        var found = new JsonArray();
        var invalid = new JsonArray();
        foreach (var name in names)
        {
            try
            {
                found.Add(ParameterJson(Find(name)));
            }
            catch (AwsServiceException e) when (e.Code == "ParameterNotFound")
            {
                invalid.Add(name);
            }
        }

        return Json.Ok(new JsonObject { ["Parameters"] = found, ["InvalidParameters"] = invalid }, "1.1");
    }

    private ApiResponse GetParametersByPath(JsonObject? json)
    {
        var path = Json.RequiredStr(json, "Path");
        var recursive = Json.Bool(json, "Recursive");
        var size = Json.Int(json, "MaxResults") ?? 10;
        if (size is < 1 or > 10)
        {
            throw new AwsServiceException("ValidationException", $"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10");
        }

        var prefix = path.EndsWith('/') ? path : path + "/";
        var matches = world.Parameters.Values
            .Where(p => p.Name.StartsWith(prefix, StringComparison.Ordinal) && (recursive || !p.Name[prefix.Length..].Contains('/', StringComparison.Ordinal)))
            .ToList();
        var offset = Paging.Decode(Json.Str(json, "NextToken"), "GetParametersByPath:" + path);
        var page = matches.Skip(offset).Take(size).ToList();
        var body = new JsonObject { ["Parameters"] = new JsonArray(page.Select(p => (JsonNode)ParameterJson(p)).ToArray()) };
        if (offset + page.Count < matches.Count)
        {
            body["NextToken"] = Paging.Encode(offset + page.Count, "GetParametersByPath:" + path);
        }

        return Json.Ok(body, "1.1");
    }

    private ApiResponse PutParameter(JsonObject? json)
    {
        var name = Json.RequiredStr(json, "Name");
        var value = Json.RequiredStr(json, "Value");
        var trimmed = name.TrimStart('/');
        if (trimmed.StartsWith("aws", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("ssm", StringComparison.OrdinalIgnoreCase))
        {
            throw new AwsServiceException("ValidationException", "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).");
        }

        var dataType = Json.Str(json, "DataType") ?? "text";
        if (dataType == "aws:ec2:image" && !world.ImageList.Any(i => i.Id == value))
        {
            throw new AwsServiceException("ValidationException", $"The image id '{value}' does not exist.");
        }

        if (world.Parameters.TryGetValue(name, out var existing))
        {
            if (!Json.Bool(json, "Overwrite"))
            {
                throw new AwsServiceException("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
            }

            existing.Value = value;
            existing.Version++;
            existing.LastModifiedDate = world.Now;
            return Json.Ok(new JsonObject { ["Version"] = existing.Version, ["Tier"] = "Standard" }, "1.1");
        }

        world.Parameters[name] = new SsmParameter
        {
            Name = name,
            Value = value,
            Type = Json.Str(json, "Type") ?? "String",
            DataType = dataType,
            LastModifiedDate = world.Now,
        };
        return Json.Ok(new JsonObject { ["Version"] = 1, ["Tier"] = "Standard" }, "1.1");
    }

    private ApiResponse DeleteParameter(JsonObject? json)
    {
        var name = Find(Json.RequiredStr(json, "Name")).Name;
        world.Parameters.Remove(name);
        return Json.Ok(new JsonObject(), "1.1");
    }
}
