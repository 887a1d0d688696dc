using System.Globalization;
using System.Xml.Linq;

namespace Karpenter.Sim.Aws.Protocol;

/// <summary>Small builders for Query-protocol XML: elements that vanish when their value is null, EC2 item sets.</summary>
internal static class Xml
{
    public static XElement? E(string name, object? value) => value switch
    {
        null => null,
        bool b => new XElement(name, b ? "true" : "false"),
        DateTimeOffset t => new XElement(name, Timestamp(t)),
        double d => new XElement(name, d.ToString("0.0#########", CultureInfo.InvariantCulture)),
        _ => new XElement(name, value),
    };

    public static XElement Node(string name, params object?[] children) => new(name, children.Where(c => c is not null));

    /// <summary>EC2 list: <c>&lt;nameSet&gt;&lt;item&gt;…&lt;/item&gt;&lt;/nameSet&gt;</c>.</summary>
    public static XElement Set(string name, IEnumerable<object?> items) =>
        new(name, items.Select(i => i is XElement { Name.LocalName: "item" } ? i : new XElement("item", i)));

    public static XElement ValueSet(string name, IEnumerable<string> values) =>
        new(name, values.Select(v => new XElement("item", v)));

    /// <summary>IAM list: <c>&lt;name&gt;&lt;member&gt;…&lt;/member&gt;&lt;/name&gt;</c>.</summary>
    public static XElement Members(string name, IEnumerable<object?> members) =>
        new(name, members.Select(m => new XElement("member", m)));

    public static XElement TagSet(IEnumerable<KeyValuePair<string, string>> tags) =>
        new("tagSet", tags.Select(t => new XElement("item", new XElement("key", t.Key), new XElement("value", t.Value))));

    public static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string Document(XElement root, XNamespace ns)
    {
        foreach (var element in root.DescendantsAndSelf())
        {
            element.Name = ns + element.Name.LocalName;
        }

        return new XDeclaration("1.0", "UTF-8", null) + Environment.NewLine + root.ToString(SaveOptions.DisableFormatting);
    }
}
