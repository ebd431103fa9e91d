using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Layers;

/// <summary>The windowed layer a property case builds (after an optional ZeroPadding2D).</summary>
public enum WindowedLayerKind
{
    Conv2D,
    DepthwiseConv2D,
    MaxPooling2D,
    AveragePooling2D,
    ZeroPadding2D,
}

/// <summary>
/// Random small windowed layers (shapes, kernels, strides, dilations, 'same'/'valid', explicit pads through a
/// ZeroPadding2D before them): each is either built and run on the CPU, fused and unfused, and matches the float64
/// reference, or refused at build with a <see cref="LayerException"/> naming it, and only when the window rule
/// (<c>WindowArguments</c>) says so: a 'valid' window larger than its input, or a 'same' window dilated by at least its
/// input size.
/// </summary>
public sealed class WindowedLayerPropertyTests
{
    private const string LayerName = "window";

    [Theory]
    [InlineData(WindowedLayerKind.Conv2D, 20260101)]
    [InlineData(WindowedLayerKind.Conv2D, 20260102)]
    [InlineData(WindowedLayerKind.DepthwiseConv2D, 20260201)]
    [InlineData(WindowedLayerKind.DepthwiseConv2D, 20260202)]
    [InlineData(WindowedLayerKind.MaxPooling2D, 20260301)]
    [InlineData(WindowedLayerKind.AveragePooling2D, 20260401)]
    [InlineData(WindowedLayerKind.ZeroPadding2D, 20260501)]
    public void PlanMatchesReferenceOrTheRuleRefusesTheLayer(WindowedLayerKind kind, int seed)
    {
        var random = new Random(seed);
        using var backend = new CpuBackend(threadCount: 1);
        int accepted = 0, refused = 0;
        for (int i = 0; i < 80; i++)
        {
            if (RunCase(RandomCase(kind, random), backend)) accepted++;
            else refused++;
        }
        // Both outcomes must be exercised for the property to mean anything (no refusals for ZeroPadding2D alone).
        Assert.True(accepted >= 20, $"only {accepted} of 80 cases were accepted");
        if (kind != WindowedLayerKind.ZeroPadding2D) Assert.True(refused >= 3, $"only {refused} of 80 cases were refused");
    }

    private sealed record Case(WindowedLayerKind Kind, int Batch, int Height, int Width, int Channels, Padding2D? ZeroPad,
                               int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int DilationHeight, int DilationWidth,
                               Padding Padding, int Filters, int Multiplier, int Seed);

    private static Case RandomCase(WindowedLayerKind kind, Random r)
    {
        bool conv = kind is WindowedLayerKind.Conv2D or WindowedLayerKind.DepthwiseConv2D;
        int Dilation() => conv && r.Next(2) == 0 ? r.Next(2, 6) : 1;
        Padding2D? zeroPad = kind == WindowedLayerKind.ZeroPadding2D || r.Next(5) < 2
            ? new Padding2D(r.Next(4), r.Next(4), r.Next(4), r.Next(4))
            : null;
        return new Case(kind, Batch: r.Next(1, 3), Height: r.Next(1, 10), Width: r.Next(1, 10), Channels: r.Next(1, 7), zeroPad,
                        KernelHeight: r.Next(1, 6), KernelWidth: r.Next(1, 6), StrideHeight: r.Next(1, 4), StrideWidth: r.Next(1, 4),
                        DilationHeight: Dilation(), DilationWidth: Dilation(), Padding: r.Next(2) == 0 ? Padding.Same : Padding.Valid,
                        Filters: r.Next(1, 6), Multiplier: r.Next(1, 4), Seed: r.Next());
    }

    /// <summary>The rule, written from its statement: why a window over an <c>size</c>-long axis is refused, or null.</summary>
    private static string? Refusal(int size, int kernel, int dilation, Padding padding)
    {
        int effective = (kernel - 1) * dilation + 1;
        if (padding == Padding.Valid && effective > size) return $"valid window {effective} > input {size}";
        if (padding == Padding.Same && kernel > 1 && dilation > 1 && dilation >= size) return $"same window dilated by {dilation} >= input {size}";
        return null;
    }

