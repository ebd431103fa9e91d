using ILGPU;

namespace NativeCnn.Backends.Ilgpu.Kernels;

/// <summary>
/// The work-group shape of the tiled convolution as a struct type argument, so shared-memory tiles are sized at compile
/// time: <see cref="Threads"/> × <see cref="Threads"/> threads, each computing a
/// <see cref="ConvKernels.Work"/> × <see cref="ConvKernels.Work"/> register block, cover a <c>Threads·Work</c> square of
/// the output per group.
/// </summary>
internal interface IConvTile
{
    /// <summary>Threads per group side; also the depth of one shared-memory step.</summary>
    int Threads { get; }
}

/// <summary>GPUs: 16 × 16 threads (a 64 × 64 output block, 8.2 KB of shared memory).</summary>
internal readonly struct GpuConvTile : IConvTile
{
    public int Threads => 16;
}

/// <summary>
/// ILGPU's CPU accelerator, which runs each simulated thread as an OS thread: 4 × 4 threads (a 16 × 16 block), so a
/// group fits its 16-thread limit and tiny test shapes do not pay for idle threads.
/// </summary>
internal readonly struct SmallConvTile : IConvTile
{
    public int Threads => 4;
}

/// <summary>Where output pixel <c>pixel</c>'s window starts: its image (−1 past the last pixel) and its top-left input row and column.</summary>
internal readonly struct WindowOrigin
{
    public readonly int Image, Y, X;

    public WindowOrigin(int pixel, int pixels, in ConvParams p)
    {
        int rest = pixel / p.OutWidth;
        Y = rest % p.OutHeight * p.StrideHeight - p.PadTop;
        X = pixel % p.OutWidth * p.StrideWidth - p.PadLeft;
        Image = pixel < pixels ? rest / p.OutHeight : -1;
    }
}

/// <summary>The geometry of a convolution (Conv2D or depthwise), one kernel argument.</summary>
internal struct ConvParams
{
    public int Batch, InHeight, InWidth, InChannels, OutHeight, OutWidth, OutChannels;
    public int KernelHeight, KernelWidth, StrideHeight, StrideWidth, DilationHeight, DilationWidth, PadTop, PadLeft;
    /// <summary>Depthwise: output channels per input channel.</summary>
    public int DepthMultiplier;
    /// <summary>1 when <c>residual</c> is added before the activation.</summary>
    public int HasResidual;
    /// <summary>1 when <c>inputScale</c> (batch, in) multiplies every input channel first (squeeze-and-excitation).</summary>
    public int ScalesInput;
    public float ActivationParameter;
}

internal static class ConvKernels
{
    /// <summary>Outputs per thread per side: the register block is 4 × 4, written out as 16 scalars so that ILGPU keeps
    /// them in registers (arrays in <c>LocalMemory</c> go to the stack, <c>.local</c> in PTX).</summary>
    public const int Work = 4;

