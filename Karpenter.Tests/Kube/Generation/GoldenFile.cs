using System.Runtime.CompilerServices;

namespace Karpenter.Tests.Kube.Generation;

/// <summary>
/// Compares generated text with a file committed next to the tests. Run with <c>UPDATE_GOLDEN=1</c> to rewrite the
/// files after an intended change, then review the diff.
/// </summary>
internal static class GoldenFile
{
    public static void ExpectMatches(string relativePath, string actual, [CallerFilePath] string callerFile = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(callerFile)!, relativePath);
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"The golden file {path} is missing; run the test with UPDATE_GOLDEN=1 to create it.");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (expected != actual)
        {
            var expectedLines = expected.Split('\n');
            var actualLines = actual.Split('\n');
            var line = 0;
            while (line < Math.Min(expectedLines.Length, actualLines.Length) && expectedLines[line] == actualLines[line])
            {
                line++;
            }

            Assert.Fail(
                $"{relativePath} differs from the generated output at line {line + 1}:\n" +
                $"  golden:    {(line < expectedLines.Length ? expectedLines[line] : "<end>")}\n" +
                $"  generated: {(line < actualLines.Length ? actualLines[line] : "<end>")}\n" +
                "Run with UPDATE_GOLDEN=1 if the change is intended.");
        }
    }
}