    /// <summary>Builds and checks one case; returns whether the layer was accepted.</summary>
    private static bool RunCase(Case c, CpuBackend backend)
    {
        var input = Node.Input(c.Height, c.Width, c.Channels);
        var pad = c.ZeroPad ?? Padding2D.None;
        var x = c.ZeroPad is { } zp ? new ZeroPadding2D(c.Kind == WindowedLayerKind.ZeroPadding2D ? LayerName : "pad", zp).Call(input) : input;
        int height = c.Height + pad.Top + pad.Bottom, width = c.Width + pad.Left + pad.Right;
        Layer? layer = c.Kind switch
        {
            WindowedLayerKind.Conv2D => new Conv2D(LayerName, c.Filters, (c.KernelHeight, c.KernelWidth), (c.StrideHeight, c.StrideWidth),
                                                   c.Padding, (c.DilationHeight, c.DilationWidth)),
            WindowedLayerKind.DepthwiseConv2D => new DepthwiseConv2D(LayerName, (c.KernelHeight, c.KernelWidth), (c.StrideHeight, c.StrideWidth),
                                                                     c.Padding, c.Multiplier, (c.DilationHeight, c.DilationWidth)),
            WindowedLayerKind.MaxPooling2D => new MaxPooling2D(LayerName, (c.KernelHeight, c.KernelWidth), (c.StrideHeight, c.StrideWidth), c.Padding),
            WindowedLayerKind.AveragePooling2D => new AveragePooling2D(LayerName, (c.KernelHeight, c.KernelWidth), (c.StrideHeight, c.StrideWidth), c.Padding),
            _ => null,
        };
        string? refusal = layer is null ? null
            : Refusal(height, c.KernelHeight, c.DilationHeight, c.Padding) ?? Refusal(width, c.KernelWidth, c.DilationWidth, c.Padding);
        Node output;
        try
        {
            output = layer is null ? x : layer.Call(x);
        }
        catch (LayerException e)
        {
            Assert.Equal(LayerName, e.LayerName);
            Assert.True(refusal is not null, $"{c} was refused without the rule's reason: {e.Message}");
            return false;
        }
        Assert.True(refusal is null, $"{c} was accepted although the rule refuses it ({refusal})");

        var data = TestData.Uniform(c.Seed, c.Batch * c.Height * c.Width * c.Channels, -2f, 1f);
        var paddedInput = ToFloat(ReferenceElementwise.ZeroPad(data, c.Batch, c.Height, c.Width, c.Channels, pad.Top, pad.Bottom, pad.Left, pad.Right));
        var (expected, magnitude) = Reference(c, layer, paddedInput, height, width);

        using var model = new Model("property", input, output);
        foreach (bool fuse in new[] { true, false })
        {
            using var plan = model.CreatePlan(backend, c.Batch, fuse);
            Assert.Equal(output.OutputShape.WithBatch(c.Batch), plan.Output.Shape);
            plan.Input.CopyFrom(data);
            plan.Run();
            Precision.AssertClose(expected, TestData.ReadBack(plan.Output), 1e-5, Math.Max(1.0, magnitude), $"{c} (fuse: {fuse})");
        }
        return true;
    }

    /// <summary>The float64 reference output and the largest magnitude of its sums (for the tolerance).</summary>
    private static (double[] Output, double Magnitude) Reference(Case c, Layer? layer, float[] input, int height, int width)
    {
        if (layer is null) return (ReferenceElementwise.ToDouble(input), 1.0);
        bool same = c.Padding == Padding.Same;
        var (outH, top, _) = same ? ReferenceConvolution.Same(height, c.KernelHeight, c.StrideHeight, c.DilationHeight)
            : (ReferenceConvolution.OutputSize(height, c.KernelHeight, c.StrideHeight, c.DilationHeight, 0, 0), 0, 0);
        var (outW, left, _) = same ? ReferenceConvolution.Same(width, c.KernelWidth, c.StrideWidth, c.DilationWidth)
            : (ReferenceConvolution.OutputSize(width, c.KernelWidth, c.StrideWidth, c.DilationWidth, 0, 0), 0, 0);
        switch (layer)
        {
            case Conv2D:
            case DepthwiseConv2D:
            {
                var kernel = layer.Weights[0].Value.Span.ToArray();
                // Keras initialises the bias to zeros; a random one also checks that it is added once per output.
                var bias = TestData.Uniform(c.Seed + 1, layer.Weights[1].Value.Length);
                bias.CopyTo(layer.Weights[1].Value.Span);
                double[] Run(float[] x, float[] k, float[] b) => layer is Conv2D
                    ? ReferenceConvolution.Conv2D(x, k, b, c.Batch, height, width, c.Channels, outH, outW, c.Filters, c.KernelHeight, c.KernelWidth,
                                                  c.StrideHeight, c.StrideWidth, c.DilationHeight, c.DilationWidth, top, left, ReferenceActivation.Identity)
                    : ReferenceConvolution.DepthwiseConv2D(x, k, b, c.Batch, height, width, c.Channels, outH, outW, c.Multiplier, c.KernelHeight,
                                                           c.KernelWidth, c.StrideHeight, c.StrideWidth, c.DilationHeight, c.DilationWidth, top, left,
                                                           ReferenceActivation.Identity);
                return (Run(input, kernel, bias), Run(Abs(input), Abs(kernel), Abs(bias)).Max());
            }
            default:
                bool max = c.Kind == WindowedLayerKind.MaxPooling2D;
                var pooled = ReferenceConvolution.Pool2D(input, c.Batch, height, width, c.Channels, outH, outW, c.KernelHeight, c.KernelWidth,
                                                         c.StrideHeight, c.StrideWidth, top, left, max);
                return (pooled, 2.0);
        }
    }

    private static float[] Abs(float[] values) => values.Select(MathF.Abs).ToArray();

    private static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();
}
