using NativeCnn.Backends;

namespace NativeCnn.Backends.Conformance;

/// <summary>
/// One op on fixed shapes, run with seeded inputs and weights on any backend: a case of <see cref="OpConformance"/>,
/// the catalog a backend's results are compared against the CPU backend's with.
/// </summary>
/// <param name="Name">A readable case name.</param>
/// <param name="Op">The descriptor.</param>
/// <param name="Inputs">Input shapes.</param>
/// <param name="Weights">Weight shapes, in the descriptor's order.</param>
/// <param name="Output">The output shape.</param>
public sealed record OpConformanceCase(string Name, OpDescriptor Op, TensorShape[] Inputs, TensorShape[] Weights, TensorShape Output)
{
    /// <summary>Runs the case on <paramref name="backend"/> and returns the output; the same seed gives the same data on every backend.</summary>
    /// <param name="backend">The backend to run on.</param>
    /// <param name="seed">Seeds the inputs and weights.</param>
    public float[] Run(IBackend backend, int seed)
    {
        var inputs = new IDeviceBuffer[Inputs.Length];
        var weights = new Tensor[Weights.Length];
        IDeviceBuffer? output = null;
        IPreparedOp? prepared = null;
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                inputs[i] = backend.Allocate(Inputs[i]);
                inputs[i].CopyFrom(Uniform(seed * 31 + i, checked((int)Inputs[i].ElementCount), 1f));
            }
            for (int i = 0; i < weights.Length; i++)
                weights[i] = Tensor.FromArray(Uniform(seed * 31 + 17 + i, checked((int)Weights[i].ElementCount), 0.5f), Weights[i]);
            output = backend.Allocate(Output);
            prepared = backend.Prepare(Op, new OpBinding(Name, inputs, output, weights));
            prepared.Run();
            var result = new float[Output.ElementCount];
            output.CopyTo(result);
            return result;
        }
        finally
        {
            prepared?.Dispose();
            output?.Dispose();
            foreach (var input in inputs) input?.Dispose();
            foreach (var weight in weights) weight?.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static float[] Uniform(int seed, int length, float limit)
    {
        var random = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < data.Length; i++) data[i] = limit * (2f * random.NextSingle() - 1f);
        return data;
    }
}
