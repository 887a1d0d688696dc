using System.Reflection;
using System.Text;
using System.Xml.Linq;

namespace Karpenter.Kube.Generation;

/// <summary>
/// Reads the XML documentation file the compiler writes beside an assembly (<c>GenerateDocumentationFile</c>) and
/// turns a member's <c>&lt;summary&gt;</c> into plain text for schema descriptions.
/// </summary>
public sealed class XmlDocumentation
{
    private readonly Dictionary<Assembly, Dictionary<string, string>> _byAssembly = [];
    private readonly Lock _gate = new();

    /// <summary>The summary of a type, or null when it has none (or the documentation file is missing).</summary>
    public string? Summary(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Lookup(type.Assembly, "T:" + DocId(type));
    }

    /// <summary>The summary of a property, or null.</summary>
    public string? Summary(PropertyInfo property)
    {
        ArgumentNullException.ThrowIfNull(property);
        var declaring = property.DeclaringType!;
        return Lookup(declaring.Assembly, "P:" + DocId(declaring) + "." + property.Name);
    }

    /// <summary>The summary of an enum member or field, or null.</summary>
    public string? Summary(FieldInfo field)
    {
        ArgumentNullException.ThrowIfNull(field);
        var declaring = field.DeclaringType!;
        return Lookup(declaring.Assembly, "F:" + DocId(declaring) + "." + field.Name);
    }

    private static string DocId(Type type)
    {
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            type = type.GetGenericTypeDefinition();
        }

        return (type.FullName ?? type.Name).Replace('+', '.');
    }

    private string? Lookup(Assembly assembly, string id)
    {
        Dictionary<string, string> members;
        lock (_gate)
        {
            if (!_byAssembly.TryGetValue(assembly, out members!))
            {
                members = Load(assembly);
                _byAssembly[assembly] = members;
            }
        }

        return members.TryGetValue(id, out var text) ? text : null;
    }

    private static Dictionary<string, string> Load(Assembly assembly)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(assembly.Location))
        {
            return result;
        }

        var path = Path.ChangeExtension(assembly.Location, ".xml");
        if (!File.Exists(path))
        {
            return result;
        }

        var document = XDocument.Load(path);
        foreach (var member in document.Descendants("member"))
        {
            var name = member.Attribute("name")?.Value;
            var summary = member.Element("summary");
            if (name is null || summary is null)
            {
                continue;
            }

            var text = Render(summary);
            if (text.Length > 0)
            {
                result[name] = text;
            }
        }

        return result;
    }

    /// <summary>Plain text: inline code keeps its text, references their short name, paragraphs become lines.</summary>
    private static string Render(XElement summary)
    {
        var paragraphs = new List<string>();
        var current = new StringBuilder();

        void Flush()
        {
            var text = Collapse(current.ToString());
            if (text.Length > 0)
            {
                paragraphs.Add(text);
            }

            current.Clear();
        }

        void Walk(XNode node)
        {
            switch (node)
            {
                case XText text:
                    current.Append(text.Value);
                    break;
                case XElement { Name.LocalName: "para" } para:
                    Flush();
                    foreach (var child in para.Nodes())
                    {
                        Walk(child);
                    }

                    Flush();
                    break;
                case XElement { Name.LocalName: "see" or "seealso" } see:
                    current.Append(see.Attribute("langword")?.Value ?? ShortName(see.Attribute("cref")?.Value) ?? see.Value);
                    break;
                case XElement { Name.LocalName: "paramref" or "typeparamref" } reference:
                    current.Append(reference.Attribute("name")?.Value);
                    break;
                case XElement element:
                    foreach (var child in element.Nodes())
                    {
                        Walk(child);
                    }

                    break;
            }
        }

        foreach (var node in summary.Nodes())
        {
            Walk(node);
        }

        Flush();
        return string.Join("\n", paragraphs);
    }

    private static string? ShortName(string? cref)
    {
        if (cref is null)
        {
            return null;
        }

        var name = cref.Contains(':', StringComparison.Ordinal) ? cref[(cref.IndexOf(':', StringComparison.Ordinal) + 1)..] : cref;
        var paren = name.IndexOf('(', StringComparison.Ordinal);
        if (paren >= 0)
        {
            name = name[..paren];
        }

        var dot = name.LastIndexOf('.');
        return dot >= 0 ? name[(dot + 1)..] : name;
    }

    private static string Collapse(string text)
    {
        var builder = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = builder.Length > 0;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
