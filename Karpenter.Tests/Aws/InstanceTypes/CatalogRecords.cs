using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;

namespace Karpenter.Tests.Aws.InstanceTypes;

/// <summary>
/// The 1,409 records of <c>../shared/data/aws/instance-types.json</c>, turned into the <see cref="InstanceTypeInfo"/> that
/// DescribeInstanceTypes would return for them (the fields the allocatable model reads), with upstream's computed allocatable
/// as the oracle. Read at test time, never copied into the repository.
/// </summary>
internal static class CatalogRecords
{
    public sealed record Record(JsonElement Json)
    {
        public string Name => Json.GetProperty("name").GetString()!;

        public bool HasFacts => Json.GetProperty("vcpu").ValueKind == JsonValueKind.Number;

        public IReadOnlyDictionary<string, string>? Oracle =>
            Json.GetProperty("karpenter_allocatable") is { ValueKind: JsonValueKind.Object } o
                ? o.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)
                : null;

        public int? Int(string name) => Json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

        public string? Str(string name) => Json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        public bool Bool(string name) => Json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
    }

    public static string? FilePath => AwsTestPaths.SharedData is { } data ? Path.Combine(data, "aws", "instance-types.json") : null;

    public static IReadOnlyList<Record> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FilePath!));
        return doc.RootElement.GetProperty("instance_types").EnumerateArray().Select(e => new Record(e.Clone())).ToList();
    }

    public static InstanceTypeInfo ToInfo(Record r)
    {
        var arch = r.Str("arch") == "arm64" ? "arm64" : "x86_64";
        var info = new InstanceTypeInfo
        {
            InstanceType = new InstanceType(r.Name),
            VCpuInfo = new VCpuInfo { DefaultVCpus = r.Int("vcpu") },
            MemoryInfo = new MemoryInfo { SizeInMiB = r.Int("memory_mib") },
            ProcessorInfo = new ProcessorInfo { SupportedArchitectures = [arch] },
            NetworkInfo = new NetworkInfo
            {
                MaximumNetworkInterfaces = r.Int("max_enis"),
                Ipv4AddressesPerInterface = r.Int("ipv4_per_eni"),
                DefaultNetworkCardIndex = 0,
                NetworkCards = [new NetworkCardInfo { NetworkCardIndex = 0, MaximumNetworkInterfaces = r.Int("default_network_card_enis") }],
            },
        };
        if (r.Int("gpu_count") is { } gpus)
        {
            info.GpuInfo = new GpuInfo
            {
                Gpus = [new GpuDeviceInfo
                {
                    Name = r.Str("gpu_name"),
                    Count = gpus,
                    Manufacturer = r.Str("gpu_manufacturer") switch
                    {
                        "nvidia" => "NVIDIA",
                        "amd" => "AMD",
                        "habana" => "Habana",
                        var other => other,
                    },
                    MemoryInfo = new GpuDeviceMemoryInfo { SizeInMiB = r.Int("gpu_memory_mib") },
                }],
            };
        }
        if (r.Int("accelerator_count") is { } accelerators && r.Str("accelerator_manufacturer") == "aws")
        {
            info.NeuronInfo = new NeuronInfo
            {
                NeuronDevices = [new NeuronDeviceInfo { Name = r.Str("accelerator_name"), Count = accelerators }],
            };
        }
        return info;
    }
}
