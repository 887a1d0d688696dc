using System.Globalization;
using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;

namespace Karpenter.Aws.Batching;

/// <summary>
/// The EC2 calls the launch path batches (upstream <c>pkg/batcher</c>): identical CreateFleet requests become one call for
/// <c>TotalTargetCapacity = n</c> whose instances are split back one per caller; DescribeInstances by id and
/// TerminateInstances are merged into one call each, falling back to one call per request when the merged call fails.
/// </summary>
public sealed class Ec2Batchers : IDisposable
{
    private readonly IAmazonEC2 _ec2;

    public Ec2Batchers(IAmazonEC2 ec2, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        _ec2 = ec2;
        CreateFleetBatcher = new Batcher<CreateFleetRequest, CreateFleetResponse>(BatchWindow.CreateFleet, FleetKey, ExecuteCreateFleetAsync, time);
        DescribeBatcher = new Batcher<DescribeInstancesRequest, DescribeInstancesResponse>(BatchWindow.DescribeInstances,
            r => FilterKey(r.Filters), ExecuteDescribeAsync, time);
        TerminateBatcher = new Batcher<string, InstanceStateChange>(BatchWindow.TerminateInstances, _ => "", ExecuteTerminateAsync, time);
    }

    public Batcher<CreateFleetRequest, CreateFleetResponse> CreateFleetBatcher { get; }

    public Batcher<DescribeInstancesRequest, DescribeInstancesResponse> DescribeBatcher { get; }

    public Batcher<string, InstanceStateChange> TerminateBatcher { get; }

