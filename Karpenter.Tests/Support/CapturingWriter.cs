using System.Text;

namespace Karpenter.Tests.Support;

/// <summary>A thread-safe <see cref="TextWriter"/> that keeps what a command prints, for tests that read its output while it runs.</summary>
internal sealed class CapturingWriter : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly Lock _gate = new();

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get
        {
            lock (_gate)
            {
                return _text.ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (_gate)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            _text.Append(value);
        }
    }
}
