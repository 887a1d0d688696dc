using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.World;

namespace Karpenter.Sim.Aws.Sqs;

/// <summary>
/// SQS over awsJson 1.0 (<c>X-Amz-Target: AmazonSQS.*</c>): queues, send, receive with long polling and
/// visibility timeouts on the world's clock, delete. <c>MD5OfBody</c> is the lowercase hex MD5 of the UTF-8 body,
/// which the SDK verifies.
/// </summary>
internal sealed class SqsApi(AwsWorld world) : IAwsApi
{
    private const string TypePrefix = "com.amazonaws.sqs#";

    public string Service => "sqs";

    public async Task<ApiResponse> InvokeAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        var json = request.Json;
        if (request.Action == "ReceiveMessage")
        {
            return await ReceiveMessageAsync(request, cancellationToken);
        }

        return world.Locked(() => request.Action switch
        {
            "CreateQueue" => CreateQueue(request),
            "GetQueueUrl" => Json.Ok(new JsonObject { ["QueueUrl"] = Url(request, QueueNamed(Json.RequiredStr(json, "QueueName"))) }, "1.0"),
            "ListQueues" => ListQueues(request),
            "DeleteQueue" => Remove(Queue(json)),
            "PurgeQueue" => Purge(Queue(json)),
            "SendMessage" => SendMessage(json),
            "DeleteMessage" => DeleteMessage(json),
            "ChangeMessageVisibility" => ChangeMessageVisibility(json),
            "GetQueueAttributes" => GetQueueAttributes(json),
            "SetQueueAttributes" => SetQueueAttributes(json),
            _ => throw new AwsServiceException("InvalidAction", $"The action {request.Action} is not valid for this web service.") { QueryErrorCode = "InvalidAction" },
        });
    }

    public ApiResponse Error(AwsServiceException error, string requestId) => Json.Error(error, "1.0", TypePrefix);

    private static string Url(ApiRequest request, SqsQueue queue) => $"{request.BaseUrl}/{queue.Arn.Split(':')[4]}/{queue.Name}";

    private static AwsServiceException NoQueue() =>
        new("QueueDoesNotExist", "The specified queue does not exist.") { QueryErrorCode = "AWS.SimpleQueueService.NonExistentQueue" };

    private SqsQueue QueueNamed(string name) => world.Queues.TryGetValue(name, out var q) ? q : throw NoQueue();

    private SqsQueue Queue(JsonObject? json)
    {
        var url = Json.RequiredStr(json, "QueueUrl");
        var name = url.TrimEnd('/');
        name = name[(name.LastIndexOf('/') + 1)..];
        return QueueNamed(name);
    }

    private ApiResponse CreateQueue(ApiRequest request)
    {
        var name = Json.RequiredStr(request.Json, "QueueName");
        if (name.Length > 80 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) && !(name.EndsWith(".fifo", StringComparison.Ordinal)))
        {
            throw new AwsServiceException("InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length") { QueryErrorCode = "InvalidParameterValue" };
        }

        var attributes = request.Json?["Attributes"] is JsonObject a
            ? a.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? "", StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        if (world.Queues.TryGetValue(name, out var existing) &&
            attributes.Any(kv => existing.Attributes.TryGetValue(kv.Key, out var v) && v != kv.Value))
        {
            throw new AwsServiceException("QueueNameExists", "A queue already exists with the same name and a different value for attribute(s)") { QueryErrorCode = "QueueAlreadyExists" };
        }

        var queue = world.CreateQueueInternal(name, attributes);
        if (request.Json?["tags"] is JsonObject tags)
        {
            foreach (var (key, value) in tags)
            {
                queue.Tags[key] = value?.GetValue<string>() ?? "";
            }
        }

        return Json.Ok(new JsonObject { ["QueueUrl"] = Url(request, queue) }, "1.0");
    }

    private ApiResponse ListQueues(ApiRequest request)
    {
        var prefix = Json.Str(request.Json, "QueueNamePrefix") ?? "";
        var urls = world.Queues.Values.Where(q => q.Name.StartsWith(prefix, StringComparison.Ordinal)).Select(q => (JsonNode)Url(request, q)).ToArray();
        return Json.Ok(urls.Length == 0 ? new JsonObject() : new JsonObject { ["QueueUrls"] = new JsonArray(urls) }, "1.0");
    }

    private ApiResponse Remove(SqsQueue queue)
    {
        world.Queues.Remove(queue.Name);
        return Json.Ok(new JsonObject(), "1.0");
    }

    private static ApiResponse Purge(SqsQueue queue)
    {
        queue.Messages.Clear();
        return Json.Ok(new JsonObject(), "1.0");
    }

    private ApiResponse SendMessage(JsonObject? json)
    {
        var queue = Queue(json);
        var body = Json.RequiredStr(json, "MessageBody");
        if (System.Text.Encoding.UTF8.GetByteCount(body) > 262144)
        {
            throw new AwsServiceException("InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.") { QueryErrorCode = "InvalidParameterValue" };
        }

        var delay = Json.Int(json, "DelaySeconds") ?? queue.IntAttribute("DelaySeconds", 0);
        var message = world.Enqueue(queue, body, TimeSpan.FromSeconds(delay));
        return Json.Ok(new JsonObject { ["MessageId"] = message.MessageId, ["MD5OfMessageBody"] = message.Md5OfBody }, "1.0");
    }

    private async Task<ApiResponse> ReceiveMessageAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        var json = request.Json;
        var max = Json.Int(json, "MaxNumberOfMessages") ?? 1;
        if (max is < 1 or > 10)
        {
            throw new AwsServiceException("InvalidParameterValue",
                $"Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
            { QueryErrorCode = "InvalidParameterValue" };
        }

        var wait = Json.Int(json, "WaitTimeSeconds");
        if (wait is < 0 or > 20)
        {
            throw new AwsServiceException("InvalidParameterValue",
                $"Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.")
            { QueryErrorCode = "InvalidParameterValue" };
        }

        var attributeNames = Json.Strings(json, "AttributeNames").Concat(Json.Strings(json, "MessageSystemAttributeNames")).ToHashSet(StringComparer.Ordinal);
        var deadline = world.Locked(() => world.Now + TimeSpan.FromSeconds(wait ?? Queue(json).IntAttribute("ReceiveMessageWaitTimeSeconds", 0)));
        while (true)
        {
            var (messages, arrival, nextVisible) = world.Locked(() =>
            {
                var queue = Queue(json);
                var received = Receive(queue, max, Json.Int(json, "VisibilityTimeout"), attributeNames);
                var upcoming = queue.Messages.Where(m => m.VisibleAt > world.Now).Select(m => (DateTimeOffset?)m.VisibleAt).Min();
                return (received, queue.Arrival.Task, upcoming);
            });
            var now = world.Locked(() => world.Now);
            if (messages.Count > 0 || now >= deadline)
            {
                return Json.Ok(messages.Count == 0 ? new JsonObject() : new JsonObject { ["Messages"] = new JsonArray(messages.ToArray()) }, "1.0");
            }

            // Sleep on the world's clock until a message arrives, one becomes visible again, or the poll ends.
            var until = nextVisible is { } v && v < deadline ? v : deadline;
            var remaining = until - world.Time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                continue;
            }

            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(remaining, world.Time, wake.Token);
            await Task.WhenAny(arrival, delay);
            await wake.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private List<JsonNode> Receive(SqsQueue queue, int max, int? visibilitySeconds, HashSet<string> attributeNames)
    {
        world.ExpireMessages(queue);
        var now = world.Now;
        var visibility = visibilitySeconds is { } s ? TimeSpan.FromSeconds(s) : queue.VisibilityTimeout;
        var all = attributeNames.Contains("All");
        var result = new List<JsonNode>();
        foreach (var message in queue.Messages.Where(m => m.VisibleAt <= now).Take(max))
        {
            message.ReceiveCount++;
            message.FirstReceivedAt ??= now;
            message.VisibleAt = now + visibility;
            message.ReceiptHandle = Convert.ToBase64String(Guid.Parse(world.NewGuid()).ToByteArray()) + "/" + message.MessageId;
            var item = new JsonObject
            {
                ["MessageId"] = message.MessageId,
                ["ReceiptHandle"] = message.ReceiptHandle,
                ["MD5OfBody"] = message.Md5OfBody,
                ["Body"] = message.Body,
            };
            var attributes = new JsonObject();
            void Add(string name, string value)
            {
                if (all || attributeNames.Contains(name))
                {
                    attributes[name] = value;
                }
            }

            Add("SentTimestamp", message.SentAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
            Add("ApproximateReceiveCount", message.ReceiveCount.ToString(CultureInfo.InvariantCulture));
            Add("ApproximateFirstReceiveTimestamp", message.FirstReceivedAt.Value.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
            Add("SenderId", "AIDAEMULATOR");
            if (attributes.Count > 0)
            {
                item["Attributes"] = attributes;
            }

            result.Add(item);
        }

        return result;
    }

    private ApiResponse DeleteMessage(JsonObject? json)
    {
        var queue = Queue(json);
        var handle = Json.RequiredStr(json, "ReceiptHandle");
        var message = queue.Messages.FirstOrDefault(m => m.ReceiptHandle == handle);
        if (message is null)
        {
            // SQS accepts a stale handle of a message that is already gone; it refuses one it never issued.
            if (!handle.Contains('/', StringComparison.Ordinal))
            {
                throw new AwsServiceException("ReceiptHandleIsInvalid", $"The input receipt handle \"{handle}\" is not a valid receipt handle.") { QueryErrorCode = "ReceiptHandleIsInvalid" };
            }

            return Json.Ok(new JsonObject(), "1.0");
        }

        queue.Messages.Remove(message);
        return Json.Ok(new JsonObject(), "1.0");
    }

    private ApiResponse ChangeMessageVisibility(JsonObject? json)
    {
        var queue = Queue(json);
        var handle = Json.RequiredStr(json, "ReceiptHandle");
        var message = queue.Messages.FirstOrDefault(m => m.ReceiptHandle == handle)
            ?? throw new AwsServiceException("MessageNotInflight", "Value for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.") { QueryErrorCode = "AWS.SimpleQueueService.MessageNotInflight" };
        message.VisibleAt = world.Now + TimeSpan.FromSeconds(Json.Int(json, "VisibilityTimeout") ?? 0);
        return Json.Ok(new JsonObject(), "1.0");
    }

    private ApiResponse GetQueueAttributes(JsonObject? json)
    {
        var queue = Queue(json);
        world.ExpireMessages(queue);
        var now = world.Now;
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["QueueArn"] = queue.Arn,
            ["ApproximateNumberOfMessages"] = queue.Messages.Count(m => m.VisibleAt <= now).ToString(CultureInfo.InvariantCulture),
            ["ApproximateNumberOfMessagesNotVisible"] = queue.Messages.Count(m => m.VisibleAt > now && m.ReceiveCount > 0).ToString(CultureInfo.InvariantCulture),
            ["ApproximateNumberOfMessagesDelayed"] = queue.Messages.Count(m => m.VisibleAt > now && m.ReceiveCount == 0).ToString(CultureInfo.InvariantCulture),
            ["CreatedTimestamp"] = queue.CreatedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["VisibilityTimeout"] = ((int)queue.VisibilityTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            ["MessageRetentionPeriod"] = ((int)queue.RetentionPeriod.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            ["DelaySeconds"] = queue.IntAttribute("DelaySeconds", 0).ToString(CultureInfo.InvariantCulture),
            ["ReceiveMessageWaitTimeSeconds"] = queue.IntAttribute("ReceiveMessageWaitTimeSeconds", 0).ToString(CultureInfo.InvariantCulture),
            ["MaximumMessageSize"] = queue.IntAttribute("MaximumMessageSize", 262144).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in queue.Attributes)
        {
            values.TryAdd(key, value);
        }

        var names = Json.Strings(json, "AttributeNames");
        var selected = names.Count == 0 || names.Contains("All") ? values : values.Where(kv => names.Contains(kv.Key)).ToDictionary();
        var attributes = new JsonObject();
        foreach (var (key, value) in selected)
        {
            attributes[key] = value;
        }

        return Json.Ok(new JsonObject { ["Attributes"] = attributes }, "1.0");
    }

    private ApiResponse SetQueueAttributes(JsonObject? json)
    {
        var queue = Queue(json);
        if (json?["Attributes"] is JsonObject a)
        {
            foreach (var (key, value) in a)
            {
                queue.Attributes[key] = value?.GetValue<string>() ?? "";
            }
        }

        return Json.Ok(new JsonObject(), "1.0");
    }
}
