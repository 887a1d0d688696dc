using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Schema;
using Karpenter.Sim.KubeApi.Strategies;

namespace Karpenter.Sim.KubeApi.Resources;

/// <summary>
/// The set of served group/version/resources: the built-ins the emulator knows, plus one entry per served
/// version of each Established CRD. Lookups are lock-free; CRD changes swap whole entries.
/// </summary>
internal sealed class ResourceRegistry
{
    private readonly ConcurrentDictionary<(string Group, string Version, string Plural), ResourceType> _types = new();
    private readonly ConcurrentDictionary<string, Func<JsonObject, IReadOnlyDictionary<string, string>>> _fieldExtractors = new();

    public ResourceRegistry()
    {
        foreach (var type in BuiltinTypes())
        {
            Add(type);
        }
    }

    public void Add(ResourceType type)
    {
        _types[(type.Group, type.Version, type.Plural)] = type;
        if (type.Converter is null)
        {
            var labels = type.FieldLabels;
            _fieldExtractors[type.StorageId] = obj => ExtractFields(obj, labels);
        }
    }

    public void Remove(string group, string version, string plural) => _types.TryRemove((group, version, plural), out _);

    public ResourceType? Find(string group, string version, string plural) =>
        _types.TryGetValue((group, version, plural), out var type) ? type : null;

    public IEnumerable<ResourceType> All => _types.Values;

    /// <summary>The storage form's field-value extractor for a storage id.</summary>
    public Func<JsonObject, IReadOnlyDictionary<string, string>> FieldExtractor(string storageId) =>
        _fieldExtractors.TryGetValue(storageId, out var extractor) ? extractor : static _ => new Dictionary<string, string>();

    private static Dictionary<string, string> ExtractFields(JsonObject obj, IReadOnlyDictionary<string, Func<JsonObject, string?>> labels)
    {
        var result = new Dictionary<string, string>(labels.Count, StringComparer.Ordinal);
        foreach (var (label, extract) in labels)
        {
            result[label] = extract(obj) ?? "";
        }

        return result;
    }

    private static Func<JsonObject, string?> Path(params string[] path) => obj => obj.At(path) switch
    {
        JsonValue v when v.IsString() => v.GetValue<string>(),
        JsonValue v when v.IsBool() => v.GetValue<bool>() ? "true" : "false",
        JsonValue v => v.ToJsonString(),
        _ => null,
    };

    private static Func<JsonObject, string?> BoolPath(params string[] path) => obj =>
        obj.At(path) is JsonValue v && v.IsBool() && v.GetValue<bool>() ? "true" : "false";

