using System.Buffers;

namespace NativeCnn.Training;

/// <summary>
/// One variable an optimizer updates: its Keras path (e.g. <c>dense/kernel</c>), its values and a gradient buffer of
/// the same length that the backward pass fills before each <see cref="Optimizer.Apply"/>.
/// </summary>
/// <remarks>The optimizer reads and writes the caller's memory in place; it copies nothing.</remarks>
public sealed class TrainableVariable
{
    /// <summary>Wraps <paramref name="values"/> and <paramref name="gradient"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, or the lengths differ or are zero.</exception>
    public TrainableVariable(string name, Memory<float> values, Memory<float> gradient)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (values.Length == 0) throw new ArgumentException($"{name}: a trainable variable needs at least one value.", nameof(values));
        if (gradient.Length != values.Length)
            throw new ArgumentException($"{name}: the gradient has {gradient.Length} values, the variable {values.Length}.", nameof(gradient));
        Name = name;
        Values = values;
        Gradient = gradient;
    }

    /// <summary>Wraps two arrays.</summary>
    /// <exception cref="ArgumentException">The name is empty, or the lengths differ or are zero.</exception>
    public TrainableVariable(string name, float[] values, float[] gradient)
        : this(name, (values ?? throw new ArgumentNullException(nameof(values))).AsMemory(), (gradient ?? throw new ArgumentNullException(nameof(gradient))).AsMemory()) { }

    /// <summary>Wraps two tensors (e.g. a <c>LayerWeight.Value</c> and its gradient), which must outlive the optimizer's use.</summary>
    /// <exception cref="ArgumentException">The name is empty, or the lengths differ.</exception>
    public static TrainableVariable FromTensors(string name, Tensor values, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(gradient);
        return new TrainableVariable(name, new TensorMemory(values).Memory, new TensorMemory(gradient).Memory);
    }

    /// <summary>The Keras variable path, e.g. <c>conv2d/kernel</c>; optimizer slots are named after it.</summary>
    public string Name { get; }

    /// <summary>The values, updated in place.</summary>
    public Memory<float> Values { get; }

    /// <summary>The gradient; clipping (if configured) scales it in place.</summary>
    public Memory<float> Gradient { get; }

    /// <summary>The number of values.</summary>
    public int Length => Values.Length;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Length})";

    /// <summary>A <see cref="Memory{T}"/> over a tensor's aligned native buffer; it owns nothing.</summary>
    private sealed unsafe class TensorMemory(Tensor tensor) : MemoryManager<float>
    {
        public override Span<float> GetSpan() => tensor.Span;

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            if ((uint)elementIndex > (uint)tensor.Length) throw new ArgumentOutOfRangeException(nameof(elementIndex));
            return new MemoryHandle(tensor.Pointer + elementIndex);
        }

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
    }
}
