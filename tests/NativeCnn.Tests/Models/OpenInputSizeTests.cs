using System.Text.Json;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Tests.Weights;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Tests.Models;

/// <summary>
/// Models whose input is <c>(None, None, None, C)</c>: they stay open through the config reader and writer, the model
/// file and the converter, and run at the size they are given, sharing one set of weights.
/// </summary>
public sealed class OpenInputSizeTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-open-size").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    // Conv (stride 2, same) → BN → swish → depthwise (valid) → add-free head: GAP → Dense, so any size of at least 4 runs.
    private const string OpenConfig = """
        {"class_name": "Functional", "config": {"name": "open",
         "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, null, null, 3], "dtype": "float32", "name": "image"}, "name": "image", "inbound_nodes": []},
          {"class_name": "Conv2D", "config": {"name": "conv", "filters": 6, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "activation": "linear", "use_bias": false},
           "name": "conv", "inbound_nodes": [[["image", 0, 0, {}]]]},
          {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "epsilon": 0.001}, "name": "bn", "inbound_nodes": [[["conv", 0, 0, {}]]]},
          {"class_name": "Activation", "config": {"name": "act", "activation": "swish"}, "name": "act", "inbound_nodes": [[["bn", 0, 0, {}]]]},
          {"class_name": "DepthwiseConv2D", "config": {"name": "dw", "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "depth_multiplier": 1, "use_bias": true, "activation": "relu6"},
           "name": "dw", "inbound_nodes": [[["act", 0, 0, {}]]]},
          {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap"}, "name": "gap", "inbound_nodes": [[["dw", 0, 0, {}]]]},
          {"class_name": "Dense", "config": {"name": "dense", "units": 4, "activation": "softmax", "use_bias": true}, "name": "dense", "inbound_nodes": [[["gap", 0, 0, {}]]]}
         ],
         "input_layers": [["image", 0, 0]], "output_layers": [["dense", 0, 0]]}}
        """;

    private static void FillWeights(Model model, int seed)
    {
        var random = new Random(seed);
        foreach (var layer in model.Layers)
            foreach (var weight in layer.Weights)
            {
                var span = weight.Value.Span;
                // Variances stay positive; everything else in [-1, 1).
                for (int i = 0; i < span.Length; i++)
                    span[i] = weight.Name == "moving_variance" ? 0.5f + random.NextSingle() : 2 * random.NextSingle() - 1;
            }
    }

    private static void CopyWeights(Model from, Model to)
    {
        foreach (var layer in from.Layers)
            foreach (var weight in layer.Weights)
                weight.Value.Span.CopyTo(to.GetLayer(layer.Name).GetWeight(weight.Name).Value.Span);
    }

    private static Tensor RandomInput(int batch, int height, int width, int seed)
    {
        var random = new Random(seed);
        var shape = TensorShape.Nhwc(batch, height, width, 3);
        var values = new float[shape.ElementCount];
        for (int i = 0; i < values.Length; i++) values[i] = 2 * random.NextSingle() - 1;
        return Tensor.FromArray(values, shape);
    }

    private static float[] PredictFixed(Model open, Tensor x)
    {
        using var fixedSize = KerasModelConfig.Build(OpenConfig, inputHeight: x.Shape.Height, inputWidth: x.Shape.Width);
        Assert.False(fixedSize.InputSizeIsOpen);
        CopyWeights(open, fixedSize);
        using var y = fixedSize.Predict(x);
        return y.Span.ToArray();
    }

    [Fact]
    public void AnOpenConfigStaysOpenThroughTheReaderAndWriter()
    {
        using var model = KerasModelConfig.Build(OpenConfig);
        Assert.True(model.InputSizeIsOpen);
        var input = Assert.IsType<InputLayer>(model.Input.Layer);
        Assert.Equal("(None, None, None, 3)", input.ToKerasString());
        Assert.Equal(TensorShape.Nhwc(1, InputLayer.OpenSizePlaceholder, InputLayer.OpenSizePlaceholder, 3), input.Shape);

        using var json = JsonDocument.Parse(KerasModelConfig.ToJson(model));
        var shape = json.RootElement.GetProperty("config").GetProperty("layers")[0].GetProperty("config").GetProperty("batch_input_shape");
        Assert.Equal("[null,null,null,3]", shape.GetRawText());
        using var rebuilt = KerasModelConfig.Build(KerasModelConfig.ToJson(model));
        Assert.True(rebuilt.InputSizeIsOpen);

        // Fixing one dimension leaves the other open; fixing both closes the input.
        using var tall = KerasModelConfig.Build(OpenConfig, inputHeight: 40);
        Assert.Equal("(None, 40, None, 3)", ((InputLayer)tall.Input.Layer).ToKerasString());
        using var closed = KerasModelConfig.Build(OpenConfig, inputHeight: 40, inputWidth: 24);
        Assert.False(closed.InputSizeIsOpen);
        Assert.Equal(TensorShape.Nhwc(1, 40, 24, 3), closed.Input.OutputShape);
    }

    [Fact]
    public void WithInputSizeSharesTheLayersAndComputesWhatAModelBuiltAtThatSizeComputes()
    {
        using var open = KerasModelConfig.Build(OpenConfig);
        FillWeights(open, seed: 3);
        using var resized = open.WithInputSize(17, 29);
        Assert.True(resized.InputSizeIsOpen);
        Assert.Equal(TensorShape.Nhwc(1, 17, 29, 3), resized.Input.OutputShape);
        Assert.Equal(TensorShape.Nhwc(1, 7, 13, 6), resized.Nodes.Single(n => n.Name == "dw").OutputShape);
        Assert.Same(open.GetLayer("conv"), resized.GetLayer("conv"));
        Assert.Equal(open.ParameterCount, resized.ParameterCount);

        using var x = RandomInput(2, 17, 29, seed: 5);
        using var y = resized.Predict(x);
        Assert.Equal(PredictFixed(open, x), y.Span.ToArray());

        // Disposing the resized model leaves the original's weights alive, as for any two models sharing layers.
        resized.Dispose();
        using var again = open.Predict(x);
        Assert.Equal(y.Span.ToArray(), again.Span.ToArray());
    }

    [Fact]
    public void PredictRunsAnOpenModelAtTheSizeOfEachInput()
    {
        using var open = KerasModelConfig.Build(OpenConfig);
        FillWeights(open, seed: 8);
        foreach (var (height, width) in new[] { (32, 32), (9, 41), (224, 224), (32, 32) })
        {
            using var x = RandomInput(1, height, width, seed: height * 100 + width);
            using var y = open.Predict(x);
            Assert.Equal(new TensorShape(1, 4), y.Shape);
            Assert.Equal(PredictFixed(open, x), y.Span.ToArray());
        }

        // Too small for the valid 3x3 depthwise window after the stride-2 conv: the layer is named.
        using var tiny = RandomInput(1, 3, 3, seed: 1);
        var e = Assert.Throws<LayerException>(() => open.Predict(tiny));
        Assert.Contains("dw", e.Message);
        Assert.Contains("3x3", e.Message);
    }

    [Fact]
    public void AFixedModelRefusesOtherSizesAndASizeBoundWeightRefusesToResize()
    {
        using var closed = KerasModelConfig.Build(OpenConfig, inputHeight: 16, inputWidth: 16);
        using var x = RandomInput(1, 20, 16, seed: 2);
        var e = Assert.Throws<LayerException>(() => closed.Predict(x));
        Assert.Contains("(None, 16, 16, 3)", e.Message);

        // Flatten → Dense has a kernel sized by the pixel count: another size cannot reuse it.
        using var flat = KerasModelConfig.Build("""
            {"class_name": "Sequential", "config": {"name": "flat", "layers": [
              {"class_name": "Conv2D", "config": {"name": "conv", "batch_input_shape": [null, null, null, 3], "filters": 2, "kernel_size": [3, 3], "padding": "same", "activation": "relu"}},
              {"class_name": "Flatten", "config": {"name": "flatten"}},
              {"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "linear"}}
            ]}}
            """, inputHeight: 8, inputWidth: 8);
        Assert.False(flat.InputSizeIsOpen);
        var error = Assert.Throws<LayerException>(() => flat.WithInputSize(10, 8));
        Assert.Contains("out", error.Message);
        Assert.Contains("10x8", error.Message);
    }

    [Fact]
    public void AModelFileKeepsTheOpenSizeAndInspectRunsAnArrayAtItsOwnSize()
    {
        using var open = KerasModelConfig.Build(OpenConfig);
        FillWeights(open, seed: 13);
        string file = Path.Combine(_work, "open.safetensors");
        ModelFile.Save(open, file);
        using (var loaded = ModelFile.Load(file)) Assert.True(loaded.InputSizeIsOpen);

        using var x = RandomInput(2, 21, 35, seed: 4);
        string xPath = Path.Combine(_work, "x.npy"), yPath = Path.Combine(_work, "y.npy");
        NpyFile.Write(xPath, x);
        var result = CommandLineTool.Inspect.Run(["run", "--model", file, "--input", xPath, "--output", yPath]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var y = NpyFile.Read(yPath);
        Assert.Equal(new TensorShape(2, 4), y.Shape);
        Assert.Equal(PredictFixed(open, x), y.Span.ToArray());
    }

    [Fact]
    public void TheConverterKeepsAnOpenTensorFlowJsModelOpenAndItsFlagsStillFixTheSize()
    {
        using var open = KerasModelConfig.Build(OpenConfig);
        FillWeights(open, seed: 21);
        string modelJson = HostileModelFiles.WriteTensorFlowJs(Path.Combine(_work, "tfjs"), open, OpenConfig);

        string converted = Path.Combine(_work, "open.safetensors");
        var result = CommandLineTool.WeightsConverter.Run([modelJson, "-o", converted]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using (var loaded = ModelFile.Load(converted))
        {
            Assert.True(loaded.InputSizeIsOpen);
            using var x = RandomInput(1, 19, 23, seed: 6);
            using var y = loaded.Predict(x);
            Assert.Equal(PredictFixed(open, x), y.Span.ToArray());
        }

        string fixedPath = Path.Combine(_work, "fixed.safetensors");
        result = CommandLineTool.WeightsConverter.Run([modelJson, "-o", fixedPath, "--height", "40", "--width", "48"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var fixedSize = ModelFile.Load(fixedPath);
        Assert.False(fixedSize.InputSizeIsOpen);
        Assert.Equal(TensorShape.Nhwc(1, 40, 48, 3), fixedSize.Input.OutputShape);
    }
}
