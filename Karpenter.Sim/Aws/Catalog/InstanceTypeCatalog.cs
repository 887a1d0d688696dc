using System.Globalization;
using System.Text.Json;

namespace Karpenter.Sim.Aws.Catalog;

/// <summary>
/// The instance types the emulated region offers. By default the embedded catalog (<c>instance-types.csv</c>,
/// written from public AWS facts for the common families); optionally a full catalog file in the
/// <c>{"instance_types":[…]}</c> format.
/// </summary>
public sealed class InstanceTypeCatalog
{
    private readonly Dictionary<string, InstanceTypeInfo> _byName;

    public InstanceTypeCatalog(IEnumerable<InstanceTypeInfo> types)
    {
        _byName = new Dictionary<string, InstanceTypeInfo>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            _byName[type.Name] = type;
        }

        Types = _byName.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>All types, ordered by name (the order DescribeInstanceTypes pages through).</summary>
    public IReadOnlyList<InstanceTypeInfo> Types { get; }

    public InstanceTypeInfo? Find(string name) => _byName.GetValueOrDefault(name);

    public static InstanceTypeCatalog Embedded()
    {
        using var stream = typeof(InstanceTypeCatalog).Assembly.GetManifestResourceStream("Karpenter.Sim.Aws.Catalog.instance-types.csv")
            ?? throw new InvalidOperationException("The embedded instance-type catalog is missing from Karpenter.Sim.");
        using var reader = new StreamReader(stream);
        return new InstanceTypeCatalog(ParseCsv(reader.ReadToEnd()));
    }

    internal static IEnumerable<InstanceTypeInfo> ParseCsv(string text)
    {
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var c = line.Split(',');
            if (c.Length != 22)
            {
                throw new FormatException($"instance-types.csv line {lineNumber}: expected 22 columns, found {c.Length}.");
            }

            yield return new InstanceTypeInfo
            {
                Name = c[0],
                VCpus = Int(c[1]),
                MemoryMiB = Int(c[2]),
                Architecture = c[3],
                Hypervisor = c[4],
                BareMetal = c[5] == "1",
                Burstable = c[6] == "1",
                MaxNetworkInterfaces = Int(c[7]),
                Ipv4AddressesPerInterface = Int(c[8]),
                NetworkBaselineGbps = Dbl(c[9]),
                EbsBaselineMbps = Int(c[10]),
                GpuName = Opt(c[11]),
                GpuManufacturer = Opt(c[12]),
                GpuCount = Int(c[13]),
                GpuMemoryMiB = Int(c[14]),
                AcceleratorName = Opt(c[15]),
                AcceleratorManufacturer = Opt(c[16]),
                AcceleratorCount = Int(c[17]),
                OnDemandPrice = Dbl(c[18]),
                ClockSpeedGhz = Dbl(c[19]),
                CpuManufacturer = c[20],
                LocalNvmeGb = Int(c[21]),
            };
        }

        static int Int(string s) => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);
        static double Dbl(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        static string? Opt(string s) => s.Length == 0 ? null : s;
    }

    /// <summary>
    /// Loads a full catalog file (<c>{"instance_types":[{"name":…,"vcpu":…,"memory_mib":…,"arch":…}]}</c>).
    /// Records without vCPU, memory or architecture are skipped, as EC2 would not report them.
    /// </summary>
    public static InstanceTypeCatalog FromFile(string path)
    {
        using var stream = File.OpenRead(path);
        using var doc = JsonDocument.Parse(stream);
        if (!doc.RootElement.TryGetProperty("instance_types", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{path}: expected a JSON object with an \"instance_types\" array.");
        }

        var types = new List<InstanceTypeInfo>();
        foreach (var r in list.EnumerateArray())
        {
            var name = Str(r, "name");
            var vcpu = Num(r, "vcpu");
            var memory = Num(r, "memory_mib");
            var arch = Str(r, "arch");
            if (name is null || vcpu is null || memory is null || arch is null)
            {
                continue;
            }

            var enis = (int)(Num(r, "default_network_card_enis") ?? Num(r, "max_enis") ?? 2);
            types.Add(new InstanceTypeInfo
            {
                Name = name,
                VCpus = (int)vcpu,
                MemoryMiB = (long)memory,
                Architecture = arch == "amd64" ? "x86_64" : arch,
                Hypervisor = Str(r, "hypervisor") ?? "nitro",
                BareMetal = Bool(r, "bare_metal"),
                Burstable = name.StartsWith('t'),
                MaxNetworkInterfaces = enis,
                Ipv4AddressesPerInterface = (int)(Num(r, "ipv4_per_eni") ?? 2),
                NetworkCards = (int)(Num(r, "network_cards") ?? 1),
                NetworkBaselineGbps = (Num(r, "network_bandwidth_mbps") ?? 0) / 1000.0,
                EbsBaselineMbps = (int)(Num(r, "ebs_bandwidth_mbps") ?? 0),
                GpuName = Str(r, "gpu_name"),
                GpuManufacturer = Str(r, "gpu_manufacturer"),
                GpuCount = (int)(Num(r, "gpu_count") ?? 0),
                GpuMemoryMiB = (long)(Num(r, "gpu_memory_mib") ?? 0),
                AcceleratorName = Str(r, "accelerator_name"),
                AcceleratorManufacturer = Str(r, "accelerator_manufacturer"),
                AcceleratorCount = (int)(Num(r, "accelerator_count") ?? 0),
                OnDemandPrice = Num(r, "ondemand_usd_per_hour_us_east_1"),
                ClockSpeedGhz = (Num(r, "cpu_sustained_clock_mhz") ?? 0) / 1000.0,
                CpuManufacturer = Str(r, "cpu_manufacturer") ?? "intel",
                LocalNvmeGb = (int)(Num(r, "local_nvme_gb") ?? 0),
            });
        }

        return new InstanceTypeCatalog(types);

        static string? Str(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        static double? Num(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        static bool Bool(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
    }
}
