using System.Collections;
using System.Reflection;
using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Layers.Config;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Tests.Layers;

/// <summary>
/// The Keras layer registry: every built-in class writes a config that reads back into the same layer, every layer class
/// of the library has an entry, custom classes load once registered, and unknown classes are all named in one error.
/// </summary>
public sealed class KerasLayerRegistryTests
{
    /// <summary>One layer with representative (mostly non-default) arguments, and whether it needs a (batch, features) input.</summary>
    private sealed record RoundTripCase(Layer Layer, bool NeedsFeatures = false, bool TakesTwoInputs = false)
    {
        public override string ToString() => $"{Layer.Name} ({Layer.ClassName})";
    }

    private static RoundTripCase[] Cases() =>
    [
        new(new Conv2D("conv_same", 5, (3, 2), (2, 1), Padding.Same, (1, 1), useBias: false, ActivationFunction.Swish)),
        new(new Conv2D("conv_dilated", 3, (3, 3), (1, 1), Padding.Valid, (2, 2), useBias: true, ActivationFunction.Relu6)),
        new(new DepthwiseConv2D("dw_multiplier", (3, 3), (2, 2), Padding.Same, depthMultiplier: 2, (1, 1), useBias: true, ActivationFunction.Linear)),
        new(new DepthwiseConv2D("dw_dilated", (5, 3), (1, 1), Padding.Valid, depthMultiplier: 1, (1, 2), useBias: false, ActivationFunction.Sigmoid)),
        new(new BatchNormalization("bn_resnet", 1.001e-5)),
        new(new BatchNormalization("bn_plain", 0.1, center: false, scale: false)),
        new(new Activation("act_tanh", ActivationFunction.Tanh)),
        new(new Activation("act_softmax", ActivationFunction.Softmax)),
        new(new ReLU("relu")),
        new(new ReLU("relu6", 6f)),
        new(new ReLU("relu_half", 0.5f)),
        new(new Softmax("softmax")),
        new(new Add("add"), TakesTwoInputs: true),
        new(new Multiply("multiply"), TakesTwoInputs: true),
        new(new ZeroPadding2D("pad_asymmetric", new Padding2D(1, 2, 3, 0))),
        new(new ZeroPadding2D("pad_none", 0)),
        new(new MaxPooling2D("max_default", 2)),
        new(new MaxPooling2D("max_same", 3, 1, Padding.Same)),
        new(new AveragePooling2D("avg_same", 2, 2, Padding.Same)),
        new(new GlobalAveragePooling2D("gap_keepdims", keepDims: true)),
        new(new GlobalAveragePooling2D("gap")),
        new(new GlobalMaxPooling2D("gmp_keepdims", keepDims: true)),
        new(new Dense("dense_softmax", 3, ActivationFunction.Softmax), NeedsFeatures: true),
        new(new Dense("dense_no_bias", 7, ActivationFunction.Linear, useBias: false), NeedsFeatures: true),
        new(new Dropout("dropout", 0.25)),
        new(new Flatten("flatten")),
        new(new Reshape("reshape_nhwc", 7, 9, 4)),
        new(new Reshape("reshape_flat", 252)),
        new(new Rescaling("rescale", 1 / 255f, -1f)),
        new(new Rescaling("rescale_per_channel", [0.5f, 0.25f, 1.5e-3f, 2f], [0.1f, -0.2f, 3f, 0f])),
        new(new Normalization("normalization")),
        new(new Concatenate("concat_channels"), TakesTwoInputs: true),
        new(new Concatenate("concat_rows", axis: 1), TakesTwoInputs: true),
        new(new Subtract("subtract"), TakesTwoInputs: true),
        new(new Maximum("maximum"), TakesTwoInputs: true),
        new(new Minimum("minimum"), TakesTwoInputs: true),
        new(new Average("average"), TakesTwoInputs: true),
        new(new UpSampling2D("up_nearest", (2, 3))),
        new(new UpSampling2D("up_bilinear", 2, Interpolation.Bilinear)),
        new(new Cropping2D("crop", new Padding2D(1, 2, 0, 3))),
        new(new LayerNormalization("layer_norm")),
        new(new LayerNormalization("layer_norm_plain", 1e-6, center: false, scale: false, axis: 3)),
        new(new LeakyReLU("leaky")),
        new(new LeakyReLU("leaky_steep", 0.01f)),
        new(new ELU("elu", 0.5f)),
        new(new Activation("act_hard_silu", ActivationFunction.HardSwish)),
        new(new Activation("act_selu", ActivationFunction.Selu)),
        new(new Activation("act_elu", ActivationFunction.Elu())),
        new(new Activation("act_leaky", ActivationFunction.LeakyRelu())),
        new(new Activation("act_hard_sigmoid", ActivationFunction.HardSigmoid)),
        new(new Activation("act_hard_sigmoid_keras2", ActivationFunction.HardSigmoidKeras2)),
        new(new Activation("act_gelu", ActivationFunction.Gelu)),
        new(new PReLU("prelu")),
        new(new PReLU("prelu_shared", 1, 2)),
        new(new Permute("permute", 2, 1, 3)),
        new(new Permute("permute_channels_first", 3, 1, 2)),
        new(new Reshape("reshape_inferred", -1, 4)),
        new(new Conv2DTranspose("transpose", 4, (3, 2), (2, 1), Padding.Same, activation: ActivationFunction.Relu)),
        new(new Conv2DTranspose("transpose_padded", 3, (3, 3), (2, 3), Padding.Valid, outputPadding: (1, 2), useBias: false)),
        new(new Activation("act_softplus", ActivationFunction.Softplus)),
        new(new SeparableConv2D("separable", 6, (3, 3), (2, 2), Padding.Same, depthMultiplier: 2, activation: ActivationFunction.Relu)),
        new(new SeparableConv2D("separable_dilated", 4, (3, 2), null, Padding.Valid, 1, (2, 2), useBias: false)),
    ];

