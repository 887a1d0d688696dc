using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.Interruption;

/// <summary>
/// The interruption queue (upstream <c>pkg/providers/sqs</c>): its URL looked up once from <c>INTERRUPTION_QUEUE</c>, then
/// long polls of up to 10 messages (20 s wait, 20 s visibility) and deletes by receipt handle.
/// </summary>
public sealed class InterruptionQueue(IAmazonSQS sqs, IOptions<AwsOptions> options)
{
    /// <summary>How long one receive waits for a message (SQS's maximum).</summary>
    public static readonly TimeSpan WaitTime = TimeSpan.FromSeconds(20);

    private readonly SemaphoreSlim _urlLock = new(1, 1);
    private string? _url;

    public string Name => options.Value.InterruptionQueue ?? "";

    /// <summary>The queue URL (<c>GetQueueUrl</c> once; a name that is already a URL is used as is).</summary>
    public async Task<string> UrlAsync(CancellationToken cancellationToken)
    {
        if (_url is { } known)
        {
            return known;
        }
        await _urlLock.WaitAsync(cancellationToken);
        try
        {
            if (_url is null)
            {
                _url = Name.StartsWith("https://", StringComparison.Ordinal) || Name.StartsWith("http://", StringComparison.Ordinal)
                    ? Name
                    : (await sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = Name }, cancellationToken)).QueueUrl;
            }
            return _url;
        }
        finally
        {
            _urlLock.Release();
        }
    }

    /// <summary>Waits up to <see cref="WaitTime"/> for up to 10 messages.</summary>
    public async Task<IReadOnlyList<Message>> ReceiveAsync(CancellationToken cancellationToken)
    {
        var url = await UrlAsync(cancellationToken);
        var response = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest
        {
            QueueUrl = url,
            MaxNumberOfMessages = 10,
            VisibilityTimeout = 20,
            WaitTimeSeconds = (int)WaitTime.TotalSeconds,
            MessageSystemAttributeNames = ["SentTimestamp"],
            MessageAttributeNames = ["All"],
        }, cancellationToken);
        return response.Messages ?? [];
    }

    public async Task DeleteAsync(Message message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var url = await UrlAsync(cancellationToken);
        await sqs.DeleteMessageAsync(new DeleteMessageRequest { QueueUrl = url, ReceiptHandle = message.ReceiptHandle }, cancellationToken);
    }
}