    /// <summary>Launches one instance (each request must ask for a capacity of 1); the response holds at most that instance.</summary>
    public Task<CreateFleetResponse> CreateFleetAsync(CreateFleetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.TargetCapacitySpecification?.TotalTargetCapacity is not 1)
        {
            throw new ArgumentException("a batched CreateFleet request must ask for exactly one instance", nameof(request));
        }
        return CreateFleetBatcher.AddAsync(request, cancellationToken);
    }

    /// <summary>Describes instances by id (with the request's filters), merged with other requests using the same filters.</summary>
    public Task<DescribeInstancesResponse> DescribeInstancesAsync(DescribeInstancesRequest request, CancellationToken cancellationToken) =>
        DescribeBatcher.AddAsync(request, cancellationToken);

    /// <summary>Terminates one instance, merged with other terminations.</summary>
    public Task<InstanceStateChange> TerminateInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        TerminateBatcher.AddAsync(instanceId, cancellationToken);

    private async Task<IReadOnlyList<BatchResult<CreateFleetResponse>>> ExecuteCreateFleetAsync(IReadOnlyList<CreateFleetRequest> inputs,
        CancellationToken cancellationToken)
    {
        var first = inputs[0];
        var merged = new CreateFleetRequest
        {
            Type = first.Type,
            Context = first.Context,
            LaunchTemplateConfigs = first.LaunchTemplateConfigs,
            SpotOptions = first.SpotOptions,
            OnDemandOptions = first.OnDemandOptions,
            TagSpecifications = first.TagSpecifications,
            TargetCapacitySpecification = new TargetCapacitySpecificationRequest
            {
                DefaultTargetCapacityType = first.TargetCapacitySpecification.DefaultTargetCapacityType,
                TotalTargetCapacity = inputs.Count,
            },
        };
        CreateFleetResponse response;
        try
        {
            response = await _ec2.CreateFleetAsync(merged, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return [.. inputs.Select(_ => BatchResult.Failed<CreateFleetResponse>(e))];
        }
        var results = new List<BatchResult<CreateFleetResponse>>(inputs.Count);
        foreach (var instance in response.Instances ?? [])
        {
            foreach (var id in instance.InstanceIds ?? [])
            {
                results.Add(BatchResult.Ok<CreateFleetResponse>(new CreateFleetResponse
                {
                    FleetId = response.FleetId,
                    Errors = response.Errors,
                    Instances =
                    [
                        new CreateFleetInstance
                        {
                            InstanceIds = [id],
                            InstanceType = instance.InstanceType,
                            LaunchTemplateAndOverrides = instance.LaunchTemplateAndOverrides,
                            Lifecycle = instance.Lifecycle,
                            Platform = instance.Platform,
                        },
                    ],
                }));
            }
        }
        // Callers left over get the fleet's errors and no instance.
        while (results.Count < inputs.Count)
        {
            results.Add(BatchResult.Ok<CreateFleetResponse>(new CreateFleetResponse { FleetId = response.FleetId, Errors = response.Errors, Instances = [] }));
        }
        return results;
    }

    private async Task<IReadOnlyList<BatchResult<DescribeInstancesResponse>>> ExecuteDescribeAsync(IReadOnlyList<DescribeInstancesRequest> inputs,
        CancellationToken cancellationToken)
    {
        var ids = inputs.SelectMany(i => i.InstanceIds ?? []).Distinct(StringComparer.Ordinal).ToList();
        var found = new Dictionary<string, (Reservation Reservation, Instance Instance)>(StringComparer.Ordinal);
        try
        {
            var response = await _ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = ids, Filters = inputs[0].Filters }, cancellationToken);
            foreach (var reservation in response.Reservations ?? [])
            {
                foreach (var instance in reservation.Instances ?? [])
                {
                    found[instance.InstanceId] = (reservation, instance);
                }
            }
        }
        catch (Amazon.Runtime.AmazonServiceException)
        {
            // One unknown id fails the whole call; describe each request on its own below.
        }
        var results = new List<BatchResult<DescribeInstancesResponse>>(inputs.Count);
        foreach (var input in inputs)
        {
            var mine = (input.InstanceIds ?? []).ToList();
            if (mine.Count > 0 && mine.All(found.ContainsKey))
            {
                results.Add(BatchResult.Ok<DescribeInstancesResponse>(new DescribeInstancesResponse
                {
                    Reservations = [.. mine.Select(id => new Reservation
                    {
                        ReservationId = found[id].Reservation.ReservationId,
                        OwnerId = found[id].Reservation.OwnerId,
                        Instances = [found[id].Instance],
                    })],
                }));
                continue;
            }
            try
            {
                results.Add(BatchResult.Ok<DescribeInstancesResponse>(await _ec2.DescribeInstancesAsync(input, cancellationToken)));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                results.Add(BatchResult.Failed<DescribeInstancesResponse>(e));
            }
        }
        return results;
    }

    private async Task<IReadOnlyList<BatchResult<InstanceStateChange>>> ExecuteTerminateAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var distinct = ids.Distinct(StringComparer.Ordinal).ToList();
        var changes = new Dictionary<string, InstanceStateChange>(StringComparer.Ordinal);
        try
        {
            var response = await _ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = distinct }, cancellationToken);
            foreach (var change in response.TerminatingInstances ?? [])
            {
                changes[change.InstanceId] = change;
            }
        }
        catch (Amazon.Runtime.AmazonServiceException) when (distinct.Count > 1)
        {
            // One unknown id fails the whole call; terminate each on its own below.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return [.. ids.Select(_ => BatchResult.Failed<InstanceStateChange>(e))];
        }
        var results = new List<BatchResult<InstanceStateChange>>(ids.Count);
        foreach (var id in ids)
        {
            if (changes.TryGetValue(id, out var change))
            {
                results.Add(BatchResult.Ok<InstanceStateChange>(change));
                continue;
            }
            try
            {
                var single = await _ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [id] }, cancellationToken);
                changes[id] = single.TerminatingInstances?.FirstOrDefault() ?? new InstanceStateChange { InstanceId = id };
                results.Add(BatchResult.Ok<InstanceStateChange>(changes[id]));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                results.Add(BatchResult.Failed<InstanceStateChange>(e));
            }
        }
        return results;
    }

    /// <summary>Requests that would send the same CreateFleet call (ignoring the SDK's client token) hash alike.</summary>
    internal static string FleetKey(CreateFleetRequest r)
    {
        var sb = new StringBuilder();
        sb.Append(r.Type?.Value).Append('|').Append(r.Context).Append('|')
            .Append(r.TargetCapacitySpecification?.DefaultTargetCapacityType?.Value).Append('|')
            .Append(r.SpotOptions?.AllocationStrategy?.Value).Append('|').Append(r.OnDemandOptions?.AllocationStrategy?.Value).Append('|');
        foreach (var config in r.LaunchTemplateConfigs ?? [])
        {
            var spec = config.LaunchTemplateSpecification;
            sb.Append("lt=").Append(spec?.LaunchTemplateName).Append('/').Append(spec?.LaunchTemplateId).Append('@').Append(spec?.Version).Append('[');
            foreach (var o in config.Overrides ?? [])
            {
                sb.Append(o.InstanceType?.Value).Append(',').Append(o.SubnetId).Append(',').Append(o.AvailabilityZone).Append(',')
                    .Append(o.ImageId).Append(',').Append(o.Priority?.ToString(CultureInfo.InvariantCulture)).Append(',').Append(o.MaxPrice).Append(';');
            }
            sb.Append(']');
        }
        foreach (var spec in r.TagSpecifications ?? [])
        {
            sb.Append("tags=").Append(spec.ResourceType?.Value).Append(':');
            foreach (var tag in (spec.Tags ?? []).OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                sb.Append(tag.Key).Append('=').Append(tag.Value).Append(',');
            }
        }
        return sb.ToString();
    }

    private static string FilterKey(List<Filter>? filters) =>
        string.Join("&", (filters ?? []).Select(f => $"{f.Name}={string.Join(",", f.Values ?? [])}"));

    public void Dispose()
    {
        CreateFleetBatcher.Dispose();
        DescribeBatcher.Dispose();
        TerminateBatcher.Dispose();
    }
}
