using Karpenter.Core.Scheduling;

namespace Karpenter.Tests.Core.Scheduling;

/// <summary>
/// Property tests of the requirements algebra against a brute-force model: a requirement is the set of label states
/// it admits over a universe of values plus "absent". The universe holds every generated value and, for each
/// integer, a spelling no requirement mentions ("+3"), so a set is empty in the universe exactly when it is empty.
/// </summary>
public sealed class RequirementAlgebraTests
{
    private const string Key = "k";
    private static readonly string[] Generated = ["a", "b", "c", "1", "2", "3", "4", "5", "6"];
    private static readonly string[] Universe =
        [.. Generated, "fresh", "100", "-5", .. Enumerable.Range(0, 10).Select(i => "+" + i)];

    private sealed record Spec(string Op, string[] Values, long N)
    {
        public Requirement Build() => Op switch
        {
            Operators.In => Requirement.In(Key, Values),
            Operators.NotIn => Requirement.NotIn(Key, Values),
            Operators.Exists => Requirement.Exists(Key),
            Operators.DoesNotExist => Requirement.DoesNotExist(Key),
            Operators.Gt => Requirement.Gt(Key, N),
            Operators.Lt => Requirement.Lt(Key, N),
            Operators.Gte => Requirement.Gte(Key, N),
            _ => Requirement.Lte(Key, N),
        };

