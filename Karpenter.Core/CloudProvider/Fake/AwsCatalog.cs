using System.Globalization;
using System.Text.Json;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.CloudProvider.Fake;

/// <summary>
/// Loads the EC2 catalog of <c>shared/data/aws/instance-types.json</c> (test and benchmark data, read in place, never
/// copied): every type with an architecture, Karpenter's allocatable and a us-east-1 on-demand price becomes an
/// instance type with upstream's labels and one on-demand offering per zone.
/// </summary>
public static class AwsCatalog
{
    public static IReadOnlyList<string> Zones { get; } = ["us-east-1a", "us-east-1b", "us-east-1c"];

    /// <summary>
    /// Walks up from <paramref name="start"/> to the directory holding <c>Karpenter.sln</c>, then looks for
    /// <c>shared/data/aws/instance-types.json</c> beside it (or beside one of its parents, for git worktrees).
    /// </summary>
    public static string? FindDataFile(string? start = null)
    {
        for (var dir = new DirectoryInfo(start ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Karpenter.sln")))
            {
                continue;
            }

            for (var up = dir.Parent; up is not null; up = up.Parent)
            {
                var path = Path.Combine(up.FullName, "shared", "data", "aws", "instance-types.json");
                if (File.Exists(path))
                {
                    return path;
                }
            }

            return null;
        }

        return null;
    }

    public static IReadOnlyList<InstanceType> Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var doc = JsonDocument.Parse(stream);
        var types = new List<InstanceType>();
        foreach (var e in doc.RootElement.GetProperty("instance_types").EnumerateArray())
        {
            if (!e.TryGetProperty("karpenter_allocatable", out var alloc) || alloc.ValueKind != JsonValueKind.Object ||
                !e.TryGetProperty("ondemand_usd_per_hour_us_east_1", out var priceElement) || priceElement.ValueKind != JsonValueKind.Number ||
                Str(e, "arch") is not { } arch || e.GetProperty("vcpu").ValueKind != JsonValueKind.Number)
            {
                continue;
            }

            var name = e.GetProperty("name").GetString()!;
            var allocatable = Resources.Parse(alloc.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!));
            var vcpu = e.GetProperty("vcpu").GetInt64();
            var memoryMib = e.GetProperty("memory_mib").GetInt64();
            var capacity = allocatable.With(ResourceNames.Cpu, vcpu * 1000).With(ResourceNames.Memory, Math.Max(allocatable.Memory, memoryMib << 20));
            var price = priceElement.GetDecimal();

            var requirements = new Requirements(
                Requirement.In(Labels.InstanceType, name),
                Requirement.In(Labels.Arch, arch),
                Requirement.In(Labels.Os, Str(e, "os") ?? "linux"),
                Requirement.In(Labels.TopologyZone, Zones),
                Requirement.In(Labels.CapacityType, CapacityTypes.OnDemand),
                Requirement.In(Labels.InstanceCpu, vcpu.ToString(CultureInfo.InvariantCulture)),
                Requirement.In(Labels.InstanceMemory, memoryMib.ToString(CultureInfo.InvariantCulture)));
            AddLabel(requirements, Labels.InstanceFamily, Str(e, "family"));
            AddLabel(requirements, Labels.InstanceCategory, Str(e, "category"));
            AddLabel(requirements, Labels.InstanceSize, Str(e, "size"));
            AddLabel(requirements, Labels.InstanceCpuManufacturer, Str(e, "cpu_manufacturer"));
            AddLabel(requirements, Labels.InstanceHypervisor, Str(e, "hypervisor"));
            if (e.TryGetProperty("generation", out var gen) && gen.ValueKind == JsonValueKind.Number)
            {
                requirements.Add(Requirement.In(Labels.InstanceGeneration, gen.GetInt32().ToString(CultureInfo.InvariantCulture)));
            }

            if (e.TryGetProperty("gpu_count", out var gpus) && gpus.ValueKind == JsonValueKind.Number)
            {
                requirements.Add(Requirement.In(Labels.InstanceGpuCount, gpus.GetInt32().ToString(CultureInfo.InvariantCulture)));
                AddLabel(requirements, Labels.InstanceGpuName, Str(e, "gpu_name"));
            }

            var offerings = Zones.Select(z => new Offering(z, CapacityTypes.OnDemand, price)).ToList();
            types.Add(new InstanceType(name, requirements, offerings, capacity,
                new InstanceTypeOverhead(default, default, default) with { KubeReserved = capacity - allocatable }));
        }

        return types;
    }

    private static string? Str(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

    private static void AddLabel(Requirements requirements, string key, string? value)
    {
        if (value is not null)
        {
            requirements.Add(Requirement.In(key, value));
        }
    }
}
