using System.Xml.Linq;
using NativeCnn.Imaging;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Visualization;

namespace NativeCnn.Tests.Visualization;

/// <summary>The pictures: sizes computed from their inputs, pixel statistics, well-formed SVG that names what it draws.</summary>
public sealed class VisualizationTests
{
    private static readonly XNamespace s_svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void ActivationGridTilesEachChannelNormalizedOnItsOwn()
    {
        const int h = 7, w = 9, c = 5;
        using var activation = new Tensor(TensorShape.Nhwc(1, h, w, c));
        var data = activation.Span;
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            int p = (y * w + x) * c;
            data[p] = x * 10f - 3;          // a horizontal ramp
            data[p + 1] = 4.25f;            // constant
            data[p + 2] = y;                // a vertical ramp
            data[p + 3] = x == 4 && y == 3 ? float.NaN : -x * y; // one NaN
            data[p + 4] = 1e30f * (x - 4);  // huge values
        }
        var (columns, rows, scale) = ActivationGrid.Layout(h, w, c);
        Assert.Equal((3, 2, 4), (columns, rows, scale)); // ceil(sqrt 5) = 3 columns; 9 x 4 >= 32
        var image = ActivationGrid.Render(activation);
        int tileW = w * scale, tileH = h * scale;
        Assert.Equal(1 + columns * (tileW + 1), image.Width);
        Assert.Equal(1 + rows * (tileH + 1), image.Height);

