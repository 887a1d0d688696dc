using System.Globalization;
using System.Text;

namespace Karpenter.Aws.LaunchTemplates.UserData;

/// <summary>The few Go formatting conventions the upstream user data relies on, reproduced so that output matches byte for byte.</summary>
internal static class GoFormat
{
    /// <summary>Go's <c>strconv.Quote</c> for the printable ASCII that labels and kubelet values consist of.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A kubelet duration as written in the NodeClass, re-printed as Go prints a <c>metav1.Duration</c>.</summary>
    public static string NormalizeDuration(string value)
    {
        try
        {
            return Karpenter.Entities.GoDuration.Format(Karpenter.Entities.GoDuration.Parse(value));
        }
        catch (FormatException e)
        {
            throw new UserDataException($"kubelet duration '{value}' is not valid: {e.Message}", e);
        }
    }
}
