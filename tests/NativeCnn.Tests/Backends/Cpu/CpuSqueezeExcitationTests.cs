using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu;

/// <summary>The squeeze-and-excitation op split into pool phases, on 1 and 2 threads, against float64 loops per image.</summary>
public class CpuSqueezeExcitationTests
{
    /// <summary>(height, width, channels, reduced): odd sizes, fewer pixels than squeeze blocks, channel tails.</summary>
    public static TheoryData<int, int, int, int, int, int> Cases()
    {
        var data = new TheoryData<int, int, int, int, int, int>();
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (int batch in new[] { 1, 2 })
            {
                data.Add(threads, batch, 7, 7, 33, 8);
                data.Add(threads, batch, 1, 3, 17, 4);
                data.Add(threads, batch, 1, 1, 7, 2);
                data.Add(threads, batch, 5, 9, 96, 4);
                data.Add(threads, batch, 11, 6, 144, 6);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference(int threads, int batch, int height, int width, int channels, int reduced)
    {
        int pixels = height * width, imageLength = pixels * channels;
        var x = TestData.Uniform(seed: channels * 31 + pixels, batch * imageLength, -3f, 3f);
        var rk = TestData.Uniform(seed: channels * 7 + 1, channels * reduced);
        var rb = TestData.Uniform(seed: channels * 7 + 2, reduced);
        var ek = TestData.Uniform(seed: channels * 7 + 3, reduced * channels);
        var eb = TestData.Uniform(seed: channels * 7 + 4, channels);
        using var backend = new CpuBackend(threads);
        var shape = TensorShape.Nhwc(batch, height, width, channels);
        using var input = Tensor.FromArray(x, shape);
        using var output = new Tensor(shape);
        var weights = new[] { Tensor.FromArray(rk, new TensorShape(channels, reduced)), Tensor.FromArray(rb, new TensorShape(reduced)),
                              Tensor.FromArray(ek, new TensorShape(reduced, channels)), Tensor.FromArray(eb, new TensorShape(channels)) };
        using var op = backend.Prepare(new SqueezeExcitationOp(reduced, ActivationFunction.Swish),
                                       new OpBinding("se", [new HostBuffer(input)], new HostBuffer(output), weights));
        for (int run = 0; run < 2; run++)
        {
            output.Span.Fill(float.NaN);
            op.Run();
            for (int n = 0; n < batch; n++)
            {
                var expected = ReferenceElementwise.SqueezeExcitation(x.AsSpan(n * imageLength, imageLength).ToArray(), pixels, channels, reduced,
                    rk, rb, ek, eb, ReferenceElementwise.Activation("swish"));
                Precision.AssertClose(expected, output.Span.Slice(n * imageLength, imageLength).ToArray(), scale: 3,
                                      what: $"image {n}, run {run}");
            }
        }
        foreach (var w in weights) w.Dispose();
    }

    [Fact]
    public void InPlaceRunMatchesReference()
    {
        const int pixels = 20, channels = 40, reduced = 5;
        var x = TestData.Uniform(seed: 9, pixels * channels, -3f, 3f);
        var rk = TestData.Uniform(seed: 10, channels * reduced);
        var rb = TestData.Uniform(seed: 11, reduced);
        var ek = TestData.Uniform(seed: 12, reduced * channels);
        var eb = TestData.Uniform(seed: 13, channels);
        var expected = ReferenceElementwise.SqueezeExcitation(x, pixels, channels, reduced, rk, rb, ek, eb, ReferenceElementwise.Activation("swish"));
        using var backend = new CpuBackend(2);
        using var buffer = Tensor.FromArray(x, TensorShape.Nhwc(1, 4, 5, channels));
        var weights = new[] { Tensor.FromArray(rk, new TensorShape(channels, reduced)), Tensor.FromArray(rb, new TensorShape(reduced)),
                              Tensor.FromArray(ek, new TensorShape(reduced, channels)), Tensor.FromArray(eb, new TensorShape(channels)) };
        using var op = backend.Prepare(new SqueezeExcitationOp(reduced, ActivationFunction.Swish), new OpBinding("se", [new HostBuffer(buffer)], new HostBuffer(buffer), weights));
        op.Run();
        Precision.AssertClose(expected, buffer.ToArray(), scale: 3);
        foreach (var w in weights) w.Dispose();
    }

    [Fact]
    public void SteadyStateRunAllocatesNothing()
    {
        using var backend = new CpuBackend(1);
        var shape = TensorShape.Nhwc(2, 7, 7, 48);
        using var input = Tensor.FromArray(TestData.Uniform(seed: 1, (int)shape.ElementCount), shape);
        using var output = new Tensor(shape);
        var weights = new[] { new Tensor(48, 12), new Tensor(12), new Tensor(12, 48), new Tensor(48) };
        using var op = backend.Prepare(new SqueezeExcitationOp(12, ActivationFunction.Swish), new OpBinding("se", [new HostBuffer(input)], new HostBuffer(output), weights));
        op.Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        op.Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        foreach (var w in weights) w.Dispose();
    }
}