    private static IEnumerable<ResourceType> BuiltinTypes()
    {
        var core = new Dictionary<string, Func<JsonObject, string?>>();
        yield return new ResourceType
        {
            Group = "",
            Version = "v1",
            Plural = "namespaces",
            Singular = "namespace",
            Kind = "Namespace",
            Namespaced = false,
            ShortNames = ["ns"],
            StorageId = "namespaces",
            Strategy = new NamespaceStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1Namespace)),
            Subresources = new HashSet<string> { "status", "finalize" },
            FieldLabels = new Dictionary<string, Func<JsonObject, string?>> { ["status.phase"] = Path("status", "phase") },
        };
        yield return new ResourceType
        {
            Group = "",
            Version = "v1",
            Plural = "pods",
            Singular = "pod",
            Kind = "Pod",
            Namespaced = true,
            ShortNames = ["po"],
            Categories = ["all"],
            StorageId = "pods",
            Strategy = new PodStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1Pod)),
            Subresources = new HashSet<string> { "status", "binding", "eviction" },
            FieldLabels = new Dictionary<string, Func<JsonObject, string?>>
            {
                ["spec.nodeName"] = Path("spec", "nodeName"),
                ["spec.restartPolicy"] = Path("spec", "restartPolicy"),
                ["spec.schedulerName"] = Path("spec", "schedulerName"),
                ["spec.serviceAccountName"] = Path("spec", "serviceAccountName"),
                ["spec.hostNetwork"] = BoolPath("spec", "hostNetwork"),
                ["status.phase"] = Path("status", "phase"),
                ["status.podIP"] = Path("status", "podIP"),
                ["status.podIPs"] = obj => obj.At("status", "podIPs") is JsonArray ips && ips.Count > 0 && ips[0] is JsonObject first ? first.GetString("ip") : null,
                ["status.nominatedNodeName"] = Path("status", "nominatedNodeName"),
            },
            FieldLabelAliases = new Dictionary<string, string> { ["spec.host"] = "spec.nodeName" },
        };
        yield return new ResourceType
        {
            Group = "",
            Version = "v1",
            Plural = "nodes",
            Singular = "node",
            Kind = "Node",
            Namespaced = false,
            ShortNames = ["no"],
            StorageId = "nodes",
            Strategy = new NodeStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1Node)),
            Subresources = new HashSet<string> { "status" },
            FieldLabels = new Dictionary<string, Func<JsonObject, string?>> { ["spec.unschedulable"] = BoolPath("spec", "unschedulable") },
        };
        var eventFields = new Dictionary<string, Func<JsonObject, string?>>
        {
            ["involvedObject.kind"] = Path("involvedObject", "kind"),
            ["involvedObject.namespace"] = Path("involvedObject", "namespace"),
            ["involvedObject.name"] = Path("involvedObject", "name"),
            ["involvedObject.uid"] = Path("involvedObject", "uid"),
            ["involvedObject.apiVersion"] = Path("involvedObject", "apiVersion"),
            ["involvedObject.resourceVersion"] = Path("involvedObject", "resourceVersion"),
            ["involvedObject.fieldPath"] = Path("involvedObject", "fieldPath"),
            ["reason"] = Path("reason"),
            ["reportingComponent"] = Path("reportingComponent"),
            ["source"] = Path("source", "component"),
            ["type"] = Path("type"),
        };
        yield return new ResourceType
        {
            Group = "",
            Version = "v1",
            Plural = "events",
            Singular = "event",
            Kind = "Event",
            Namespaced = true,
            ShortNames = ["ev"],
            StorageId = "events",
            Strategy = new EventStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(Corev1Event)),
            FieldLabels = eventFields,
        };
        yield return new ResourceType
        {
            Group = "events.k8s.io",
            Version = "v1",
            Plural = "events",
            Singular = "event",
            Kind = "Event",
            Namespaced = true,
            ShortNames = ["ev"],
            StorageId = "events",
            Strategy = new EventsV1Strategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(Eventsv1Event)),
            Converter = new EventsV1Converter(),
            FieldLabels = new Dictionary<string, Func<JsonObject, string?>>
            {
                ["regarding.kind"] = Path("involvedObject", "kind"),
                ["regarding.namespace"] = Path("involvedObject", "namespace"),
                ["regarding.name"] = Path("involvedObject", "name"),
                ["regarding.uid"] = Path("involvedObject", "uid"),
                ["reason"] = Path("reason"),
                ["reportingController"] = Path("reportingComponent"),
                ["type"] = Path("type"),
            },
        };
        yield return new ResourceType
        {
            Group = "",
            Version = "v1",
            Plural = "persistentvolumeclaims",
            Singular = "persistentvolumeclaim",
            Kind = "PersistentVolumeClaim",
            Namespaced = true,
            ShortNames = ["pvc"],
            StorageId = "persistentvolumeclaims",
            Strategy = new PersistentVolumeClaimStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1PersistentVolumeClaim)),
            Subresources = new HashSet<string> { "status" },
            FieldLabels = core,
        };
        yield return new ResourceType
        {
            Group = "",
            Version = "v1",
            Plural = "persistentvolumes",
            Singular = "persistentvolume",
            Kind = "PersistentVolume",
            Namespaced = false,
            ShortNames = ["pv"],
            StorageId = "persistentvolumes",
            Strategy = new PersistentVolumeStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1PersistentVolume)),
            Subresources = new HashSet<string> { "status" },
        };
        yield return new ResourceType
        {
            Group = "coordination.k8s.io",
            Version = "v1",
            Plural = "leases",
            Singular = "lease",
            Kind = "Lease",
            Namespaced = true,
            StorageId = "leases.coordination.k8s.io",
            Strategy = new GenericStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1Lease)),
        };
        yield return new ResourceType
        {
            Group = "policy",
            Version = "v1",
            Plural = "poddisruptionbudgets",
            Singular = "poddisruptionbudget",
            Kind = "PodDisruptionBudget",
            Namespaced = true,
            ShortNames = ["pdb"],
            StorageId = "poddisruptionbudgets.policy",
            Strategy = new PodDisruptionBudgetStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1PodDisruptionBudget)),
            Subresources = new HashSet<string> { "status" },
        };
        yield return Workload("deployments", "deployment", "Deployment", ["deploy"], typeof(V1Deployment), annotationsBump: true, scalable: true);
        yield return Workload("replicasets", "replicaset", "ReplicaSet", ["rs"], typeof(V1ReplicaSet), annotationsBump: false, scalable: true);
        yield return Workload("daemonsets", "daemonset", "DaemonSet", ["ds"], typeof(V1DaemonSet), annotationsBump: false, scalable: false);
        yield return new ResourceType
        {
            Group = "storage.k8s.io",
            Version = "v1",
            Plural = "storageclasses",
            Singular = "storageclass",
            Kind = "StorageClass",
            Namespaced = false,
            ShortNames = ["sc"],
            StorageId = "storageclasses.storage.k8s.io",
            Strategy = new StorageClassStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1StorageClass)),
        };
        yield return new ResourceType
        {
            Group = "storage.k8s.io",
            Version = "v1",
            Plural = "volumeattachments",
            Singular = "volumeattachment",
            Kind = "VolumeAttachment",
            Namespaced = false,
            StorageId = "volumeattachments.storage.k8s.io",
            Subresources = new HashSet<string> { "status" },
            Strategy = new VolumeAttachmentStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1VolumeAttachment)),
        };
        yield return new ResourceType
        {
            Group = "apiextensions.k8s.io",
            Version = "v1",
            Plural = "customresourcedefinitions",
            Singular = "customresourcedefinition",
            Kind = "CustomResourceDefinition",
            Namespaced = false,
            ShortNames = ["crd", "crds"],
            Categories = ["api-extensions"],
            StorageId = Http.ApiHandler.CrdStorage,
            Strategy = new CustomResourceDefinitionStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1CustomResourceDefinition)),
            Subresources = new HashSet<string> { "status" },
        };
        yield return new ResourceType
        {
            Group = "admissionregistration.k8s.io",
            Version = "v1",
            Plural = "validatingwebhookconfigurations",
            Singular = "validatingwebhookconfiguration",
            Kind = "ValidatingWebhookConfiguration",
            Namespaced = false,
            Categories = ["api-extensions"],
            StorageId = "validatingwebhookconfigurations.admissionregistration.k8s.io",
            Strategy = new WebhookConfigurationStrategy(mutating: false),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1ValidatingWebhookConfiguration)),
        };
        yield return new ResourceType
        {
            Group = "admissionregistration.k8s.io",
            Version = "v1",
            Plural = "mutatingwebhookconfigurations",
            Singular = "mutatingwebhookconfiguration",
            Kind = "MutatingWebhookConfiguration",
            Namespaced = false,
            Categories = ["api-extensions"],
            StorageId = "mutatingwebhookconfigurations.admissionregistration.k8s.io",
            Strategy = new WebhookConfigurationStrategy(mutating: true),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1MutatingWebhookConfiguration)),
        };
        yield return new ResourceType
        {
            Group = "scheduling.k8s.io",
            Version = "v1",
            Plural = "priorityclasses",
            Singular = "priorityclass",
            Kind = "PriorityClass",
            Namespaced = false,
            ShortNames = ["pc"],
            StorageId = PodStrategy.PriorityClassesStorage,
            Strategy = new PriorityClassStrategy(),
            BuiltinSchema = BuiltinSchemas.For(typeof(V1PriorityClass)),
        };
    }

    private static ResourceType Workload(string plural, string singular, string kind, string[] shortNames, Type model, bool annotationsBump, bool scalable) =>
        new()
        {
            Group = "apps",
            Version = "v1",
            Plural = plural,
            Singular = singular,
            Kind = kind,
            Namespaced = true,
            ShortNames = shortNames,
            Categories = ["all"],
            StorageId = plural + ".apps",
            Strategy = new WorkloadStrategy(annotationsBump),
            BuiltinSchema = BuiltinSchemas.For(model),
            Subresources = scalable ? new HashSet<string> { "status", "scale" } : new HashSet<string> { "status" },
        };
}
