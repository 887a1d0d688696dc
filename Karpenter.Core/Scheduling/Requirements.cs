using System.Text;
using k8s.Models;
using WellKnownLabels = Karpenter.Entities.WellKnown.Labels;

namespace Karpenter.Core.Scheduling;

/// <summary>
/// A conjunction of <see cref="Requirement"/>s, one per label key: what a node, a NodeClaim, an instance type, an
/// offering or a pod requires of labels. Deprecated label keys are normalized to their stable spelling on the way in.
/// Adding a requirement for a key already present intersects the two.
/// </summary>
public sealed class Requirements : IEquatable<Requirements>
{
    private readonly Dictionary<string, Requirement> _byKey;
    private string? _canonical;

    public Requirements()
    {
        _byKey = new Dictionary<string, Requirement>(StringComparer.Ordinal);
    }

    public Requirements(params IEnumerable<Requirement> requirements)
        : this()
    {
        foreach (var r in requirements)
        {
            Add(r);
        }
    }

    private Requirements(Dictionary<string, Requirement> byKey)
    {
        _byKey = byKey;
    }

    public int Count => _byKey.Count;

    public IEnumerable<string> Keys => _byKey.Keys;

    public IEnumerable<Requirement> Values => _byKey.Values;

    /// <summary>Requirements that every label in <paramref name="labels"/> has exactly its value.</summary>
    public static Requirements FromLabels(IEnumerable<KeyValuePair<string, string>>? labels)
    {
        var r = new Requirements();
        foreach (var (key, value) in labels ?? [])
        {
            r.Add(Requirement.In(NormalizeKey(key), value));
        }

        return r;
    }

    /// <summary>
    /// Requirements from node selector requirements (a NodePool's, a pod's affinity term's). Invalid entries are
    /// skipped and described in <paramref name="errors"/>.
    /// </summary>
    public static Requirements FromNodeSelector(IEnumerable<V1NodeSelectorRequirement>? requirements, ICollection<string>? errors = null)
    {
        var r = new Requirements();
        foreach (var req in requirements ?? [])
        {
            var created = Requirement.Create(NormalizeKey(req.Key ?? string.Empty), req.OperatorProperty, req.Values, null, out var error);
            if (created is null)
            {
                errors?.Add(error!);
                continue;
            }

            r.Add(created);
        }

        return r;
    }

    public static string NormalizeKey(string key) => WellKnownLabels.NormalizedAliases.TryGetValue(key, out var stable) ? stable : key;

    public bool Has(string key) => _byKey.ContainsKey(key);

    /// <summary>The requirement for <paramref name="key"/>, or <see cref="Requirement.Any(string)"/> when unconstrained.</summary>
    public Requirement Get(string key) => _byKey.TryGetValue(key, out var r) ? r : Requirement.Any(key);

    public bool TryGet(string key, out Requirement requirement) => _byKey.TryGetValue(key, out requirement!);

    /// <summary>Intersects <paramref name="requirement"/> into this set.</summary>
    public Requirements Add(Requirement requirement)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        _canonical = null;
        _byKey[requirement.Key] = _byKey.TryGetValue(requirement.Key, out var existing) ? existing.Intersect(requirement) : requirement;
        return this;
    }

    public Requirements Add(Requirements requirements)
    {
        ArgumentNullException.ThrowIfNull(requirements);
        foreach (var r in requirements._byKey.Values)
        {
            Add(r);
        }

        return this;
    }

    /// <summary>Replaces (does not intersect) the requirement for its key.</summary>
    public Requirements Set(Requirement requirement)
    {
        _canonical = null;
        _byKey[requirement.Key] = requirement;
        return this;
    }

    public Requirements Remove(string key)
    {
        _canonical = null;
        _byKey.Remove(key);
        return this;
    }

    public Requirements Clone() => new(new Dictionary<string, Requirement>(_byKey, StringComparer.Ordinal)) { _canonical = _canonical };

    /// <summary>A new set holding the intersection of both.</summary>
    public Requirements Intersect(Requirements other) => Clone().Add(other);

    /// <summary>True when some key admits no node at all.</summary>
    public bool IsUnsatisfiable => _byKey.Values.Any(r => r.IsEmpty);

    /// <summary>
    /// Null when a node satisfying these requirements can also satisfy <paramref name="incoming"/>, else the reason.
    /// Keys of <paramref name="incoming"/> that this set does not mention are allowed only when the incoming
    /// requirement admits an absent label, or when the key is in <paramref name="allowUndefined"/> (labels an
    /// instance type or offering will define later, such as the zone).
    /// </summary>
    public string? Compatible(Requirements incoming, IReadOnlySet<string>? allowUndefined = null)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        foreach (var (key, req) in incoming._byKey)
        {
            if (_byKey.ContainsKey(key) || req.AllowsAbsent || (allowUndefined?.Contains(key) ?? false))
            {
                continue;
            }

            return $"label \"{key}\" does not have known values";
        }

        return Intersects(incoming);
    }

    /// <summary>Null when every key both sets constrain has a common state, else the first conflict.</summary>
    public string? Intersects(Requirements other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var (small, large) = _byKey.Count <= other._byKey.Count ? (this, other) : (other, this);
        foreach (var (key, a) in small._byKey)
        {
            if (!large._byKey.TryGetValue(key, out var b))
            {
                continue;
            }

            if (a.Intersect(b).IsEmpty)
            {
                var (existing, incoming) = ReferenceEquals(small, this) ? (a, b) : (b, a);
                return $"incompatible requirements, key {key}, {incoming} not in {existing}";
            }
        }

        return null;
    }

    /// <summary>The labels these requirements pin to exactly one value.</summary>
    public Dictionary<string, string> Labels()
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, r) in _byKey)
        {
            if (!r.Complement && r.Values.Count == 1)
            {
                labels[key] = r.Values[0];
            }
        }

        return labels;
    }

    /// <summary>The node selector requirements that express this set, sorted by key.</summary>
    public List<V1NodeSelectorRequirement> ToNodeSelectorRequirements() =>
        [.. _byKey.OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.ToNodeSelectorRequirements())];

    /// <summary>A canonical text form; equal sets have equal keys (used to intern sets and cache compatibility).</summary>
    public string CanonicalKey
    {
        get
        {
            if (_canonical is not null)
            {
                return _canonical;
            }

            var sb = new StringBuilder();
            foreach (var kv in _byKey.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                sb.Append(kv.Value).Append('\u001f');
            }

            return _canonical = sb.ToString();
        }
    }

    public bool Equals(Requirements? other) => other is not null && string.Equals(CanonicalKey, other.CanonicalKey, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as Requirements);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(CanonicalKey);

    public override string ToString() => string.Join(", ", _byKey.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value.ToString()));
}
