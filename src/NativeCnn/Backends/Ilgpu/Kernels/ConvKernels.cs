using ILGPU;

namespace NativeCnn.Backends.Ilgpu.Kernels;

/// <summary>
/// The work-group shape of the tiled convolution as a struct type argument, so shared-memory tiles and register blocks
/// are sized at compile time: <see cref="Threads"/> × <see cref="Threads"/> threads, each computing a
/// <see cref="Work"/> × <see cref="Work"/> register block, cover a <c>Threads·Work</c> square of the output per group.
/// </summary>
internal interface IConvTile
{
    /// <summary>Threads per group side; also the depth of one shared-memory step.</summary>
    int Threads { get; }

    /// <summary>Outputs per thread per side.</summary>
    int Work { get; }
}

/// <summary>GPUs: 16 × 16 threads, 4 × 4 outputs each (a 64 × 64 block, 8.2 KB of shared memory).</summary>
internal readonly struct GpuConvTile : IConvTile
{
    public int Threads => 16;
    public int Work => 4;
}

/// <summary>
/// ILGPU's CPU accelerator, which runs each simulated thread as an OS thread: 4 × 4 threads, 2 × 2 outputs each, so a
/// group fits its 16-thread limit and tiny test shapes do not pay for idle threads.
/// </summary>
internal readonly struct SmallConvTile : IConvTile
{
    public int Threads => 4;
    public int Work => 2;
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
    /// <summary>
    /// Conv2D as an implicit GEMM (rows: output pixels n·oy·ox; columns: output channels; depth: (ky, kx, ci), which is the
    /// row-major HWIO kernel). Each group stages a <c>Threads</c>-deep slice of the gathered input and of the kernel in
    /// shared memory and each thread accumulates a <c>Work × Work</c> register block strided by <c>Threads</c> (pixels
    /// <c>ty + Threads·i</c>, channels <c>tx + Threads·q</c>), so kernel reads and output writes are contiguous across
    /// <c>tx</c>. Padding is folded into the gather (out-of-image taps read 0). Epilogue:
    /// <c>act(acc + bias[c] (+ residual))</c>. Launch: grid (pixel blocks, channel blocks), group (Threads, Threads).
    /// </summary>
    public static void Conv2D<TActivation, TTile>(ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> residual, ArrayView<float> inputScale, ArrayView<float> output, ConvParams p)
        where TActivation : struct, IKernelActivation where TTile : struct, IConvTile
    {
        int threads = default(TTile).Threads, work = default(TTile).Work;
        int block = threads * work, inputStride = block + 1;
        var tileInput = SharedMemory.Allocate<float>(default(TTile).Threads * (default(TTile).Threads * default(TTile).Work + 1));
        var tileWeights = SharedMemory.Allocate<float>(default(TTile).Threads * default(TTile).Threads * default(TTile).Work);
        var acc = LocalMemory.Allocate<float>(default(TTile).Work * default(TTile).Work);
        var imageBase = LocalMemory.Allocate<int>(default(TTile).Work);
        var baseY = LocalMemory.Allocate<int>(default(TTile).Work);
        var baseX = LocalMemory.Allocate<int>(default(TTile).Work);
        int tx = Group.IdxX, ty = Group.IdxY;
        int pixelBase = Grid.IdxX * block, channelBase = Grid.IdxY * block;
        int pixels = p.Batch * p.OutHeight * p.OutWidth;
        int depth = p.KernelHeight * p.KernelWidth * p.InChannels;
        for (int i = 0; i < work; ++i)
        {
            int pixel = pixelBase + ty + threads * i;
            int rest = pixel / p.OutWidth;
            baseY[i] = rest % p.OutHeight * p.StrideHeight - p.PadTop;
            baseX[i] = pixel % p.OutWidth * p.StrideWidth - p.PadLeft;
            // -1 marks a row past the last pixel; the image index doubles as the scale row.
            imageBase[i] = pixel < pixels ? rest / p.OutHeight : -1;
        }
        for (int i = 0; i < work * work; ++i) acc[i] = 0f;
        for (int k0 = 0; k0 < depth; k0 += threads)
        {
            int k = k0 + tx;
            int ci = k % p.InChannels, tap = k / p.InChannels;
            int dy = tap / p.KernelWidth * p.DilationHeight, dx = tap % p.KernelWidth * p.DilationWidth;
            for (int i = 0; i < work; ++i)
            {
                int n = imageBase[i];
                int iy = baseY[i] + dy, ix = baseX[i] + dx;
                float a = 0f;
                if (k < depth && n >= 0 && iy >= 0 && iy < p.InHeight && ix >= 0 && ix < p.InWidth)
                {
                    a = input[((n * p.InHeight + iy) * p.InWidth + ix) * p.InChannels + ci];
                    if (p.ScalesInput != 0) a *= inputScale[n * p.InChannels + ci];
                }
                tileInput[tx * inputStride + ty + threads * i] = a;
            }
            int kr = k0 + ty;
            for (int q = 0; q < work; ++q)
            {
                int c = channelBase + tx + threads * q;
                tileWeights[ty * block + tx + threads * q] = kr < depth && c < p.OutChannels ? weights[kr * p.OutChannels + c] : 0f;
            }
            Group.Barrier();
            for (int j = 0; j < threads; ++j)
                for (int i = 0; i < work; ++i)
                {
                    float a = tileInput[j * inputStride + ty + threads * i];
                    for (int q = 0; q < work; ++q) acc[i * work + q] += a * tileWeights[j * block + tx + threads * q];
                }
            Group.Barrier();
        }
        for (int i = 0; i < work; ++i)
        {
            int pixel = pixelBase + ty + threads * i;
            if (pixel >= pixels) continue;
            for (int q = 0; q < work; ++q)
            {
                int c = channelBase + tx + threads * q;
                if (c >= p.OutChannels) continue;
                int o = pixel * p.OutChannels + c;
                float v = acc[i * work + q] + bias[c];
                if (p.HasResidual != 0) v += residual[o];
                output[o] = default(TActivation).Apply(v, p.ActivationParameter);
            }
        }
    }

    /// <summary>
    /// Depthwise convolution: output channel <c>co = ci·multiplier + q</c> filters input channel <c>ci</c>; one thread
    /// per output element, channels fastest. Launch: 1-D, one thread per output value.
    /// </summary>
    public static void DepthwiseConv2D<TActivation>(ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> output, ConvParams p) where TActivation : struct, IKernelActivation
    {
        int i = Grid.GlobalIndex.X;
        int outC = p.OutChannels;
        if (i >= p.Batch * p.OutHeight * p.OutWidth * outC) return;
        int co = i % outC, rest = i / outC;
        int ox = rest % p.OutWidth;
        rest /= p.OutWidth;
        int oy = rest % p.OutHeight, n = rest / p.OutHeight;
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
        int i = Grid.GlobalIndex.X;
        int outC = p.OutChannels;
        if (i >= p.Batch * p.OutHeight * p.OutWidth * outC) return;
        int f = i % outC, rest = i / outC;
        int ox = rest % p.OutWidth;
        rest /= p.OutWidth;
        int oy = rest % p.OutHeight, n = rest / p.OutHeight;
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
