namespace Karpenter.Sim.KubeApi.Http;

/// <summary>A resource request's path decomposed like apiserver's <c>RequestInfoFactory</c>.</summary>
internal sealed record RequestInfo(string Group, string Version, string? Namespace, string Plural, string? Name, string? Subresource, bool LegacyWatch)
{
    /// <summary>Parses <c>/api/v1/...</c> and <c>/apis/{group}/{version}/...</c> resource paths; null when the path names no resource.</summary>
    public static RequestInfo? Parse(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string group, version;
        int rest;
        if (segments.Length >= 3 && segments[0] == "api")
        {
            group = "";
            version = segments[1];
            rest = 2;
        }
        else if (segments.Length >= 4 && segments[0] == "apis")
        {
            group = segments[1];
            version = segments[2];
            rest = 3;
        }
        else
        {
            return null;
        }

        var parts = segments[rest..];
        var legacyWatch = false;
        if (parts.Length > 0 && parts[0] == "watch")
        {
            legacyWatch = true;
            parts = parts[1..];
        }

        if (parts.Length == 0)
        {
            return null;
        }

        if (parts[0] == "namespaces")
        {
            switch (parts.Length)
            {
                case 1:
                    return new RequestInfo(group, version, null, "namespaces", null, null, legacyWatch);
                case 2:
                    return new RequestInfo(group, version, null, "namespaces", parts[1], null, legacyWatch);
                case 3 when parts[2] is "status" or "finalize":
                    return new RequestInfo(group, version, null, "namespaces", parts[1], parts[2], legacyWatch);
                case 3:
                    return new RequestInfo(group, version, parts[1], parts[2], null, null, legacyWatch);
                case 4:
                    return new RequestInfo(group, version, parts[1], parts[2], parts[3], null, legacyWatch);
                case 5:
                    return new RequestInfo(group, version, parts[1], parts[2], parts[3], parts[4], legacyWatch);
                default:
                    return null;
            }
        }

        return parts.Length switch
        {
            1 => new RequestInfo(group, version, null, parts[0], null, null, legacyWatch),
            2 => new RequestInfo(group, version, null, parts[0], parts[1], null, legacyWatch),
            3 => new RequestInfo(group, version, null, parts[0], parts[1], parts[2], legacyWatch),
            _ => null,
        };
    }
}
