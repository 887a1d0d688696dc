using System.Text;

namespace Karpenter.Sim.KubeApi;

/// <summary>Writes a kubeconfig that <c>kubectl</c> (and <c>KubernetesClientConfiguration.BuildConfigFromConfigFile</c>) accept.</summary>
internal static class Kubeconfig
{
    public static string Render(Uri server, string? certificateAuthorityPem, string contextName, string? defaultNamespace)
    {
        var sb = new StringBuilder();
        sb.Append("apiVersion: v1\nkind: Config\nclusters:\n- name: ").Append(contextName).Append('\n');
        sb.Append("  cluster:\n    server: ").Append(server.GetLeftPart(UriPartial.Authority)).Append('\n');
        if (certificateAuthorityPem is not null)
        {
            sb.Append("    certificate-authority-data: ")
              .Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(certificateAuthorityPem))).Append('\n');
        }

        sb.Append("users:\n- name: ").Append(contextName).Append("-admin\n  user:\n    token: karpenter-sim\n");
        sb.Append("contexts:\n- name: ").Append(contextName).Append("\n  context:\n    cluster: ").Append(contextName)
          .Append("\n    user: ").Append(contextName).Append("-admin\n");
        if (!string.IsNullOrEmpty(defaultNamespace))
        {
            sb.Append("    namespace: ").Append(defaultNamespace).Append('\n');
        }

        sb.Append("current-context: ").Append(contextName).Append('\n');
        return sb.ToString();
    }
}
