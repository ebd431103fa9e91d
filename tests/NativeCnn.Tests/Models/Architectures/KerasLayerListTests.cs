using NativeCnn.Models;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Tests.Models.Architectures;

/// <summary>
/// Every layer of EfficientNetB0, MobileNetV2, ResNet50 and ResNet50V2 against the TensorFlow.js mirror of the Keras builders
/// (Fixtures/*.tsv from <c>tests/reference/tfjs/describe-model.mjs</c>): name, class, output shape, parameters and inputs,
/// in order.
/// </summary>
public sealed class KerasLayerListTests
{
    // tfjs auto-names the input input_1 (Keras 2); Keras 3, and NativeCnn, call it input_layer.
    private const string FixtureInputName = "input_1";

    [Theory]
    [InlineData("efficientnet-b0", "efficientnetb0")]
    [InlineData("mobilenetv2", "mobilenetv2_1.00_224")]
    [InlineData("resnet50", "resnet50")]
    [InlineData("resnet50v2", "resnet50v2")]
    public void LayersMatchTheKerasMirror(string architecture, string modelName)
    {
        var expected = ReadFixture(architecture);
        using var model = ModelZoo.Create(architecture, new ApplicationOptions());
        Assert.Equal(modelName, model.Name);
        var rows = model.Summary().Rows;
        string Rename(string name) => name == FixtureInputName ? model.Input.Name : name;

        Assert.Equal(expected.Select(e => Rename(e.Name)), rows.Select(r => r.Name));
        for (int i = 0; i < rows.Count; i++)
        {
            var (name, className, outputShape, parameters, inbound) = expected[i];
            Assert.True(className == rows[i].ClassName, $"{name}: class {rows[i].ClassName}, expected {className}");
            Assert.True(outputShape == rows[i].OutputShape, $"{name}: output {rows[i].OutputShape}, expected {outputShape}");
            Assert.True(parameters == rows[i].Parameters, $"{name}: {rows[i].Parameters} parameters, expected {parameters}");
            Assert.Equal(inbound.Select(Rename), rows[i].ConnectedTo);
        }
    }

    internal static List<(string Name, string ClassName, string OutputShape, long Parameters, string[] Inbound)> ReadFixture(string architecture)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Models", "Architectures", "Fixtures", architecture + ".tsv");
        var rows = new List<(string, string, string, long, string[])>();
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith('#') || line.Length == 0) continue;
            string[] f = line.Split('\t');
            rows.Add((f[0], f[1], f[2], long.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture),
                      f[4].Length == 0 ? [] : f[4].Split(',')));
        }
        return rows;
    }
}
