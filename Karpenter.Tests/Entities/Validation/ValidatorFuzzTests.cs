using System.Text.Json.Nodes;
using CsCheck;
using FluentValidation;
using k8s;
using k8s.Autorest;
using Karpenter.Entities.Validation;
using Karpenter.Kube.Entities;
using AwsV1 = Karpenter.Entities.Aws.V1;
using V1 = Karpenter.Entities.V1;

namespace Karpenter.Tests.Entities.Validation;

/// <summary>
/// Fuzzing the validating webhook's validators with generated objects carrying odd values: no exception escapes, every
/// refusal names a field path and says why, and whatever the webhook admits the API server (the committed CRDs' schema
/// and CEL rules, in the emulator) admits too.
/// </summary>
public sealed class ValidatorFuzzTests(ApiServerEnforcementTests.CrdFixture api) : IClassFixture<ApiServerEnforcementTests.CrdFixture>
{
    private const int Iterations = 150;

    private static readonly NodePoolValidator NodePools = new();
    private static readonly EC2NodeClassValidator NodeClasses = new();

    [Fact]
    public void Odd_nodepools_never_crash_the_validator_and_every_refusal_names_its_field() =>
        KarpenterObjects.Mutated(KarpenterObjects.V1NodePool).Sample(obj => ExpectClearVerdict<V1.NodePool>(NodePools, obj), iter: Iterations * 2, print: Print);

    [Fact]
    public void Odd_ec2nodeclasses_never_crash_the_validator_and_every_refusal_names_its_field() =>
        KarpenterObjects.Mutated(KarpenterObjects.V1NodeClass).Sample(obj => ExpectClearVerdict<AwsV1.EC2NodeClass>(NodeClasses, obj), iter: Iterations * 2, print: Print);

    [Fact]
    public Task What_the_webhook_admits_the_api_server_admits_nodepools() =>
        Gen.OneOf(KarpenterObjects.V1NodePool, KarpenterObjects.Mutated(KarpenterObjects.V1NodePool))
            .SampleAsync(obj => ExpectServerAdmitsWhatTheWebhookAdmitsAsync<V1.NodePool>(NodePools, obj), iter: Iterations, threads: 1, print: Print);

    [Fact]
    public Task What_the_webhook_admits_the_api_server_admits_ec2nodeclasses() =>
        Gen.OneOf(KarpenterObjects.V1NodeClass, KarpenterObjects.Mutated(KarpenterObjects.V1NodeClass))
            .SampleAsync(obj => ExpectServerAdmitsWhatTheWebhookAdmitsAsync<AwsV1.EC2NodeClass>(NodeClasses, obj), iter: Iterations, threads: 1, print: Print);

    private static void ExpectClearVerdict<T>(ApiValidator<T> validator, JsonObject obj)
        where T : CustomKubernetesEntity
    {
        if (Decode<T>(obj) is not { } typed)
        {
            return;
        }

        foreach (var failure in validator.Validate(typed, old: null, obj).Errors)
        {
            Assert.StartsWith("spec", failure.PropertyName, StringComparison.Ordinal);
            Assert.StartsWith(failure.PropertyName + ": ", failure.ErrorMessage, StringComparison.Ordinal);
            Assert.True(failure.ErrorMessage.Length > failure.PropertyName.Length + 10, $"no reason given: {failure.ErrorMessage}");
        }
    }

    private async Task ExpectServerAdmitsWhatTheWebhookAdmitsAsync<T>(ApiValidator<T> validator, JsonObject obj)
        where T : CustomKubernetesEntity
    {
        if (Decode<T>(obj) is not { } typed || validator.Validate(typed, old: null, obj).Errors.Any(e => e.Severity == Severity.Error))
        {
            return;
        }

        obj["metadata"]!["name"] = api.UniqueName();
        try
        {
            await api.CreateAsync(obj);
        }
        catch (HttpOperationException e)
        {
            Assert.Fail($"the webhook admitted what the API server refuses:\n{obj.ToJsonString()}\n{e.Response.Content}");
        }
    }

    /// <summary>
    /// The typed object the webhook host decodes, or null when it cannot decode it (the host then refuses the request
    /// with the decoder's message, e.g. a string where a number belongs, as the API server's schema does first).
    /// </summary>
    private static T? Decode<T>(JsonObject obj)
        where T : class
    {
        try
        {
            return KubernetesJson.Deserialize<T>(obj.ToJsonString());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return null;
        }
    }

    private static string Print(JsonObject obj) => obj.ToJsonString();
}
