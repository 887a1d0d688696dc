using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Microsoft.AspNetCore.Http;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    /// <summary>The version reported by <c>/version</c>: the kubectl on our machines (1.32) accepts it without skew warnings.</summary>
    public const string GitVersion = "v1.32.0";

    private static readonly string[] GroupOrder =
        ["", "apps", "events.k8s.io", "coordination.k8s.io", "policy", "storage.k8s.io", "scheduling.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io"];

    /// <summary>Legacy discovery (<c>/api</c>, <c>/apis</c>, group and group-version documents), <c>/version</c> and health.</summary>
    private async Task<bool> TryServeDiscoveryAsync(HttpContext http, string path)
    {
        var trimmed = path.TrimEnd('/');
        if (trimmed.Length == 0)
        {
            trimmed = "/";
        }

        JsonNode? document = trimmed switch
        {
            "/version" => new JsonObject
            {
                ["major"] = "1",
                ["minor"] = "32",
                ["gitVersion"] = GitVersion,
                ["gitCommit"] = "karpenter-sim",
                ["gitTreeState"] = "clean",
                ["buildDate"] = "2026-01-01T00:00:00Z",
                ["goVersion"] = "go1.23",
                ["compiler"] = "gc",
                ["platform"] = "linux/amd64",
            },
            "/api" => new JsonObject
            {
                ["kind"] = "APIVersions",
                ["versions"] = new JsonArray("v1"),
                ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject
                {
                    ["clientCIDR"] = "0.0.0.0/0",
                    ["serverAddress"] = http.Request.Host.Value,
                }),
            },
            "/apis" => GroupList(),
            _ => null,
        };

        if (document is null && trimmed is "/healthz" or "/readyz" or "/livez")
        {
            http.Response.StatusCode = 200;
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync("ok", http.RequestAborted);
            return true;
        }

        if (document is null)
        {
            var segments = trimmed.Split('/', StringSplitOptions.RemoveEmptyEntries);
            document = segments switch
            {
                ["api", var version] => ResourceList("", version),
                ["apis", var group] => Group(group),
                ["apis", var group, var version] => ResourceList(group, version),
                _ => null,
            };

            var discoveryPath = segments is ["api", _] or ["apis", _] or ["apis", _, _];
            if (document is null && discoveryPath)
            {
                await WritePlainNotFoundAsync(http);
                return true;
            }
        }

        if (document is null)
        {
            return false;
        }

        await WriteJsonAsync(http, 200, KubeJson.ToBytes(document));
        return true;
    }

    private IEnumerable<IGrouping<string, ResourceType>> Groups() =>
        _registry.All.Where(t => t.Group.Length > 0)
            .GroupBy(t => t.Group)
            .OrderBy(g => Array.IndexOf(GroupOrder, g.Key) is var i and >= 0 ? i : int.MaxValue)
            .ThenBy(g => g.Key, StringComparer.Ordinal);

    private static List<string> VersionsOf(IEnumerable<ResourceType> types) =>
        types.Select(t => t.Version).Distinct().OrderBy(v => v, KubeVersionComparer.Instance).ToList();

    private JsonObject GroupList()
    {
        var groups = new JsonArray();
        foreach (var group in Groups())
        {
            groups.Add(GroupDocument(group.Key, group.ToList()));
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    private JsonObject? Group(string name)
    {
        var types = _registry.All.Where(t => t.Group == name).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        var document = GroupDocument(name, types);
        document["kind"] = "APIGroup";
        document["apiVersion"] = "v1";
        return document;
    }

    private static JsonObject GroupDocument(string name, List<ResourceType> types)
    {
        var versions = VersionsOf(types);
        var preferred = types.FirstOrDefault(t => t.Custom is not null)?.Custom?.PreferredVersion ?? versions[0];
        var versionNodes = new JsonArray();
        foreach (var version in versions)
        {
            versionNodes.Add(new JsonObject { ["groupVersion"] = $"{name}/{version}", ["version"] = version });
        }

        return new JsonObject
        {
            ["name"] = name,
            ["versions"] = versionNodes,
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{name}/{preferred}", ["version"] = preferred },
        };
    }

    private JsonObject? ResourceList(string group, string version)
    {
        var types = _registry.All.Where(t => t.Group == group && t.Version == version).OrderBy(t => t.Plural, StringComparer.Ordinal).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        var resources = new JsonArray();
        foreach (var type in types)
        {
            var resource = new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = type.Singular,
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = new JsonArray(type.Verbs.Select(v => (JsonNode?)v).ToArray()),
            };
            if (type.ShortNames.Count > 0)
            {
                resource["shortNames"] = new JsonArray(type.ShortNames.Select(v => (JsonNode?)v).ToArray());
            }

            if (type.Categories.Count > 0)
            {
                resource["categories"] = new JsonArray(type.Categories.Select(v => (JsonNode?)v).ToArray());
            }

            resources.Add(resource);
            foreach (var sub in type.Subresources.OrderBy(s => s, StringComparer.Ordinal))
            {
                var subresource = new JsonObject
                {
                    ["name"] = $"{type.Plural}/{sub}",
                    ["singularName"] = "",
                    ["namespaced"] = type.Namespaced,
                    ["kind"] = sub switch
                    {
                        "binding" => "Binding",
                        "eviction" => "Eviction",
                        "scale" => "Scale",
                        _ => type.Kind,
                    },
                    ["verbs"] = sub switch
                    {
                        "binding" or "eviction" => new JsonArray("create"),
                        "finalize" => new JsonArray("update"),
                        _ => new JsonArray("get", "patch", "update"),
                    },
                };
                if (sub == "eviction")
                {
                    subresource["group"] = "policy";
                    subresource["version"] = "v1";
                }

                if (sub == "scale")
                {
                    subresource["group"] = "autoscaling";
                    subresource["version"] = "v1";
                }

                resources.Add(subresource);
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }
}

/// <summary>Kubernetes version priority: GA before beta before alpha, higher numbers first (v2, v1, v1beta2, v1beta1, v1alpha1, foo).</summary>
internal sealed class KubeVersionComparer : IComparer<string>
{
    public static readonly KubeVersionComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        var a = Parse(x ?? "");
        var b = Parse(y ?? "");
        if (a.Kind != b.Kind)
        {
            return a.Kind.CompareTo(b.Kind);
        }

        if (a.Kind == 3)
        {
            return string.CompareOrdinal(x, y);
        }

        if (a.Major != b.Major)
        {
            return b.Major.CompareTo(a.Major);
        }

        return b.Minor.CompareTo(a.Minor);
    }

    private static (int Kind, int Major, int Minor) Parse(string version)
    {
        var match = System.Text.RegularExpressions.Regex.Match(version, "^v([0-9]+)(?:(alpha|beta)([0-9]+))?$");
        if (!match.Success)
        {
            return (3, 0, 0);
        }

        var major = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (!match.Groups[2].Success)
        {
            return (0, major, 0);
        }

        var minor = int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        return (match.Groups[2].Value == "beta" ? 1 : 2, major, minor);
    }
}
