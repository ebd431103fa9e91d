using System.Text;
using System.Text.RegularExpressions;
using NativeCnn.Layers;
using NativeCnn.Models;

namespace NativeCnn.Visualization;

/// <summary>
/// A model's layer graph as SVG, top to bottom in the model's (topological) order: one box per layer, or with
/// <c>collapseBlocks</c> one box per Keras block (the layers sharing a block prefix: <c>block2a_</c> in EfficientNet,
/// <c>conv2_block1_</c> in ResNet, <c>block_3_</c> and <c>expanded_conv_</c> in MobileNetV2), each box's tooltip listing
/// its layers. Edges carry the tensor shape; an edge that skips boxes (a residual) is drawn as an arc on the right.
/// </summary>
public static partial class ModelGraph
{
    /// <summary>The most boxes drawn; a larger graph ends with one box naming how many were left out, so the SVG stays bounded.</summary>
    public const int MaxBoxes = 2000;

    private const int BoxWidth = 320, BoxHeight = 36, Spacing = 64, Left = 40, Top = 40;

    /// <summary>One box of the graph: a layer, or a block of consecutive layers.</summary>
    /// <param name="Name">The layer's name, or the block's prefix.</param>
    /// <param name="Label">The second line: the layer's class, or the block's layer count.</param>
    /// <param name="Nodes">The layers' nodes, in model order.</param>
    public sealed record Box(string Name, string Label, IReadOnlyList<Node> Nodes);

    /// <summary>The boxes of <paramref name="model"/>'s graph (see <see cref="ToSvg"/>), at most <see cref="MaxBoxes"/>.</summary>
    public static IReadOnlyList<Box> Boxes(Model model, bool collapseBlocks = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        var boxes = new List<Box>();
        var current = new List<Node>();
        string? currentBlock = null;
        void Flush()
        {
            if (current.Count == 0) return;
            boxes.Add(currentBlock is null || current.Count == 1 && current[0].Name == currentBlock
                ? new Box(current[0].Name, current[0].Layer.ClassName, [.. current])
                : new Box(currentBlock, $"{current.Count} layers", [.. current]));
            current.Clear();
        }
        foreach (var node in model.Nodes)
        {
            string? block = collapseBlocks ? BlockOf(node.Name) : null;
            if (block is null || block != currentBlock) Flush();
            currentBlock = block;
            current.Add(node);
            if (block is null) Flush();
        }
        Flush();
        return boxes;
    }

    /// <summary>The Keras block a layer name belongs to, or null for a layer outside blocks (stem, top).</summary>
    public static string? BlockOf(string layerName)
    {
        ArgumentNullException.ThrowIfNull(layerName);
        var match = BlockPrefix().Match(layerName);
        return match.Success ? match.Groups[1].Value : null;
    }

    [GeneratedRegex(@"^(block\d+[a-z]|conv\d+_block\d+|block_\d+|expanded_conv)_")]
    private static partial Regex BlockPrefix();

