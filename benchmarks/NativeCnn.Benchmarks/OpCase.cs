using NativeCnn.Backends;
using NativeCnn.Tensors;

namespace NativeCnn.Benchmarks;

/// <summary>One op at one shape: what it is, what it reads and writes, and how much arithmetic one run does.</summary>
/// <param name="Name">The case name: op, kernel and map, e.g. <c>conv3x3_56x56x64</c>.</param>
/// <param name="Layer">The model layer it stands for, in Keras's names.</param>
/// <param name="Descriptor">The op.</param>
/// <param name="Inputs">Input shapes, in the op's input order.</param>
/// <param name="Output">Output shape.</param>
/// <param name="Weights">Weight shapes, in Keras order.</param>
/// <param name="Flops">Operations per run (2 per multiply-accumulate; 1 per element combined for ops without them).</param>
public sealed record OpCase(string Name, string Layer, OpDescriptor Descriptor, TensorShape[] Inputs, TensorShape Output,
                            TensorShape[] Weights, long Flops);
