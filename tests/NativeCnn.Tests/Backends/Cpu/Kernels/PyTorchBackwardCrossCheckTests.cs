using System.Globalization;
using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tensors;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// The backward kernels against PyTorch's float64 autograd (<c>tests/reference/torch/backward_reference.py</c>), an
/// implementation independent of both the kernels and the float64 references: Conv2D and DepthwiseConv2D with stride 2
/// and TensorFlow 'same' pads (the extra pixel bottom/right), and training-mode batch normalization.
/// </summary>
public sealed class PyTorchBackwardCrossCheckTests(ITestOutputHelper output) : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-torch-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string Script => Path.Combine(TestPaths.RepositoryRoot, "tests", "reference", "torch", "backward_reference.py");

    private void Write(string name, float[] data, params int[] shape) => NpyFile.Write(Path.Combine(_work, name + ".npy"), data, new TensorShape(shape));

    private float[] Read(string name)
    {
        using var tensor = NpyFile.Read(Path.Combine(_work, name + ".npy"));
        return tensor.ToArray();
    }

    private void RunTorch(params object[] arguments) =>
        TestProcess.Run(Python, [Script, .. arguments.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture)!)], _work, TimeSpan.FromMinutes(2));

    /// <summary>Compares with a float64 result read back as float32 (half an ulp, far inside the tolerance).</summary>
    private double Compare(float[] expected, float[] actual, string what)
    {
        var e = ReferenceBackwardDouble(expected);
        double worst = BackwardAssert.Close(e, actual, BackwardAssert.Scale(e), what);
        output.WriteLine($"{what}: max relative error {worst:E3}");
        return worst;
    }

    private static double[] ReferenceBackwardDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    [ReferenceTheory(ExternalReference.PyTorch)]
    [InlineData(2, 9, 8, 5, 7, 3, 2, 1)]
    [InlineData(3, 7, 10, 4, 3, 5, 1, 2)]
    public void Conv2DMatchesPyTorch(int batch, int height, int width, int inC, int outC, int k, int stride, int dilation)
    {
        var pad = Padding2D.Resolve(Padding.Same, height, width, k, k, stride, stride, dilation, dilation);
        int outH = Padding2D.OutputSize(height, pad.Top, pad.Bottom, k, stride, dilation);
        int outW = Padding2D.OutputSize(width, pad.Left, pad.Right, k, stride, dilation);
        var p = new Conv2DParams(batch, height, width, inC, outH, outW, outC, k, k, stride, stride, dilation, dilation, pad.Top, pad.Left);
        var x = TestData.Uniform(11, batch * height * width * inC);
        var w = TestData.Uniform(12, k * k * inC * outC);
        var b = TestData.Uniform(13, outC);
        var dy = TestData.Uniform(14, batch * outH * outW * outC);
        Write("x", x, batch, height, width, inC);
        Write("w", w, k, k, inC, outC);
        Write("b", b, outC);
        Write("dy", dy, batch, outH, outW, outC);
        RunTorch("conv", _work, stride, dilation, pad.Top, pad.Bottom, pad.Left, pad.Right);

        var transposed = new float[w.Length];
        Conv2DBackwardKernels.TransposeKernel(w, transposed, p);
        var dx = new float[x.Length];
        Conv2DBackwardKernels.InputGradient(dy, transposed, dx, p, RowRange.All(Conv2DBackwardKernels.InputRowCount(p)), accumulate: false);
        var dw = new float[w.Length];
        Conv2DBackwardKernels.KernelGradient(x, dy, dw, new float[Conv2DBackwardKernels.WorkspaceLength(p)], p, RowRange.All(p.RowCount), accumulate: false);
        var db = new float[outC];
        Conv2DBackwardKernels.BiasGradient(dy, db, p, RowRange.All(p.RowCount), accumulate: false);
        Assert.Equal(dy.Length, Read("y").Length);
        Compare(Read("dx"), dx, "conv dX");
        Compare(Read("dw"), dw, "conv dW");
        Compare(Read("db"), db, "conv dB");
    }

    [ReferenceTheory(ExternalReference.PyTorch)]
    [InlineData(2, 9, 8, 5, 1, 3, 2, 1)]
    [InlineData(2, 7, 6, 3, 2, 3, 2, 1)]
    [InlineData(1, 8, 9, 19, 1, 5, 1, 2)]
    public void DepthwiseConv2DMatchesPyTorch(int batch, int height, int width, int channels, int multiplier, int k, int stride, int dilation)
    {
        var pad = Padding2D.Resolve(Padding.Same, height, width, k, k, stride, stride, dilation, dilation);
        int outH = Padding2D.OutputSize(height, pad.Top, pad.Bottom, k, stride, dilation);
        int outW = Padding2D.OutputSize(width, pad.Left, pad.Right, k, stride, dilation);
        var p = new DepthwiseConv2DParams(batch, height, width, channels, outH, outW, multiplier, k, k, stride, stride, dilation, dilation, pad.Top, pad.Left);
        int outC = channels * multiplier;
        var x = TestData.Uniform(21, batch * height * width * channels);
        var w = TestData.Uniform(22, k * k * outC);
        var b = TestData.Uniform(23, outC);
        var dy = TestData.Uniform(24, batch * outH * outW * outC);
        Write("x", x, batch, height, width, channels);
        Write("w", w, k, k, channels, multiplier);
        Write("b", b, outC);
        Write("dy", dy, batch, outH, outW, outC);
        RunTorch("depthwise", _work, stride, dilation, pad.Top, pad.Bottom, pad.Left, pad.Right);

        var dx = new float[x.Length];
        DepthwiseConv2DBackwardKernels.InputGradient(dy, w, dx, p, RowRange.All(DepthwiseConv2DBackwardKernels.InputRowCount(p)), accumulate: false);
        var dw = new float[w.Length];
        DepthwiseConv2DBackwardKernels.KernelGradient(x, dy, dw, p, RowRange.All(p.RowCount), accumulate: false);
        var db = new float[outC];
        DepthwiseConv2DBackwardKernels.BiasGradient(dy, db, p, RowRange.All(p.RowCount), accumulate: false);
        Assert.Equal(dy.Length, Read("y").Length);
        Compare(Read("dx"), dx, "depthwise dX");
        Compare(Read("dw"), dw, "depthwise dW");
        Compare(Read("db"), db, "depthwise dB");
    }

    [ReferenceFact(ExternalReference.PyTorch)]
    public void BatchNormalizationMatchesPyTorch()
    {
        const int batch = 3, height = 5, width = 4, channels = 7;
        const float epsilon = 1e-3f;
        int pixels = batch * height * width;
        var x = TestData.Uniform(31, pixels * channels, 1f, 3f);
        var gamma = TestData.Uniform(32, channels, 0.5f, 1.5f);
        var beta = TestData.Uniform(33, channels);
        var dy = TestData.Uniform(34, pixels * channels);
        Write("x", x, batch, height, width, channels);
        Write("gamma", gamma, channels);
        Write("beta", beta, channels);
        Write("dy", dy, batch, height, width, channels);
        RunTorch("batchnorm", _work, epsilon);

        var y = new float[x.Length];
        float[] mean = new float[channels], variance = new float[channels], inverseStd = new float[channels];
        BatchNormalizationTrainingKernels.Forward(x, gamma, beta, y, mean, variance, inverseStd, pixels, epsilon);
        var dx = new float[x.Length];
        float[] dGamma = new float[channels], dBeta = new float[channels];
        BatchNormalizationTrainingKernels.Backward(x, dy, gamma, mean, inverseStd, dx, dGamma, dBeta, pixels, accumulate: false);
        Compare(Read("y"), y, "batchnorm y");
        Compare(Read("variance"), variance, "batchnorm biased variance");
        Compare(Read("dx"), dx, "batchnorm dX");
        Compare(Read("dgamma"), dGamma, "batchnorm dGamma");
        Compare(Read("dbeta"), dBeta, "batchnorm dBeta");
    }
}
