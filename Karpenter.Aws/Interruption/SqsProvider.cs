using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.Interruption;

/// <summary>
/// The interruption queue (upstream <c>pkg/providers/sqs</c>): its URL looked up once from <c>INTERRUPTION_QUEUE</c>, then
/// long polls of up to 10 messages (20 s wait, 20 s visibility) and deletes by receipt handle.
/// </summary>
public sealed class SqsProvider(IAmazonSQS sqs, IOptions<AwsOptions> options)
{
    /// <summary>How long one receive waits for a message (SQS's maximum).</summary>
    public static readonly TimeSpan WaitTime = TimeSpan.FromSeconds(20);

    private string? _url;

    public string Name => options.Value.InterruptionQueue ?? "";

    /// <summary>The queue URL (<c>GetQueueUrl</c> once; a name that is already a URL is used as is).</summary>
    public async Task<string> UrlAsync(CancellationToken cancellationToken)
    {
        // One reconciler calls this, so there is no race; were there one, a second lookup would find the same URL.
        if (Volatile.Read(ref _url) is { } known)
        {
            return known;
        }
        var url = Name.StartsWith("https://", StringComparison.Ordinal) || Name.StartsWith("http://", StringComparison.Ordinal)
            ? Name
            : (await sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = Name }, cancellationToken)).QueueUrl;
        Volatile.Write(ref _url, url);
        return url;
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