    public static TheoryData<string> CaseNames() => [.. Cases().Select(c => c.Layer.Name)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EveryBuiltInClassWritesAConfigThatReadsBackIntoTheSameLayer(string caseName)
    {
        var original = Cases().Single(c => c.Layer.Name == caseName);
        using var model = SingleLayerModel(original);
        string json = KerasModelConfig.ToJson(model);
        using var rebuilt = KerasModelConfig.Build(json);

        var layer = model.Layers.Single(l => l.Name == caseName);
        var read = rebuilt.Layers.Single(l => l.Name == caseName);
        Assert.Equal(layer.GetType(), read.GetType());
        Assert.Equal(Arguments(layer), Arguments(read));
        Assert.Equal(layer.Weights.Select(w => $"{w.Name} {w.Shape} {w.Trainable}"), read.Weights.Select(w => $"{w.Name} {w.Shape} {w.Trainable}"));
        Assert.Equal(json, KerasModelConfig.ToJson(rebuilt));

        // The entry declares every weight the layer creates, in Keras order.
        Assert.True(KerasLayerRegistry.TryGet(layer.ClassName, out var entry));
        var declared = entry.WeightNames.ToList();
        var indices = layer.Weights.Select(w => declared.IndexOf(w.Name)).ToArray();
        Assert.DoesNotContain(-1, indices);
        Assert.Equal(indices.Order(), indices);
    }

    [Fact]
    public void TheRoundTripCasesCoverEveryBuiltInClass()
    {
        // Other tests register classes named NativeCnnTests>…; every other class is a built-in.
        var builtIn = KerasLayerRegistry.ClassNames.Where(c => !c.StartsWith("NativeCnnTests>", StringComparison.Ordinal));
        Assert.Equal(builtIn.Order(StringComparer.Ordinal), Cases().Select(c => c.Layer.ClassName).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryLayerClassOfTheLibraryHasARegistryEntryUnderItsClassName()
    {
        // InputLayer is model structure: the model config reader writes and reads it itself.
        var layerTypes = typeof(Layer).Assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && t.IsSubclassOf(typeof(Layer)) && t != typeof(InputLayer));
        foreach (var type in layerTypes)
        {
            Assert.True(KerasLayerRegistry.TryGet(type.Name, out var entry), $"{type.Name} has no Keras registry entry");
            Assert.Equal(type, entry.LayerType);
            Assert.True(entry.CanWrite, $"{type.Name}'s entry cannot write");
        }
    }

    [Fact]
    public void ARegisteredCustomClassLoadsFromAConfigRunsAndWritesBack()
    {
        KerasLayerRegistry.Register(ToyScale.KerasEntry);
        string json = """
            {"class_name": "Sequential", "config": {"name": "custom", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2, 3, 2], "name": "in"}},
              {"class_name": "NativeCnnTests>ToyScale", "config": {"name": "times", "factor": 2.5}}
            ]}}
            """;
        using var model = KerasModelConfig.Build(json);
        var toy = Assert.IsType<ToyScale>(model.Layers.Single(l => l.Name == "times"));
        Assert.Equal(2.5f, toy.Factor);

        float[] pixels = [.. Enumerable.Range(0, 12).Select(i => i - 5.5f)];
        using var input = Tensor.FromArray(pixels, TensorShape.Nhwc(1, 2, 3, 2));
        using var output = model.Predict(input);
        Assert.Equal(pixels.Select(v => v * 2.5f), output.ToArray());

        using var rebuilt = KerasModelConfig.Build(KerasModelConfig.ToJson(model));
        Assert.Equal(2.5f, Assert.IsType<ToyScale>(rebuilt.Layers.Single(l => l.Name == "times")).Factor);

        // Its arguments are checked like a built-in's, naming the layer and the class.
        var e = Assert.Throws<InvalidDataException>(() => KerasModelConfig.Build(json.Replace("2.5", "\"big\"")));
        Assert.Equal("times (NativeCnnTests>ToyScale): argument 'factor' is the string \"big\", not a finite number.", e.Message);
        var refused = Assert.Throws<InvalidDataException>(() => KerasModelConfig.Build(json.Replace("2.5", "-1")));
        Assert.Contains("times (NativeCnnTests>ToyScale): factor must be positive, got -1", refused.Message);
    }

    [Fact]
    public void AClassCannotBeRegisteredTwiceNorOverAGraphClass()
    {
        var again = Assert.Throws<ArgumentException>(() => KerasLayerRegistry.Register(Conv2DLookalike("Conv2D")));
        Assert.Contains("'Conv2D' is already registered", again.Message);
        Assert.Throws<ArgumentException>(() => KerasLayerRegistry.Register(Conv2DLookalike("Sequential")));
        Assert.Throws<ArgumentException>(() => KerasLayerRegistry.Register(Conv2DLookalike("InputLayer")));
        Assert.Throws<ArgumentException>(() => Conv2DLookalike("Bad name"));
        Assert.Throws<ArgumentException>(() => Conv2DLookalike(""));

        static KerasLayerEntry Conv2DLookalike(string className) =>
            KerasLayerEntry.Create(className, c => new Flatten(c.LayerName), write: null);
    }

    [Fact]
    public void UnknownClassesAreAllListedInOneErrorAndRegisteredOnesAreNot()
    {
        KerasLayerRegistry.Register(KerasLayerEntry.Create("NativeCnnTests>Identity", c => new Dropout(c.LayerName, 0), write: null));
        string json = """
            {"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "in"}},
              {"class_name": "GRU", "config": {"name": "gru"}},
              {"class_name": "NativeCnnTests>Identity", "config": {"name": "known"}},
              {"class_name": "LayerScale", "config": {"name": "scale_a"}},
              {"class_name": "LayerScale", "config": {"name": "scale_b"}},
              {"class_name": "Conv2D", "config": {"name": "conv", "filters": 2, "kernel_size": 1}}
            ]}}
            """;
        var e = Assert.Throws<NotSupportedException>(() => KerasModelConfig.Build(json));
        Assert.Equal("3 layers have classes that are not supported: 'GRU' (gru); 'LayerScale' (scale_a, scale_b).", e.Message);
    }

    [Fact]
    public void AnEntryThatRenamesTheLayerIsAProgrammingError()
    {
        KerasLayerRegistry.Register(KerasLayerEntry.Create("NativeCnnTests>Renamer", c => new Flatten("other"), write: null));
        string json = """
            {"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "in"}},
              {"class_name": "NativeCnnTests>Renamer", "config": {"name": "flat"}}
            ]}}
            """;
        var e = Assert.Throws<InvalidOperationException>(() => KerasModelConfig.Build(json));
        Assert.Contains("'NativeCnnTests>Renamer' built 'other' from the config of 'flat'", e.Message);
    }

    [Fact]
    public void ALoadOnlyClassCannotBeWritten()
    {
        KerasLayerRegistry.Register(KerasLayerEntry.Create("NativeCnnTests>LoadOnly", c => new LoadOnly(c.LayerName), write: null));
        var input = Node.Input(height: 2, width: 2, channels: 1);
        using var model = new Model("m", input, new LoadOnly("load_only").Call(input));
        var e = Assert.Throws<NotSupportedException>(() => KerasModelConfig.ToJson(model));
        Assert.Equal("load_only: layer class 'NativeCnnTests>LoadOnly' has no Keras config form here.", e.Message);
    }

    private static Model SingleLayerModel(RoundTripCase c)
    {
        var input = Node.Input(height: 9, width: 7, channels: 4, name: "in");
        var x = c.NeedsFeatures ? new Flatten("to_features").Call(input) : input;
        var output = c.TakesTwoInputs ? c.Layer.Call(x, x) : c.Layer.Call(x);
        return new Model("round_trip", input, output);
    }

    /// <summary>The layer's public properties below <see cref="Layer"/> (its arguments), lists as arrays, by name.</summary>
    private static string[] Arguments(Layer layer)
    {
        var properties = new List<string>();
        for (var type = layer.GetType(); type != typeof(Layer); type = type.BaseType!)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                object? value = property.GetValue(layer);
                string text = value is IEnumerable list and not string
                    ? $"[{string.Join(", ", list.Cast<object>())}]"
                    : $"{value}";
                properties.Add($"{property.Name}={text}");
            }
        }
        return [.. properties.Order(StringComparer.Ordinal)];
    }

    /// <summary>A custom layer as a user would write one: <c>x · factor</c>, under its own Keras class name.</summary>
    private sealed class ToyScale : Layer
    {
        public ToyScale(string name, float factor) : base(name)
        {
            if (!(factor > 0)) throw new ArgumentOutOfRangeException(nameof(factor), $"{name}: factor must be positive, got {factor}.");
            Factor = factor;
        }

        public static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<ToyScale>("NativeCnnTests>ToyScale",
            read: c => new ToyScale(c.LayerName, (float)c.Double("factor")),
            write: (layer, c) => c.Float("factor", layer.Factor));

        public float Factor { get; }

        public override string ClassName => "NativeCnnTests>ToyScale";

        public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes) => ExpectSingleNhwc(inputShapes);

        public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
        {
            int channels = inputShapes[0].Channels;
            return new ChannelAffineOp(Enumerable.Repeat(Factor, channels).ToArray(), new float[channels], ActivationFunction.Linear);
        }
    }

    /// <summary>A custom layer registered without a writer.</summary>
    private sealed class LoadOnly(string name) : Layer(name)
    {
        public override string ClassName => "NativeCnnTests>LoadOnly";

        public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes) => ExpectSingleNhwc(inputShapes);

        public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new CopyOp();
    }
}