        byte Pixel(int channel, int x, int y)
        {
            int left = 1 + channel % columns * (tileW + 1), top = 1 + channel / columns * (tileH + 1);
            return image.Pixels[((top + y * scale) * image.Width + left + x * scale) * 3];
        }
        for (int x = 1; x < w; x++) Assert.True(Pixel(0, x, 2) > Pixel(0, x - 1, 2));
        Assert.Equal(0, Pixel(0, 0, 0));
        Assert.Equal(255, Pixel(0, w - 1, 0));
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) Assert.Equal(128, Pixel(1, x, y));
        for (int y = 1; y < h; y++) Assert.True(Pixel(2, 0, y) > Pixel(2, 0, y - 1));
        int nan = ((1 + 1 * (tileH + 1) + 3 * scale) * image.Width + 1 + 0 * (tileW + 1) + 4 * scale) * 3; // channel 3: column 0, row 1
        Assert.Equal(new byte[] { 230, 30, 30 }, image.Pixels[nan..(nan + 3)]);
        Assert.Equal(0, Pixel(4, 0, 0));
        Assert.Equal(255, Pixel(4, w - 1, 0));
        // The gap between tiles and the empty sixth cell are the dark background.
        Assert.Equal(40, image.Pixels[0]);
        Assert.Equal(40, image.Pixels[((image.Height - 2) * image.Width + image.Width - 2) * 3]);
    }

    [Fact]
    public void ActivationGridRefusesWhatHasNoMapOrWouldBeHuge()
    {
        using var features = new Tensor(new TensorShape(1, 10));
        Assert.Throws<ArgumentException>(() => ActivationGrid.Render(features));
        using var big = new Tensor(TensorShape.Nhwc(1, 600, 600, 400));
        var e = Assert.Throws<ArgumentException>(() => ActivationGrid.Render(big, 400));
        Assert.Contains("show fewer channels", e.Message);
    }

    private static ProfileBar[] Bars(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new ProfileBar($"layer_{i}<&>", i % 2 == 0 ? "Conv2D+BN+Activation" : "Add", 0.1 + i * 0.01, i % 2 == 0 ? 10 + i : 0))];

    [Fact]
    public void ProfileChartKeepsTheSlowestStepsAndSumsTheRest()
    {
        var bars = Bars(50);
        var rows = ProfileChart.Rows(bars, maxBars: 10);
        Assert.Equal(10, rows.Count);
        Assert.Equal(bars.OrderByDescending(b => b.Milliseconds).Take(9).Select(b => b.Name), rows.Take(9).Select(r => r.Name));
        var rest = bars.OrderByDescending(b => b.Milliseconds).Skip(9).ToArray();
        Assert.Equal("others (41 steps)", rows[9].Name);
        Assert.Equal(rest.Sum(b => b.Milliseconds), rows[9].Milliseconds, 9);
        Assert.Equal(rest.Sum(b => b.GigaFlops * b.Milliseconds) / rest.Sum(b => b.Milliseconds), rows[9].GigaFlops, 9);
        Assert.Equal(5, ProfileChart.Rows(Bars(5), maxBars: 10).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfileChart.Rows([new ProfileBar("x", "", double.NaN, 0)]));
    }

    [Fact]
    public void ProfileChartSvgIsWellFormedAndEscapesNames()
    {
        string svg = ProfileChart.ToSvg(Bars(12), "model <x> & co");
        var document = XDocument.Parse(svg);
        var steps = document.Descendants(s_svg + "g").Where(g => (string?)g.Attribute("class") == "step").ToArray();
        Assert.Equal(12, steps.Length);
        Assert.Contains(document.Descendants(s_svg + "text"), t => t.Value == "layer_11<&>");
        var timeBars = steps.Select(g => double.Parse(g.Elements(s_svg + "rect").First(r => (string?)r.Attribute("class") == "time").Attribute("width")!.Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(timeBars.OrderDescending(), timeBars);
        Assert.Equal(320, timeBars[0], 6);
    }

    [Fact]
    public void ProfileChartPngDecodesWithBarsAsLongAsTheTimes()
    {
        var bars = new[] { new ProfileBar("slow", "Conv2D", 2.0, 50), new ProfileBar("fast", "Add", 0.5, 0) };
        using var stream = new MemoryStream();
        PngEncoder.Write(stream, ProfileChart.ToImage(bars, "t"));
        var image = ImageDecoder.Decode(stream.ToArray());
        int BlueRun(int y)
        {
            int count = 0;
            for (int x = 0; x < image.Width; x++)
            {
                int i = (y * image.Width + x) * 3;
                if (image.Pixels[i] == 70 && image.Pixels[i + 1] == 110 && image.Pixels[i + 2] == 200) count++;
            }
            return count;
        }
        // Rows start at 8 + 16 * (row + 2); a bar is 12 pixels high from 2 pixels below the row's top.
        Assert.Equal(320, BlueRun(8 + 16 * 2 + 6));
        Assert.Equal(80, BlueRun(8 + 16 * 3 + 6));
        Assert.Throws<ArgumentException>(() => ProfileChart.Write("chart.bmp", bars, "t"));
    }

    [Fact]
    public void ModelGraphOfEfficientNetCollapsesItsSixteenBlocks()
    {
        using var model = ModelZoo.Create("efficientnet-b0", new ApplicationOptions { Resolution = 32 });
        var boxes = ModelGraph.Boxes(model);
        var blocks = boxes.Where(b => b.Nodes.Count > 1).Select(b => b.Name).ToArray();
        Assert.Equal(16, blocks.Length);
        Assert.Equal(["block1a", "block2a", "block2b", "block3a", "block3b", "block4a", "block4b", "block4c", "block5a", "block5b", "block5c",
                      "block6a", "block6b", "block6c", "block6d", "block7a"], blocks);
        Assert.Equal(model.Nodes.Count, boxes.Sum(b => b.Nodes.Count));
        Assert.Contains(boxes, b => b.Name == "stem_conv");
        Assert.Contains(boxes, b => b.Name == "predictions");

        var document = XDocument.Parse(ModelGraph.ToSvg(model));
        Assert.Equal(boxes.Count, document.Descendants(s_svg + "g").Count(g => (string?)g.Attribute("class") is "block" or "layer"));
        var edgeLabels = document.Descendants(s_svg + "g").Where(g => ((string?)g.Attribute("class"))?.StartsWith("edge", StringComparison.Ordinal) == true)
            .Select(g => g.Element(s_svg + "text")!.Value).ToHashSet();
        Assert.Contains(model.Nodes.Single(n => n.Name == "stem_activation").OutputShape.ToKerasString(), edgeLabels);
        // Collapsed, the residual adds stay inside their blocks; expanded, they skip layers and are drawn as arcs.
        Assert.Empty(document.Descendants(s_svg + "path"));
        var expanded = XDocument.Parse(ModelGraph.ToSvg(model, collapseBlocks: false));
        Assert.Equal(model.Nodes.Count, expanded.Descendants(s_svg + "g").Count(g => (string?)g.Attribute("class") == "layer"));
        Assert.True(expanded.Descendants(s_svg + "path").Count() >= 9, "B0's 9 residual adds and its SE multiplies skip layers");
    }

    [Fact]
    public void ModelGraphExpandedHasOneBoxPerLayerAndEscapesNames()
    {
        var input = Node.Input(8, 8, 3, "in<put>");
        var a = new Conv2D("a&b", 4, 3, 1, NativeCnn.Backends.Padding.Same).Call(input);
        var b = new Conv2D("c\"d", 4, 1).Call(a);
        var sum = new Add("block1a_add").Call(a, b);
        using var model = new Model("tiny", input, sum);
        var document = XDocument.Parse(ModelGraph.ToSvg(model, collapseBlocks: false));
        var names = document.Descendants(s_svg + "g").Where(g => (string?)g.Attribute("class") == "layer")
            .Select(g => g.Elements(s_svg + "text").First().Value).ToArray();
        Assert.Equal(["in<put>", "a&b", "c\"d", "block1a_add"], names);
        Assert.Equal(model.Nodes.Count, ModelGraph.Boxes(model, collapseBlocks: false).Count);
        Assert.Equal("block2a", ModelGraph.BlockOf("block2a_expand_conv"));
        Assert.Equal("conv2_block1", ModelGraph.BlockOf("conv2_block1_1_conv"));
        Assert.Equal("block_3", ModelGraph.BlockOf("block_3_expand"));
        Assert.Null(ModelGraph.BlockOf("stem_conv"));
    }

    [Fact]
    public void InspectDrawsTheThreePictures()
    {
        string folder = Directory.CreateTempSubdirectory("nativecnn-pictures").FullName;
        try
        {
            string[] arch = ["mobilenetv2", "--alpha", "0.35", "--resolution", "32"];
            var profile = CommandLineTool.Inspect.Run(["profile", .. arch, "--runs", "2", "--plot", Path.Combine(folder, "profile.png")]);
            Assert.True(profile.ExitCode == 0, profile.Stderr);
            var chart = ImageDecoder.Decode(Path.Combine(folder, "profile.png"));
            Assert.Equal(8 * 2 + 16 * (ProfileChart.DefaultMaxBars + 2), chart.Height); // MobileNetV2 has more steps than the chart shows

            var summary = CommandLineTool.Inspect.Run(["summary", .. arch, "--plot", Path.Combine(folder, "graph.svg")]);
            Assert.True(summary.ExitCode == 0, summary.Stderr);
            Assert.Contains(XDocument.Load(Path.Combine(folder, "graph.svg")).Descendants(s_svg + "text"), t => t.Value == "block_3");

            var image = new RgbImage(20, 20, [.. Enumerable.Range(0, 1200).Select(i => (byte)(i % 251))]);
            PngEncoder.Write(Path.Combine(folder, "in.png"), image);
            var activations = CommandLineTool.Inspect.Run(["activations", .. arch, "--image", Path.Combine(folder, "in.png"), "--layer", "block_1_expand_relu",
                                                           "--png", Path.Combine(folder, "act.png")]);
            Assert.True(activations.ExitCode == 0, activations.Stderr);
            var grid = ImageDecoder.Decode(Path.Combine(folder, "act.png"));
            using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 32 });
            var shape = model.Nodes.Single(n => n.Name == "block_1_expand_relu").OutputShape;
            var (columns, rows, scale) = ActivationGrid.Layout(shape.Height, shape.Width, shape.Channels);
            Assert.Equal((1 + columns * (shape.Width * scale + 1), 1 + rows * (shape.Height * scale + 1)), (grid.Width, grid.Height));

            var wrongFormat = CommandLineTool.Inspect.Run(["summary", .. arch, "--plot", Path.Combine(folder, "graph.bmp")]);
            Assert.Equal(2, wrongFormat.ExitCode);
            Assert.Contains("'.bmp'", wrongFormat.Stderr);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
