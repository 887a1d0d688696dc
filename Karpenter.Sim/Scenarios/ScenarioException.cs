namespace Karpenter.Sim.Scenarios;

/// <summary>A scenario that cannot be read or run, with where in which file the problem is.</summary>
public sealed class ScenarioException : Exception
{
    public ScenarioException(string message)
        : base(message)
    {
    }

    public ScenarioException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ScenarioException()
    {
    }

    public ScenarioException(SourcePosition position, string message, Exception? innerException = null)
        : base($"{position}: {message}", innerException)
    {
        Position = position;
    }

    /// <summary>Where the problem is, when known.</summary>
    public SourcePosition? Position { get; }
}