        // The definition of each operator, written independently of the implementation.
        public bool Admits(string? value) => value is null
            ? Op is Operators.NotIn or Operators.DoesNotExist
            : Op switch
            {
                Operators.In => Values.Contains(value),
                Operators.NotIn => !Values.Contains(value),
                Operators.Exists => true,
                Operators.DoesNotExist => false,
                _ => long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, null, out var v) && Op switch
                {
                    Operators.Gt => v > N,
                    Operators.Lt => v < N,
                    Operators.Gte => v >= N,
                    _ => v <= N,
                },
            };
    }

    private static Spec RandomSpec(Random random)
    {
        string[] ops = [Operators.In, Operators.NotIn, Operators.Exists, Operators.DoesNotExist, Operators.Gt, Operators.Lt, Operators.Gte, Operators.Lte];
        var op = ops[random.Next(ops.Length)];
        var count = op == Operators.In ? 1 + random.Next(3) : random.Next(3);
        var values = Enumerable.Range(0, count).Select(_ => Generated[random.Next(Generated.Length)]).ToArray();
        return new Spec(op, values, random.Next(0, 8));
    }

    private static IEnumerable<string?> States => Universe.Append(null);

    private static bool Admits(Requirement r, string? state) => state is null ? r.AllowsAbsent : r.Has(state);

    [Fact]
    public void Each_operator_admits_exactly_what_its_definition_says()
    {
        var random = new Random(1);
        for (var i = 0; i < 2000; i++)
        {
            var spec = RandomSpec(random);
            var r = spec.Build();
            foreach (var state in States)
            {
                Assert.True(spec.Admits(state) == Admits(r, state), $"{spec} vs {r} on {state ?? "<absent>"}");
            }

            Assert.Equal(!States.Any(spec.Admits), r.IsEmpty);
        }
    }

    [Fact]
    public void Intersection_admits_exactly_the_common_states_and_is_empty_exactly_when_nothing_is_common()
    {
        var random = new Random(2);
        for (var i = 0; i < 5000; i++)
        {
            var specs = Enumerable.Range(0, 1 + random.Next(4)).Select(_ => RandomSpec(random)).ToArray();
            var r = specs.Select(s => s.Build()).Aggregate((x, y) => x.Intersect(y));
            foreach (var state in States)
            {
                Assert.True(specs.All(s => s.Admits(state)) == Admits(r, state), $"{string.Join(" ∩ ", specs.Select(s => s.ToString()))} = {r} on {state ?? "<absent>"}");
            }

            Assert.Equal(!States.Any(s => specs.All(spec => spec.Admits(s))), r.IsEmpty);
        }
    }

    [Fact]
    public void Intersection_is_commutative_and_associative_in_normal_form()
    {
        var random = new Random(3);
        for (var i = 0; i < 3000; i++)
        {
            var (a, b, c) = (RandomSpec(random).Build(), RandomSpec(random).Build(), RandomSpec(random).Build());
            Assert.Equal(a.Intersect(b), b.Intersect(a));
            Assert.Equal(a.Intersect(b).Intersect(c), a.Intersect(b.Intersect(c)));
        }
    }

    [Fact]
    public void Requirement_sets_are_compatible_exactly_when_every_shared_key_has_a_common_state()
    {
        var random = new Random(4);
        string[] keys = ["x", "y", "z"];
        for (var i = 0; i < 3000; i++)
        {
            Dictionary<string, Spec> Draw() => keys.Where(_ => random.Next(2) == 0).ToDictionary(k => k, _ => RandomSpec(random));
            var (existing, incoming) = (Draw(), Draw());
            var a = new Requirements(existing.Select(kv => Rekey(kv.Value.Build(), kv.Key)));
            var b = new Requirements(incoming.Select(kv => Rekey(kv.Value.Build(), kv.Key)));

            var expected = incoming.All(kv => existing.TryGetValue(kv.Key, out var e)
                ? States.Any(s => e.Admits(s) && kv.Value.Admits(s))
                : kv.Value.Admits(null));

            Assert.True(expected == (a.Compatible(b) is null), $"[{a}] vs [{b}]: {a.Compatible(b)}");
        }
    }

    [Fact]
    public void Undefined_well_known_keys_are_allowed_only_when_asked()
    {
        var nodePool = new Requirements(Requirement.In("karpenter.sh/capacity-type", "spot"));
        var pod = new Requirements(Requirement.In("topology.kubernetes.io/zone", "z1"));

        Assert.NotNull(nodePool.Compatible(pod));
        Assert.Null(nodePool.Compatible(pod, new HashSet<string> { "topology.kubernetes.io/zone" }));
    }

    [Fact]
    public void Deprecated_keys_are_normalized_to_the_stable_key()
    {
        var r = Requirements.FromLabels(new Dictionary<string, string> { ["failure-domain.beta.kubernetes.io/zone"] = "z1" });

        Assert.True(r.Has("topology.kubernetes.io/zone"));
    }

    [Fact]
    public void Invalid_operators_and_values_are_reported_not_thrown()
    {
        var errors = new List<string>();
        var r = Requirements.FromNodeSelector(
        [
            Sel("k", "Between", ["1"]),
            Sel("n", "Gt", ["x"]),
            Sel("i", "In", []),
            Sel("ok", "In", ["v"]),
        ], errors);

        Assert.Equal(3, errors.Count);
        Assert.Equal(1, r.Count);
    }

    [Fact]
    public void Node_selector_output_round_trips_every_set()
    {
        var random = new Random(5);
        for (var i = 0; i < 2000; i++)
        {
            var r = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => RandomSpec(random).Build()).Aggregate((x, y) => x.Intersect(y));
            if (r.IsEmpty || (r.Complement && r.AllowsAbsent && r.Values.Count == 0 && r.GreaterThan is null && r.LessThan is null))
            {
                continue;
            }

            var back = Requirements.FromNodeSelector(r.ToNodeSelectorRequirements()).Get(Key);
            foreach (var state in States)
            {
                Assert.True(Admits(r, state) == Admits(back, state), $"{r} -> {back} on {state ?? "<absent>"}");
            }
        }
    }

    private static k8s.Models.V1NodeSelectorRequirement Sel(string key, string op, string[] values) =>
        new() { Key = key, OperatorProperty = op, Values = values };

    private static Requirement Rekey(Requirement r, string key)
    {
        var values = r.Values.ToList();
        return r switch
        {
            { Complement: false, Values.Count: > 0 } => Requirement.In(key, values),
            { Complement: false } => Requirement.DoesNotExist(key),
            { GreaterThan: { } g } => Requirement.Gt(key, (long)g),
            { LessThan: { } l } => Requirement.Lt(key, (long)l),
            { AllowsAbsent: true } => Requirement.NotIn(key, values),
            _ => Requirement.Exists(key),
        };
    }
}
