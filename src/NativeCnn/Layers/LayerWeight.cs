namespace NativeCnn.Layers;

/// <summary>One weight variable of a layer, named as Keras names it (<c>kernel</c>, <c>bias</c>, <c>gamma</c>, …).</summary>
public sealed class LayerWeight
{
    internal LayerWeight(Layer layer, string name, Tensor value, bool trainable)
    {
        Layer = layer;
        Name = name;
        Value = value;
        Trainable = trainable;
    }

    /// <summary>The layer the weight belongs to.</summary>
    public Layer Layer { get; }

    /// <summary>The short name, e.g. <c>depthwise_kernel</c>.</summary>
    public string Name { get; }

    /// <summary>The Keras weight path, e.g. <c>block1a_dwconv/depthwise_kernel</c>.</summary>
    public string FullName => $"{Layer.Name}/{Name}";

    /// <summary>The values, in Keras layout (Conv2D HWIO, Dense (in, out), …).</summary>
    public Tensor Value { get; }

    /// <summary>The shape of <see cref="Value"/>.</summary>
    public TensorShape Shape => Value.Shape;

    /// <summary>False for statistics such as BatchNormalization's moving mean and variance.</summary>
    public bool Trainable { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{FullName} {Shape}";
}
