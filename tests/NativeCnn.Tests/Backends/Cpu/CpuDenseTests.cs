using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu;

/// <summary>
/// The Dense op split into blocks of units × batch rows, softmax after all of a row's blocks, on 1 and 2 threads, against
/// float64 loops.
/// </summary>
public class CpuDenseTests
{
    public static TheoryData<int, int, int, int, string> Cases()
    {
        var data = new TheoryData<int, int, int, int, string>();
        foreach (int threads in new[] { 1, 2 })
            foreach (int batch in new[] { 1, 3, 8 })
                foreach (string activation in new[] { "softmax", "relu", "linear" })
                {
                    data.Add(threads, batch, 96, 1000, activation);  // ResNet's head, narrowed: 15 blocks, the last 104 units
                    data.Add(threads, batch, 33, 77, activation);    // one block, not a multiple of 16
                    data.Add(threads, batch, 20, 10, activation);    // narrower than a vector
                    data.Add(threads, batch, 17, 200, activation);   // three blocks, the last 72 units
                }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference(int threads, int batch, int features, int units, string activation)
    {
        var x = TestData.Uniform(seed: features * 13 + batch, batch * features, -2f, 2f);
        var k = TestData.Uniform(seed: units * 7 + features, features * units);
        var b = TestData.Uniform(seed: units, units);
        bool softmax = activation == "softmax";
        var expected = ReferenceElementwise.Dense(ReferenceElementwise.ToDouble(x), batch, features, k, b, units,
            ReferenceElementwise.Activation(softmax ? "linear" : activation));
        if (softmax)
        {
            for (int n = 0; n < batch; n++)
            {
                var row = expected.AsSpan(n * units, units);
                double max = double.NegativeInfinity, sum = 0;
                foreach (double v in row) max = Math.Max(max, v);
                for (int u = 0; u < units; u++) sum += row[u] = Math.Exp(row[u] - max);
                for (int u = 0; u < units; u++) row[u] /= sum;
            }
        }
        using var backend = new CpuBackend(threads);
        using var input = Tensor.FromArray(x, new TensorShape(batch, features));
        using var output = new Tensor(new TensorShape(batch, units));
        using var kernel = Tensor.FromArray(k, new TensorShape(features, units));
        using var bias = Tensor.FromArray(b, new TensorShape(units));
        var function = activation switch
        {
            "softmax" => ActivationFunction.Softmax,
            "relu" => ActivationFunction.Relu,
            _ => ActivationFunction.Linear,
        };
        using var op = backend.Prepare(new DenseOp(units, true, function), new OpBinding("predictions", [new HostBuffer(input)], new HostBuffer(output), [kernel, bias]));
        for (int run = 0; run < 2; run++)
        {
            output.Span.Fill(float.NaN);
            op.Run();
            // Softmax outputs are probabilities near 1/units: compare them at their own magnitude.
            Precision.AssertClose(expected, output.ToArray(), scale: softmax ? 1e-3 / units : Math.Sqrt(features),
                                  relative: softmax ? 1e-4 : 1e-5, what: $"run {run}");
        }
    }

    [Fact]
    public void SteadyStateRunAllocatesNothing()
    {
        using var backend = new CpuBackend(2);
        using var input = Tensor.FromArray(TestData.Uniform(seed: 1, 2 * 64), new TensorShape(2, 64));
        using var output = new Tensor(new TensorShape(2, 300));
        using var kernel = Tensor.FromArray(TestData.Uniform(seed: 2, 64 * 300), new TensorShape(64, 300));
        using var bias = new Tensor(new TensorShape(300));
        using var op = backend.Prepare(new DenseOp(300, true, ActivationFunction.Softmax), new OpBinding("predictions", [new HostBuffer(input)], new HostBuffer(output), [kernel, bias]));
        op.Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        op.Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
