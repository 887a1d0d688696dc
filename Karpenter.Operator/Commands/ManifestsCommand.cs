using System.CommandLine;

namespace Karpenter.Operator.Commands;

/// <summary><c>manifests --output config</c>: writes the CRDs, RBAC, webhook configurations and Deployment from the types.</summary>
internal static class ManifestsCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Directory to write the kustomize bases into (created if missing).",
            DefaultValueFactory = _ => new DirectoryInfo("config"),
        };
        var ns = new Option<string>("--namespace")
        {
            Description = "Namespace the operator runs in.",
            DefaultValueFactory = _ => new ManifestOptions().Namespace,
        };
        var image = new Option<string>("--image")
        {
            Description = "Container image of the operator.",
            DefaultValueFactory = _ => new ManifestOptions().Image,
        };
        var command = new Command("manifests", "Write the CRDs, RBAC, webhook configurations and Deployment generated from the types.") { output, ns, image };
        command.SetAction(async (parseResult, ct) =>
        {
            var directory = parseResult.GetValue(output)!;
            var options = new ManifestOptions { Namespace = parseResult.GetValue(ns)!, Image = parseResult.GetValue(image)! };
            IReadOnlyList<string> written;
            try
            {
                written = Manifests.Write(directory.FullName, options);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync($"karpenter manifests: could not write {directory.FullName}: {e.Message}");
                return 1;
            }

            foreach (var path in written)
            {
                ct.ThrowIfCancellationRequested();
                await parseResult.InvocationConfiguration.Output.WriteLineAsync(Path.GetRelativePath(Environment.CurrentDirectory, path));
            }

            return 0;
        });
        return command;
    }
}
