using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Activation</c>: applies a named activation (e.g. <c>swish</c>, <c>relu</c>, <c>softmax</c>).</summary>
public class Activation : Layer
{
    /// <summary>Creates the layer.</summary>
    public Activation(string name, ActivationFunction function) : base(name) => Function = function;

    /// <summary>Creates the layer from a Keras activation name.</summary>
    /// <exception cref="NotSupportedException">The name is not a supported activation.</exception>
    public Activation(string name, string kerasActivation) : this(name, ActivationFunction.FromKerasName(kerasActivation)) { }

    /// <summary>The function applied.</summary>
    public ActivationFunction Function { get; }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes) => ExpectSingleInput(inputShapes);

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new ActivationOp(Function);

    /// <inheritdoc/>
    public override string Describe() => $"{ClassName} {Function}";

    /// <summary>
    /// The Keras config form of an activation layer with one float argument (<c>LeakyReLU</c>'s slope, <c>ELU</c>'s alpha):
    /// read from <paramref name="argument"/> (or Keras 2's <paramref name="legacyArgument"/>), <paramref name="fallback"/>
    /// when absent, and written as <paramref name="writtenArgument"/>, which every Keras version reads.
    /// </summary>
    private protected static KerasLayerEntry OneArgumentEntry<TLayer>(string className, string argument, string? legacyArgument, string writtenArgument,
                                                                     double fallback, Func<string, float, TLayer> create)
        where TLayer : Activation =>
        KerasLayerEntry.Create<TLayer>(className,
            read: c => create(c.LayerName, (float)(c.OptionalDouble(argument) ?? (legacyArgument is null ? fallback : c.Double(legacyArgument, fallback)))),
            write: (layer, c) => c.Float(writtenArgument, layer.Function.Alpha));

    /// <summary>The Keras config form of <c>Activation</c>: activation (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Activation>("Activation",
        read: c => new Activation(c.LayerName, c.Activation()),
        write: (layer, c) => c.Activation(layer.Function));
}