    /// <summary>The graph as an SVG document.</summary>
    public static string ToSvg(Model model, bool collapseBlocks = true)
    {
        var all = Boxes(model, collapseBlocks);
        var boxes = all.Count <= MaxBoxes ? all : [.. all.Take(MaxBoxes - 1), new Box($"... {all.Count - MaxBoxes + 1} more", "not drawn", [])];
        var boxOf = new Dictionary<Node, int>();
        for (int i = 0; i < boxes.Count; i++) foreach (var node in boxes[i].Nodes) boxOf[node] = i;

        var edges = new List<(int From, int To, string Shape)>();
        for (int i = 0; i < boxes.Count; i++)
        {
            var seen = new HashSet<int>();
            foreach (var node in boxes[i].Nodes)
            {
                foreach (var input in node.Inputs)
                {
                    if (!boxOf.TryGetValue(input, out int from) || from == i || !seen.Add(from)) continue;
                    edges.Add((from, i, input.OutputShape.ToKerasString()));
                }
            }
        }
        int width = Left + BoxWidth + 260, height = Top * 2 + boxes.Count * Spacing;
        var svg = new StringBuilder();
        svg.Append($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">""").Append('\n');
        svg.Append($"""<rect width="{width}" height="{height}" fill="white"/>""").Append('\n');
        svg.Append($"""<text x="{Left}" y="24" font-weight="bold" font-size="14">{Svg.Escape(Svg.Shorten(model.Name, 80))}: {model.Layers.Count} layers, {model.ParameterCount:N0} parameters</text>""").Append('\n');
        foreach (var (from, to, shape) in edges)
        {
            double x = Left + BoxWidth / 2.0, y0 = Top + from * Spacing + BoxHeight, y1 = Top + to * Spacing;
            if (to - from == 1)
            {
                svg.Append($"""<g class="edge"><line x1="{Svg.Number(x)}" y1="{Svg.Number(y0)}" x2="{Svg.Number(x)}" y2="{Svg.Number(y1)}" stroke="#888"/>""");
                svg.Append($"""<text x="{Svg.Number(x + 6)}" y="{Svg.Number((y0 + y1) / 2 + 4)}" fill="#555">{Svg.Escape(shape)}</text></g>""").Append('\n');
            }
            else
            {
                double right = Left + BoxWidth, bulge = right + 30 + Math.Min(200, 12 * (to - from));
                double ya = Top + from * Spacing + BoxHeight / 2.0, yb = Top + to * Spacing + BoxHeight / 2.0;
                svg.Append($"""<g class="edge skip"><path d="M {Svg.Number(right)} {Svg.Number(ya)} C {Svg.Number(bulge)} {Svg.Number(ya)}, {Svg.Number(bulge)} {Svg.Number(yb)}, {Svg.Number(right)} {Svg.Number(yb)}" fill="none" stroke="#c06060"/>""");
                svg.Append($"""<text x="{Svg.Number(bulge - 20)}" y="{Svg.Number((ya + yb) / 2)}" fill="#a04040">{Svg.Escape(shape)}</text></g>""").Append('\n');
            }
        }
        for (int i = 0; i < boxes.Count; i++)
        {
            var box = boxes[i];
            int y = Top + i * Spacing;
            bool block = box.Nodes.Count > 1;
            string tooltip = string.Join("\n", box.Nodes.Take(60).Select(n => $"{n.Name} ({n.Layer.ClassName}) {n.OutputShape.ToKerasString()}"))
                             + (box.Nodes.Count > 60 ? $"\n... {box.Nodes.Count - 60} more" : "");
            svg.Append($"""<g class="{(block ? "block" : "layer")}"><title>{Svg.Escape(tooltip)}</title>""");
            svg.Append($"""<rect x="{Left}" y="{y}" width="{BoxWidth}" height="{BoxHeight}" rx="6" fill="{(block ? "#e8eefc" : "#f4f4f4")}" stroke="{(block ? "#4669c8" : "#999")}"/>""");
            svg.Append($"""<text x="{Left + 10}" y="{y + 15}" font-weight="bold">{Svg.Escape(Svg.Shorten(box.Name, 44))}</text>""");
            svg.Append($"""<text x="{Left + 10}" y="{y + 30}" fill="#555">{Svg.Escape(Svg.Shorten(box.Label, 50))}</text></g>""").Append('\n');
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Writes <see cref="ToSvg"/> to <paramref name="path"/> (an <c>.svg</c> file).</summary>
    /// <exception cref="ArgumentException">The extension is not <c>.svg</c>.</exception>
    public static void Write(string path, Model model, bool collapseBlocks = true)
    {
        if (PictureFormats.Of(path) != PictureFormat.Svg) throw new ArgumentException($"{path}: the layer graph is written as .svg.", nameof(path));
        File.WriteAllText(path, ToSvg(model, collapseBlocks));
    }
}