    /// <summary>
    /// Conv2D as an implicit GEMM (rows: output pixels n·oy·ox; columns: output channels; depth: (ky, kx, ci), which is the
    /// row-major HWIO kernel). Each group stages a <c>Threads</c>-deep slice of the gathered input and of the kernel in
    /// shared memory and each thread accumulates a 4 × 4 register block strided by <c>Threads</c> (pixels
    /// <c>ty + Threads·i</c>, channels <c>tx + Threads·q</c>), so kernel reads and output writes are contiguous across
    /// <c>tx</c>. Padding is folded into the gather (out-of-image taps read 0), and so is the squeeze-and-excitation scale
    /// of the input channels. Epilogue: <c>act(acc + bias[c] (+ residual))</c>. Launch: grid (pixel blocks, channel
    /// blocks), group (Threads, Threads).
    /// </summary>
    public static void Conv2D<TActivation, TTile>(ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> residual, ArrayView<float> inputScale, ArrayView<float> output, ConvParams p)
        where TActivation : struct, IKernelActivation where TTile : struct, IConvTile
    {
        int threads = default(TTile).Threads;
        int block = threads * Work, inputStride = block + 1;
        // [depth step][pixel of the block], padded by one to spread banks; [depth step][channel of the block].
        var tileInput = SharedMemory.Allocate<float>(default(TTile).Threads * (default(TTile).Threads * Work + 1));
        var tileWeights = SharedMemory.Allocate<float>(default(TTile).Threads * default(TTile).Threads * Work);
        int tx = Group.IdxX, ty = Group.IdxY;
        int pixelBase = Grid.IdxX * block + ty, channelBase = Grid.IdxY * block + tx;
        int pixels = p.Batch * p.OutHeight * p.OutWidth;
        int depth = p.KernelHeight * p.KernelWidth * p.InChannels;
        var w0 = new WindowOrigin(pixelBase, pixels, p);
        var w1 = new WindowOrigin(pixelBase + threads, pixels, p);
        var w2 = new WindowOrigin(pixelBase + 2 * threads, pixels, p);
        var w3 = new WindowOrigin(pixelBase + 3 * threads, pixels, p);
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f, c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f, c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        for (int k0 = 0; k0 < depth; k0 += threads)
        {
            int k = k0 + tx;
            int ci = k % p.InChannels, tap = k / p.InChannels;
            int dy = tap / p.KernelWidth * p.DilationHeight, dx = tap % p.KernelWidth * p.DilationWidth;
            bool inDepth = k < depth;
            int row = tx * inputStride + ty;
            tileInput[row] = Gather(input, inputScale, p, w0, dy, dx, ci, inDepth);
            tileInput[row + threads] = Gather(input, inputScale, p, w1, dy, dx, ci, inDepth);
            tileInput[row + 2 * threads] = Gather(input, inputScale, p, w2, dy, dx, ci, inDepth);
            tileInput[row + 3 * threads] = Gather(input, inputScale, p, w3, dy, dx, ci, inDepth);
            int kr = k0 + ty;
            int column = ty * block + tx;
            tileWeights[column] = KernelValue(weights, p, kr, depth, channelBase);
            tileWeights[column + threads] = KernelValue(weights, p, kr, depth, channelBase + threads);
            tileWeights[column + 2 * threads] = KernelValue(weights, p, kr, depth, channelBase + 2 * threads);
            tileWeights[column + 3 * threads] = KernelValue(weights, p, kr, depth, channelBase + 3 * threads);
            Group.Barrier();
            for (int j = 0; j < threads; ++j)
            {
                int a = j * inputStride + ty, b = j * block + tx;
                float a0 = tileInput[a], a1 = tileInput[a + threads], a2 = tileInput[a + 2 * threads], a3 = tileInput[a + 3 * threads];
                float b0 = tileWeights[b], b1 = tileWeights[b + threads], b2 = tileWeights[b + 2 * threads], b3 = tileWeights[b + 3 * threads];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        int p1 = pixelBase + threads, p2 = pixelBase + 2 * threads, p3 = pixelBase + 3 * threads;
        int q1 = channelBase + threads, q2 = channelBase + 2 * threads, q3 = channelBase + 3 * threads;
        Store<TActivation>(output, bias, residual, p, pixels, pixelBase, channelBase, c00);
        Store<TActivation>(output, bias, residual, p, pixels, pixelBase, q1, c01);
        Store<TActivation>(output, bias, residual, p, pixels, pixelBase, q2, c02);
        Store<TActivation>(output, bias, residual, p, pixels, pixelBase, q3, c03);
        Store<TActivation>(output, bias, residual, p, pixels, p1, channelBase, c10);
        Store<TActivation>(output, bias, residual, p, pixels, p1, q1, c11);
        Store<TActivation>(output, bias, residual, p, pixels, p1, q2, c12);
        Store<TActivation>(output, bias, residual, p, pixels, p1, q3, c13);
        Store<TActivation>(output, bias, residual, p, pixels, p2, channelBase, c20);
        Store<TActivation>(output, bias, residual, p, pixels, p2, q1, c21);
        Store<TActivation>(output, bias, residual, p, pixels, p2, q2, c22);
        Store<TActivation>(output, bias, residual, p, pixels, p2, q3, c23);
        Store<TActivation>(output, bias, residual, p, pixels, p3, channelBase, c30);
        Store<TActivation>(output, bias, residual, p, pixels, p3, q1, c31);
        Store<TActivation>(output, bias, residual, p, pixels, p3, q2, c32);
        Store<TActivation>(output, bias, residual, p, pixels, p3, q3, c33);
    }

    /// <summary>Input value <c>ci</c> at tap offset (dy, dx) of a window, 0 outside the image, past the depth or past the last pixel.</summary>
    private static float Gather(ArrayView<float> input, ArrayView<float> inputScale, in ConvParams p, in WindowOrigin w, int dy, int dx, int ci, bool inDepth)
    {
        int iy = w.Y + dy, ix = w.X + dx;
        if (!inDepth || w.Image < 0 || iy < 0 || iy >= p.InHeight || ix < 0 || ix >= p.InWidth) return 0f;
        float a = input[((w.Image * p.InHeight + iy) * p.InWidth + ix) * p.InChannels + ci];
        return p.ScalesInput != 0 ? a * inputScale[w.Image * p.InChannels + ci] : a;
    }

    // This thread's output value of a one-thread-per-value launch and its NHWC position; false past the end.
    private static bool OutputValue(in ConvParams p, out int i, out int n, out int oy, out int ox, out int channel)
    {
        i = Grid.GlobalIndex.X;
        NhwcIndex.Position(i, p.OutHeight, p.OutWidth, p.OutChannels, out n, out oy, out ox, out channel);
        return i < p.Batch * p.OutHeight * p.OutWidth * p.OutChannels;
    }

    private static float KernelValue(ArrayView<float> weights, in ConvParams p, int k, int depth, int channel) =>
        k < depth && channel < p.OutChannels ? weights[k * p.OutChannels + channel] : 0f;

    private static void Store<TActivation>(ArrayView<float> output, ArrayView<float> bias, ArrayView<float> residual, in ConvParams p,
        int pixels, int pixel, int channel, float acc) where TActivation : struct, IKernelActivation
    {
        if (pixel >= pixels || channel >= p.OutChannels) return;
        int o = pixel * p.OutChannels + channel;
        float v = acc + bias[channel];
        if (p.HasResidual != 0) v += residual[o];
        output[o] = default(TActivation).Apply(v, p.ActivationParameter);
    }

    /// <summary>
    /// Depthwise convolution: output channel <c>co = ci·multiplier + q</c> filters input channel <c>ci</c>; one thread
    /// per output element, channels fastest. Launch: 1-D, one thread per output value.
    /// </summary>
    public static void DepthwiseConv2D<TActivation>(ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> output, ConvParams p) where TActivation : struct, IKernelActivation
    {
        if (!OutputValue(p, out int i, out int n, out int oy, out int ox, out int co)) return;
        int outC = p.OutChannels;
        int ci = co / p.DepthMultiplier;
        float acc = 0f;
        for (int ky = 0; ky < p.KernelHeight; ++ky)
        {
            int iy = oy * p.StrideHeight - p.PadTop + ky * p.DilationHeight;
            if (iy < 0 || iy >= p.InHeight) continue;
            for (int kx = 0; kx < p.KernelWidth; ++kx)
            {
                int ix = ox * p.StrideWidth - p.PadLeft + kx * p.DilationWidth;
                if (ix < 0 || ix >= p.InWidth) continue;
                // HWIM kernel: ((ky·kw + kx)·in + ci)·multiplier + q, and ci·multiplier + q is co.
                acc += input[((n * p.InHeight + iy) * p.InWidth + ix) * p.InChannels + ci] * weights[(ky * p.KernelWidth + kx) * outC + co];
            }
        }
        output[i] = default(TActivation).Apply(acc + bias[co], p.ActivationParameter);
    }

    /// <summary>
    /// Transposed convolution as a gather: output <c>(oy, ox, f)</c> sums input pixel <c>(iy, ix)</c> through tap <c>(ky, kx)</c>
    /// wherever <c>iy·stride + ky = oy + padTop</c> (and likewise for x), the kernel in Keras's <c>(kh, kw, filters, in)</c>
    /// layout; then bias and the activation. One thread per output value.
    /// </summary>
    public static void Conv2DTranspose<TActivation>(ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> output, ConvParams p) where TActivation : struct, IKernelActivation
    {
        if (!OutputValue(p, out int i, out int n, out int oy, out int ox, out int f)) return;
        int outC = p.OutChannels;
        float acc = 0f;
        for (int ky = 0; ky < p.KernelHeight; ++ky)
        {
            int ty = oy + p.PadTop - ky;
            if (ty < 0 || ty % p.StrideHeight != 0) continue;
            int iy = ty / p.StrideHeight;
            if (iy >= p.InHeight) continue;
            for (int kx = 0; kx < p.KernelWidth; ++kx)
            {
                int tx = ox + p.PadLeft - kx;
                if (tx < 0 || tx % p.StrideWidth != 0) continue;
                int ix = tx / p.StrideWidth;
                if (ix >= p.InWidth) continue;
                int source = ((n * p.InHeight + iy) * p.InWidth + ix) * p.InChannels;
                int tap = ((ky * p.KernelWidth + kx) * outC + f) * p.InChannels;
                for (int ci = 0; ci < p.InChannels; ++ci) acc += input[source + ci] * weights[tap + ci];
            }
        }
        output[i] = default(TActivation).Apply(acc + bias[f], p.ActivationParameter);
    }
}
