using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Dense</c> on <c>(batch, features)</c> inputs: <c>kernel</c> <c>(in, units)</c> and optional <c>bias</c>.</summary>
public sealed class Dense : Layer
{
    /// <summary>Creates the layer; arguments as Keras's.</summary>
    public Dense(string name, int units, ActivationFunction? activation = null, bool useBias = true) : base(name)
    {
        if (units < 1) throw new ArgumentOutOfRangeException(nameof(units), $"{name}: units must be at least 1, got {units}.");
        Units = units;
        Activation = activation ?? ActivationFunction.Linear;
        UseBias = useBias;
    }

    /// <summary>Output features.</summary>
    public int Units { get; }
    /// <summary>The activation (softmax allowed).</summary>
    public ActivationFunction Activation { get; }
    /// <summary>Whether the layer has a bias.</summary>
    public bool UseBias { get; }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        if (input.Rank != 2) throw Error($"expected a (batch, features) input, got {input}; add Flatten or global pooling first");
        if (IsBuilt && input.Channels != GetWeight("kernel").Shape[0])
            throw Error($"expected input (None, {GetWeight("kernel").Shape[0]}), got {input}");
        return new TensorShape(input.Batch, Units);
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        AddWeight("kernel", new TensorShape(inputShapes[0].Channels, Units), Initializer.GlorotUniform);
        if (UseBias) AddWeight("bias", new TensorShape(Units), Initializer.Zeros);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new DenseOp(Units, UseBias, Activation);

    /// <inheritdoc/>
    public override long CountMultiplyAccumulates(IReadOnlyList<TensorShape> inputShapes, TensorShape outputShape) =>
        (long)inputShapes[0].Batch * inputShapes[0].Channels * Units;

    /// <inheritdoc/>
    public override string Describe() => $"Dense {Units}{(Activation.Kind == ActivationKind.Linear ? "" : " " + Activation)}";

    /// <summary>The Keras config form of <c>Dense</c>: units, activation, use_bias (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Dense>("Dense",
        read: c => new Dense(c.LayerName, c.Int("units"), c.Activation(), c.Bool("use_bias", true)),
        write: (layer, c) =>
        {
            c.Int("units", layer.Units);
            c.Activation(layer.Activation);
            c.Bool("use_bias", layer.UseBias);
        },
        weightNames: ["kernel", "bias"]);
}
