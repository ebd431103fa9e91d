using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Tests.Models;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Weights;

/// <summary>Models rebuilt from Keras configs: real TensorFlow.js-serialized configs run end to end, and Keras 3 forms.</summary>
public sealed class KerasModelConfigTests(ITestOutputHelper output)
{
    [ReferenceTheory(ExternalReference.TensorFlowJs)]
    [InlineData("mobilenetv2", 0.35, 96, true)]
    [InlineData("efficientnet-b0", 1.0, 224, false)]
    [InlineData("resnet50", 1.0, 64, true)]
    public void ConfigSerializedByTensorFlowJsRebuildsTheSameModel(string arch, double alpha, int resolution, bool customHead)
    {
        string work = Directory.CreateTempSubdirectory($"nativecnn-config-{arch}-").FullName;
        try
        {
            string[] model = ["--arch", arch, "--resolution", $"{resolution}", .. arch == "mobilenetv2" ? ["--alpha", $"{alpha}"] : Array.Empty<string>()];
            string exported = Directory.CreateDirectory(Path.Combine(work, "exported")).FullName, input = Path.Combine(exported, "x.npy");
            TensorFlowJsReference.Run("make-random-weights.mjs", [.. model, "--out", Path.Combine(work, "weights"), "--seed", "11"]);
            TensorFlowJsReference.Run("make-random-input.mjs", "--arch", arch, "--resolution", $"{resolution}", "--out", input, "--seed", "4");
            TensorFlowJsReference.Run("export-config.mjs", [.. model, "--weights", Path.Combine(work, "weights"), "--input", input,
                "--out-dir", exported, .. customHead ? ["--head"] : Array.Empty<string>()]);

            using var rebuilt = KerasModelConfig.Build(File.ReadAllText(Path.Combine(exported, "model-config.json")));
            NpyWeightDirectory.Load(rebuilt, Path.Combine(exported, "weights"));
            using var zoo = ModelZoo.Create(arch, new ApplicationOptions { Alpha = alpha, Resolution = resolution });
            if (!customHead)
            {
                // The config path and the builder must agree layer for layer (the input layer's name aside).
                Assert.Equal(zoo.Layers.Skip(1).Select(l => $"{l.Name}:{l.ClassName}"), rebuilt.Layers.Skip(1).Select(l => $"{l.Name}:{l.ClassName}"));
                Assert.Equal(zoo.ParameterCount, rebuilt.ParameterCount);
            }
            else
            {
                Assert.Equal("head_predictions", rebuilt.Output.Name);
                Assert.Equal(10, rebuilt.Output.OutputShape.Channels);
            }

            TensorFlowJsReference.AssertMatchesExport(rebuilt, exported, output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void KerasThreeFunctionalConfigWithTensorHistoriesAndActivationObjects()
    {
        using var model = KerasModelConfig.Build("""
            {"module": "keras", "class_name": "Functional", "config": {"name": "k3", "trainable": true,
             "layers": [
              {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 9, 7, 3], "dtype": "float32", "name": "input_layer"}, "name": "input_layer", "inbound_nodes": []},
              {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "swish", "use_bias": true,
                "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}},
               "name": "conv", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 9, 7, 3], "dtype": "float32", "keras_history": ["input_layer", 0, 0]}}], "kwargs": {}}]},
              {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "epsilon": 1.001e-05, "center": true, "scale": false},
               "name": "bn", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["conv", 0, 0]}}], "kwargs": {"training": false}}]},
              {"module": "keras.layers", "class_name": "Add", "config": {"name": "add"},
               "name": "add", "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__", "config": {"keras_history": ["conv", 0, 0]}},
                                                          {"class_name": "__keras_tensor__", "config": {"keras_history": ["bn", 0, 0]}}]], "kwargs": {}}]},
              {"module": "keras.layers", "class_name": "GlobalAveragePooling2D", "config": {"name": "gap", "data_format": "channels_last", "keepdims": false},
               "name": "gap", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["add", 0, 0]}}], "kwargs": {}}]},
              {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 5,
                "activation": {"module": "keras.activations", "class_name": "function", "config": {"name": "softmax"}}, "use_bias": true},
               "name": "dense", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["gap", 0, 0]}}], "kwargs": {}}]}
             ],
             "input_layers": ["input_layer", 0, 0], "output_layers": ["dense", 0, 0]}}
            """);
        Assert.Equal("k3", model.Name);
        Assert.Equal(["input_layer", "conv", "bn", "add", "gap", "dense"], model.Layers.Select(l => l.Name));
        Assert.Equal(new TensorShape(1, 5, 4, 4), model.Nodes.Single(n => n.Name == "conv").OutputShape);
        var bn = Assert.IsType<BatchNormalization>(model.GetLayer("bn"));
        Assert.Equal(1.001e-5, bn.Epsilon);
        Assert.Equal(3 * 3 * 3 * 4 + 4 + 3 * 4 + 4 * 5 + 5, model.ParameterCount);
        Assert.Equal(new TensorShape(1, 5), model.Output.OutputShape);
    }

    [Fact]
    public void SequentialWithInputShapeOnTheFirstLayerAndNestedFunctionalBase()
    {
        using var model = KerasModelConfig.Build("""
            {"class_name": "Sequential", "config": {"name": "seq", "layers": [
              {"class_name": "Functional", "config": {"name": "base",
                "layers": [
                  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, null, null, 2], "name": "base_in"}, "name": "base_in", "inbound_nodes": []},
                  {"class_name": "DepthwiseConv2D", "config": {"name": "dw", "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "depth_multiplier": 2, "use_bias": false, "activation": "relu6"},
                   "name": "dw", "inbound_nodes": [[["base_in", 0, 0, {}]]]}],
                "input_layers": [["base_in", 0, 0]], "output_layers": [["dw", 0, 0]]},
               "name": "base", "inbound_nodes": []},
              {"class_name": "Flatten", "config": {"name": "flatten"}},
              {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.5}},
              {"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "linear"}}
            ]}}
            """, inputHeight: 6, inputWidth: 5);
        Assert.Equal(["base_in", "dw", "flatten", "drop", "out"], model.Layers.Select(l => l.Name));
        Assert.Equal(new TensorShape(1, 4, 3, 4), model.Nodes.Single(n => n.Name == "dw").OutputShape);
        Assert.Equal(3 * 3 * 2 * 2 + 48 * 3 + 3, model.ParameterCount);
    }

    [Fact]
    public void TrainableFlagsAreReadWrittenAndANestedFrozenModelFreezesItsLayers()
    {
        using var model = KerasModelConfig.Build("""
            {"class_name": "Sequential", "config": {"name": "seq", "layers": [
              {"class_name": "Functional", "config": {"name": "base", "trainable": false,
                "layers": [
                  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 5, 2], "name": "base_in"}, "name": "base_in", "inbound_nodes": []},
                  {"class_name": "Conv2D", "config": {"name": "conv", "trainable": true, "filters": 3, "kernel_size": [3, 3], "activation": "relu"},
                   "name": "conv", "inbound_nodes": [[["base_in", 0, 0, {}]]]}],
                "input_layers": [["base_in", 0, 0]], "output_layers": [["conv", 0, 0]]},
               "name": "base", "inbound_nodes": []},
              {"class_name": "BatchNormalization", "config": {"name": "bn", "trainable": false}},
              {"class_name": "Flatten", "config": {"name": "flatten"}},
              {"class_name": "Dense", "config": {"name": "out", "units": 3}}
            ]}}
            """);
        Assert.False(model.Layers.Single(l => l.Name == "conv").Trainable);
        Assert.False(model.Layers.Single(l => l.Name == "bn").Trainable);
        Assert.True(model.Layers.Single(l => l.Name == "out").Trainable);
        Assert.Equal(4 * 3 * 3 * 3 + 3, model.TrainableParameterCount); // only the Dense head (36 inputs, 3 units)

        using var rebuilt = KerasModelConfig.Build(KerasModelConfig.ToJson(model));
        Assert.Equal(model.Layers.Select(l => (l.Name, l.Trainable)), rebuilt.Layers.Select(l => (l.Name, l.Trainable)));
        Assert.Throws<InvalidDataException>(() => KerasModelConfig.Build(System.Text.RegularExpressions.Regex.Replace(KerasModelConfig.ToJson(model), "\"trainable\":\\s*false", "\"trainable\": 0")));
    }

    [Fact]
    public void NormalizationWithStatisticsInItsConfigHoldsThemAsConstants()
    {
        string Config(string arguments) => """
            {"class_name": "Sequential", "config": {"name": "seq", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2, 2, 3], "name": "in"}},
              {"class_name": "Normalization", "config": {"name": "norm", "axis": -1, ARGUMENTS}}
            ]}}
            """.Replace("ARGUMENTS", arguments, StringComparison.Ordinal);
        using var model = KerasModelConfig.Build(Config("\"mean\": [1.0, 2.0, 3.0], \"variance\": [4.0, 16.0, 0.25]"));
        var norm = Assert.IsType<Normalization>(model.GetLayer("norm"));
        Assert.True(norm.StatisticsAreConstants);
        Assert.Equal(0, model.ParameterCount);
        using var input = new Tensor(TensorShape.Nhwc(1, 2, 2, 3));
        input.Span.Fill(5f);
        using var output = model.Predict(input);
        Assert.Equal([2f, 0.75f, 4f], output.Span[..3].ToArray());

        // Written back with its statistics, so it rebuilds without weights; a scalar applies to every channel.
        using var rebuilt = KerasModelConfig.Build(KerasModelConfig.ToJson(model));
        Assert.True(((Normalization)rebuilt.GetLayer("norm")).StatisticsAreConstants);
        using var again = rebuilt.Predict(input);
        Assert.Equal(output.Span.ToArray(), again.Span.ToArray());
        using var scalar = KerasModelConfig.Build(Config("\"mean\": 1.0, \"variance\": 4.0"));
        using var scaled = scalar.Predict(input);
        Assert.All(scaled.Span.ToArray(), v => Assert.Equal(2f, v));

        Assert.Contains("go together", Assert.Throws<InvalidDataException>(() => KerasModelConfig.Build(Config("\"mean\": [1.0, 2.0, 3.0]"))).Message);
        Assert.Contains("must match", Assert.Throws<InvalidDataException>(() => KerasModelConfig.Build(Config("\"mean\": [1.0, 2.0], \"variance\": [1.0]"))).Message);
        Assert.Contains("negative", Assert.Throws<InvalidDataException>(() => KerasModelConfig.Build(Config("\"mean\": 0.0, \"variance\": -1.0"))).Message);
        Assert.Contains("channels", Assert.ThrowsAny<Exception>(() => KerasModelConfig.Build(Config("\"mean\": [1.0, 2.0], \"variance\": [1.0, 1.0]"))).Message);
    }

    [Fact]
    public void HardSigmoidMeansWhatTheKerasThatWroteTheConfigMeant()
    {
        const string layer = """{"class_name": "Activation", "config": {"name": "hs", "activation": "hard_sigmoid"}}""";
        ActivationFunction Read(string json)
        {
            using var model = KerasModelConfig.Build(json);
            return Assert.IsType<Activation>(model.GetLayer("hs")).Function;
        }
        // A Keras 2 or TensorFlow.js config (no version, list-form inbound nodes): clip(0.2x + 0.5, 0, 1).
        Assert.Equal(ActivationFunction.HardSigmoidKeras2, Read(Sequential(layer)));
        string versioned(string version) => Sequential(layer).TrimEnd().TrimEnd('}') + $$$"""}, "keras_version": "{{{version}}}"}""";
        Assert.Equal(ActivationFunction.HardSigmoidKeras2, Read(versioned("2.15.0")));
        Assert.Equal(ActivationFunction.HardSigmoidKeras2, Read(versioned("tfjs-layers 4.22.0")));
        // Keras 3, by its version or by its call form: relu6(x + 3) / 6.
        Assert.Equal(ActivationFunction.HardSigmoid, Read(versioned("3.6.0")));
        string keras3 = """
            {"class_name": "Functional", "config": {"name": "k3", "layers": [
              {"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 4, 2], "name": "in"}, "name": "in", "inbound_nodes": []},
              {"class_name": "Activation", "config": {"name": "hs", "activation": "hard_sigmoid"}, "name": "hs",
               "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}], "kwargs": {}}]}],
             "input_layers": ["in", 0, 0], "output_layers": ["hs", 0, 0]}}
            """;
        Assert.Equal(ActivationFunction.HardSigmoid, Read(keras3));

        // Written back, each meaning keeps its version; a model with both has no config.
        foreach (var function in new[] { ActivationFunction.HardSigmoid, ActivationFunction.HardSigmoidKeras2 })
        {
            var input = Node.Input(4, 4, 2);
            using var model = new Model("m", input, new Activation("hs", function).Call(input));
            Assert.Equal(function, Read(KerasModelConfig.ToJson(model)));
        }
        var x = Node.Input(4, 4, 2);
        using var both = new Model("both", x, new Add("add").Call(new Activation("a", ActivationFunction.HardSigmoid).Call(x),
                                                                   new Activation("b", ActivationFunction.HardSigmoidKeras2).Call(x)));
        Assert.Contains("both Keras 2's and Keras 3's hard_sigmoid", Assert.Throws<NotSupportedException>(() => KerasModelConfig.ToJson(both)).Message);
    }

    [Theory]
    [InlineData("""{"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 3, "data_format": "channels_first"}}""", "c (Conv2D): data_format 'channels_first'")]
    [InlineData("""{"class_name": "ReLU", "config": {"name": "leaky", "negative_slope": 0.2}}""", "leaky (ReLU): negative_slope")]
    [InlineData("""{"class_name": "Conv2D", "config": {"name": "g", "filters": 2, "kernel_size": 3, "groups": 2}}""", "g (Conv2D): groups")]
    [InlineData("""{"class_name": "LSTM", "config": {"name": "rnn", "units": 4}}""", "rnn: layer class 'LSTM'")]
    [InlineData("""{"class_name": "Activation", "config": {"name": "act", "activation": "mish"}}""", "act (Activation): Activation 'mish'")]
    public void UnsupportedLayersAndArgumentsAreNamed(string layer, string expectedMessage)
    {
        var e = Assert.Throws<NotSupportedException>(() => KerasModelConfig.Build(Sequential(layer)));
        Assert.Contains(expectedMessage, e.Message);
    }

    [Fact]
    public void EveryUnsupportedLayerClassIsListedInOneError()
    {
        // A Sequential nested in a Sequential, with three unknown classes (one used twice) around supported layers.
        string inner = """{"class_name": "Sequential", "config": {"name": "inner", "layers": [{"class_name": "PixelShuffle", "config": {"name": "shuffle"}}, {"class_name": "LSTM", "config": {"name": "rnn_2"}}]}}""";
        string json = $$$"""
            {"class_name": "Sequential", "config": {"name": "outer", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "in"}},
              {"class_name": "LSTM", "config": {"name": "rnn"}},
              {"class_name": "Flatten", "config": {"name": "flat"}},
              {"class_name": "MultiplyBeta", "config": {"name": "beta"}},
              {{{inner}}}]}}
            """;
        var e = Assert.Throws<NotSupportedException>(() => KerasModelConfig.Build(json));
        Assert.Equal("4 layers have classes that are not supported: 'LSTM' (rnn, rnn_2); 'MultiplyBeta' (beta); 'PixelShuffle' (shuffle).", e.Message);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("""{"class_name": "Sequential"}""", "has no 'config'")]
    [InlineData("""{"class_name": "Functional", "config": {"name": "f", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 1], "name": "in"}, "inbound_nodes": []}, {"class_name": "Add", "config": {"name": "a"}, "inbound_nodes": [[["in", 0, 0, {}], ["ghost", 0, 0, {}]]]}], "input_layers": [["in", 0, 0]], "output_layers": [["a", 0, 0]]}}""", "a: inbound layer 'ghost' is not defined")]
    [InlineData("""{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Flatten", "config": {"name": "f"}}]}}""", "f_input: no batch_input_shape")]
    public void BrokenConfigsAreRejectedWithTheReason(string json, string expectedMessage)
    {
        var e = Assert.Throws<InvalidDataException>(() => KerasModelConfig.Build(json));
        Assert.Contains(expectedMessage, e.Message);
    }

    private static string Sequential(string layer) => $$$"""
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 2], "name": "in"}},
          {{{layer}}}
        ]}}
        """;
}
