using System.Security.Cryptography;
using System.Text;

namespace Karpenter.Sim.Aws.World;

internal sealed class SqsQueue
{
    public required string Name { get; init; }

    public required string Arn { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public Dictionary<string, string> Attributes { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

    public List<SqsMessage> Messages { get; } = [];

    /// <summary>Completed (and replaced) whenever a message arrives, to wake long polls.</summary>
    public TaskCompletionSource Arrival { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TimeSpan VisibilityTimeout => TimeSpan.FromSeconds(IntAttribute("VisibilityTimeout", 30));

    public TimeSpan RetentionPeriod => TimeSpan.FromSeconds(IntAttribute("MessageRetentionPeriod", 345600));

    public int IntAttribute(string name, int fallback) =>
        Attributes.TryGetValue(name, out var v) && int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : fallback;
}

internal sealed class SqsMessage
{
    public required string MessageId { get; init; }

    public required string Body { get; init; }

    public required DateTimeOffset SentAt { get; init; }

    public DateTimeOffset VisibleAt { get; set; }

    public int ReceiveCount { get; set; }

    public DateTimeOffset? FirstReceivedAt { get; set; }

    public string? ReceiptHandle { get; set; }

#pragma warning disable CA5351 // MD5OfBody is part of the SQS wire protocol (the SDK verifies it), not a security measure.
    public string Md5OfBody => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(Body)));
#pragma warning restore CA5351
}

/// <summary>SQS queues and the EventBridge rules that feed them.</summary>
public sealed partial class AwsWorld
{
    private readonly HashSet<string> _eventQueues = new(StringComparer.Ordinal);

    internal SortedDictionary<string, SqsQueue> Queues { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Routes EC2 and AWS Health events (interruptions, rebalance, scheduled changes, state changes) to this queue,
    /// like Karpenter's EventBridge rules. Until any queue is routed, events go to every queue that exists.
    /// </summary>
    public void RouteEventsToQueue(string queueName) => Locked(() => _eventQueues.Add(queueName));

    /// <summary>Creates a queue from the simulator side (Karpenter expects its interruption queue to exist).</summary>
    public void CreateQueue(string queueName) => Locked(() => CreateQueueInternal(queueName, new Dictionary<string, string>()));

    /// <summary>The bodies of the messages waiting in a queue (visible or in flight), oldest first.</summary>
    public IReadOnlyList<string> QueueMessages(string queueName) => Locked(() =>
    {
        if (!Queues.TryGetValue(queueName, out var queue))
        {
            throw new ArgumentException($"No queue '{queueName}'.", nameof(queueName));
        }

        ExpireMessages(queue);
        return queue.Messages.Select(m => m.Body).ToList();
    });

    internal SqsQueue CreateQueueInternal(string name, IReadOnlyDictionary<string, string> attributes)
    {
        if (!Queues.TryGetValue(name, out var queue))
        {
            queue = new SqsQueue { Name = name, Arn = $"arn:aws:sqs:{Region}:{AccountId}:{name}", CreatedAt = Now };
            Queues[name] = queue;
        }

        foreach (var (key, value) in attributes)
        {
            queue.Attributes[key] = value;
        }

        return queue;
    }

    internal SqsMessage Enqueue(SqsQueue queue, string body, TimeSpan delay)
    {
        var message = new SqsMessage { MessageId = NewGuid(), Body = body, SentAt = Now, VisibleAt = Now + delay };
        queue.Messages.Add(message);
        var arrival = queue.Arrival;
        queue.Arrival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        arrival.TrySetResult();
        return message;
    }

    internal void ExpireMessages(SqsQueue queue)
    {
        var cutoff = Now - queue.RetentionPeriod;
        queue.Messages.RemoveAll(m => m.SentAt < cutoff);
    }

    internal void SendEvent(string body)
    {
        IEnumerable<SqsQueue> targets = _eventQueues.Count == 0
            ? Queues.Values
            : _eventQueues.Where(Queues.ContainsKey).Select(n => Queues[n]);
        foreach (var queue in targets.ToList())
        {
            Enqueue(queue, body, TimeSpan.Zero);
        }
    }
}
