/*
 * NativeCnn GPU kernels: one C-subset source compiled as OpenCL C 1.2 (clBuildProgram) and as CUDA C++ (NVRTC, or
 * clang -x cuda offline). KernelSource prepends a prelude defining, per dialect: KERNEL, GLOBAL, LOCAL, RESTRICT,
 * BARRIER(), GLOBAL_ID(d), LOCAL_ID(d), GROUP_ID(d), DEVICE_FN, FMAF, MAXF, MINF, EXPF, TANHF.
 *
 * Conventions: tensors are NHWC float32, indices are int (every tensor here is below 2^31 elements), float literals
 * carry f (no double math), helpers take no pointers (OpenCL would need address-space qualifiers on them). Launch
 * geometry is OpenCL's: the global size is rounded up to a multiple of the local size, so every kernel bounds-checks,
 * and no barrier ever sits in divergent control flow. Activation codes match GpuActivation: 0 linear, 1 relu (capped at
 * cap), 2 sigmoid, 3 swish, 4 tanh.
 */

#define TILE 16

DEVICE_FN float activate(float v, int act, float cap)
{
    if (act == 1) return MINF(MAXF(v, 0.0f), cap);
    if (act == 2) return 1.0f / (1.0f + EXPF(-v));
    if (act == 3) return v / (1.0f + EXPF(-v));
    if (act == 4) return TANHF(v);
    return v;
}

/* The NHWC coordinates of flat index i in a tensor of h x w pixels of the given channels. */
typedef struct { int n, y, x, c; } Nhwc;

DEVICE_FN Nhwc nhwc_coordinates(int i, int h, int w, int channels)
{
    Nhwc at;
    at.c = i % channels;
    int rest = i / channels;
    at.x = rest % w;
    rest /= w;
    at.y = rest % h;
    at.n = rest / h;
    return at;
}

/*
 * Convolution as an implicit GEMM: rows are output pixels (n, oy, ox), columns are output channels, and the depth is
 * (ky, kx, ci), which is exactly the row-major HWIO kernel. A 16 x 16 work group computes a BLOCK x BLOCK tile of the
 * output, each work item a WORK x WORK register block strided by 16 (pixels ty + 16 i, channels tx + 16 q), so that
 * kernel reads and output writes are contiguous across tx. Each step stages a DEPTH-deep slice of the gathered input
 * and of the kernel in local memory. Dimension 0 of the launch runs over pixel tiles (CUDA's grid.x has the large
 * limit), dimension 1 over channel tiles.
 */
#define BLOCK 64
#define DEPTH 16
#define WORK 4

KERNEL void conv2d(const GLOBAL float* input, const GLOBAL float* weights, const GLOBAL float* bias,
                   const GLOBAL float* residual, GLOBAL float* output,
                   int batch, int inH, int inW, int inC, int outH, int outW, int outC,
                   int kH, int kW, int strideH, int strideW, int dilationH, int dilationW, int padTop, int padLeft,
                   int hasResidual, int act, float cap)
{
    LOCAL float tileInput[DEPTH][BLOCK + 1];
    LOCAL float tileWeights[DEPTH][BLOCK];
    int tx = LOCAL_ID(0), ty = LOCAL_ID(1);
    int pixelBase = GROUP_ID(0) * BLOCK, channelBase = GROUP_ID(1) * BLOCK;
    int pixels = batch * outH * outW;
    int depth = kH * kW * inC;
    int imageBase[WORK], baseY[WORK], baseX[WORK];
    for (int i = 0; i < WORK; ++i)
    {
        int pixel = pixelBase + ty + TILE * i;
        int ox = pixel % outW;
        int rest = pixel / outW;
        baseY[i] = (rest % outH) * strideH - padTop;
        baseX[i] = ox * strideW - padLeft;
        imageBase[i] = pixel < pixels ? (rest / outH) * inH * inW * inC : -1;
    }
    float acc[WORK][WORK];
    for (int i = 0; i < WORK; ++i)
        for (int q = 0; q < WORK; ++q) acc[i][q] = 0.0f;
    for (int k0 = 0; k0 < depth; k0 += DEPTH)
    {
        int k = k0 + tx;
        int ci = k % inC;
        int tap = k / inC;
        int dy = (tap / kW) * dilationH, dx = (tap % kW) * dilationW;
        for (int i = 0; i < WORK; ++i)
        {
            int iy = baseY[i] + dy, ix = baseX[i] + dx;
            float a = 0.0f;
            if (k < depth && imageBase[i] >= 0 && iy >= 0 && iy < inH && ix >= 0 && ix < inW)
                a = input[imageBase[i] + (iy * inW + ix) * inC + ci];
            tileInput[tx][ty + TILE * i] = a;
        }
        int kr = k0 + ty;
        for (int q = 0; q < WORK; ++q)
        {
            int c = channelBase + tx + TILE * q;
            tileWeights[ty][tx + TILE * q] = (kr < depth && c < outC) ? weights[kr * outC + c] : 0.0f;
        }
        BARRIER();
        for (int j = 0; j < DEPTH; ++j)
        {
            float a[WORK], b[WORK];
            for (int i = 0; i < WORK; ++i) a[i] = tileInput[j][ty + TILE * i];
            for (int q = 0; q < WORK; ++q) b[q] = tileWeights[j][tx + TILE * q];
            for (int i = 0; i < WORK; ++i)
                for (int q = 0; q < WORK; ++q) acc[i][q] = FMAF(a[i], b[q], acc[i][q]);
        }
        BARRIER();
    }
    for (int i = 0; i < WORK; ++i)
    {
        int pixel = pixelBase + ty + TILE * i;
        if (pixel >= pixels) continue;
        for (int q = 0; q < WORK; ++q)
        {
            int c = channelBase + tx + TILE * q;
            if (c >= outC) continue;
            int o = pixel * outC + c;
            float v = acc[i][q] + bias[c];
            if (hasResidual) v += residual[o];
            output[o] = activate(v, act, cap);
        }
    }
}

/* Output channel co = ci * multiplier + q filters input channel ci; one work item per output element. */
KERNEL void depthwise_conv2d(const GLOBAL float* input, const GLOBAL float* weights, const GLOBAL float* bias,
                             GLOBAL float* output,
                             int batch, int inH, int inW, int inC, int outH, int outW, int multiplier,
                             int kH, int kW, int strideH, int strideW, int dilationH, int dilationW,
                             int padTop, int padLeft, int act, float cap)
{
    int i = GLOBAL_ID(0);
    int outC = inC * multiplier;
    if (i >= batch * outH * outW * outC) return;
    Nhwc at = nhwc_coordinates(i, outH, outW, outC);
    int co = at.c, ox = at.x, oy = at.y, n = at.n;
    int ci = co / multiplier, q = co % multiplier;
    float acc = 0.0f;
    for (int ky = 0; ky < kH; ++ky)
    {
        int iy = oy * strideH - padTop + ky * dilationH;
        if (iy < 0 || iy >= inH) continue;
        for (int kx = 0; kx < kW; ++kx)
        {
            int ix = ox * strideW - padLeft + kx * dilationW;
            if (ix < 0 || ix >= inW) continue;
            acc = FMAF(input[((n * inH + iy) * inW + ix) * inC + ci], weights[((ky * kW + kx) * inC + ci) * multiplier + q], acc);
        }
    }
    output[i] = activate(acc + bias[co], act, cap);
}

KERNEL void channel_affine(const GLOBAL float* input, const GLOBAL float* scale, const GLOBAL float* shift,
                           GLOBAL float* output, int count, int channels, int act, float cap)
{
    int i = GLOBAL_ID(0);
    if (i >= count) return;
    int c = i % channels;
    output[i] = activate(FMAF(input[i], scale[c], shift[c]), act, cap);
}

KERNEL void activation(const GLOBAL float* input, GLOBAL float* output, int count, int act, float cap)
{
    int i = GLOBAL_ID(0);
    if (i < count) output[i] = activate(input[i], act, cap);
}

/* One work item per row: rows are few (one per image), and a row of 1000 logits is cheap to walk three times. */
KERNEL void softmax_rows(const GLOBAL float* input, GLOBAL float* output, int rows, int length)
{
    int r = GLOBAL_ID(0);
    if (r >= rows) return;
    int start = r * length;
    float top = input[start];
    for (int j = 1; j < length; ++j) top = MAXF(top, input[start + j]);
    float sum = 0.0f;
    for (int j = 0; j < length; ++j)
    {
        float e = EXPF(input[start + j] - top);
        output[start + j] = e;
        sum += e;
    }
    float inverse = 1.0f / sum;
    for (int j = 0; j < length; ++j) output[start + j] *= inverse;
}

KERNEL void add(const GLOBAL float* left, const GLOBAL float* right, GLOBAL float* output, int count)
{
    int i = GLOBAL_ID(0);
    if (i < count) output[i] = left[i] + right[i];
}

/* imageLength 0: same shapes; otherwise right is (N, 1, 1, C) and scales each channel of an image of imageLength values. */
KERNEL void multiply(const GLOBAL float* left, const GLOBAL float* right, GLOBAL float* output,
                     int count, int channels, int imageLength)
{
    int i = GLOBAL_ID(0);
    if (i >= count) return;
    int j = imageLength == 0 ? i : (i / imageLength) * channels + i % channels;
    output[i] = left[i] * right[j];
}

KERNEL void copy(const GLOBAL float* input, GLOBAL float* output, int count)
{
    int i = GLOBAL_ID(0);
    if (i < count) output[i] = input[i];
}

KERNEL void zero_padding2d(const GLOBAL float* input, GLOBAL float* output,
                           int batch, int inH, int inW, int channels, int outH, int outW, int padTop, int padLeft)
{
    int i = GLOBAL_ID(0);
    if (i >= batch * outH * outW * channels) return;
    Nhwc at = nhwc_coordinates(i, outH, outW, channels);
    int c = at.c, ox = at.x, oy = at.y, n = at.n;
    int iy = oy - padTop, ix = ox - padLeft;
    output[i] = (iy >= 0 && iy < inH && ix >= 0 && ix < inW) ? input[((n * inH + iy) * inW + ix) * channels + c] : 0.0f;
}

/* Padded cells are skipped, never read as zeros: the average divides by the cells inside the input (TensorFlow SAME). */
KERNEL void pooling2d(const GLOBAL float* input, GLOBAL float* output,
                      int batch, int inH, int inW, int channels, int outH, int outW,
                      int poolH, int poolW, int strideH, int strideW, int padTop, int padLeft, int isMax)
{
    int i = GLOBAL_ID(0);
    if (i >= batch * outH * outW * channels) return;
    Nhwc at = nhwc_coordinates(i, outH, outW, channels);
    int c = at.c, ox = at.x, oy = at.y, n = at.n;
    float acc = isMax ? -3.402823466e+38f : 0.0f;
    int cells = 0;
    for (int py = 0; py < poolH; ++py)
    {
        int iy = oy * strideH - padTop + py;
        if (iy < 0 || iy >= inH) continue;
        for (int px = 0; px < poolW; ++px)
        {
            int ix = ox * strideW - padLeft + px;
            if (ix < 0 || ix >= inW) continue;
            float v = input[((n * inH + iy) * inW + ix) * channels + c];
            acc = isMax ? MAXF(acc, v) : acc + v;
            ++cells;
        }
    }
    output[i] = isMax ? acc : acc / (float)(cells > 0 ? cells : 1);
}

/* One work item per (image, channel); neighbouring items read neighbouring channels. */
KERNEL void global_pooling2d(const GLOBAL float* input, GLOBAL float* output, int batch, int pixels, int channels, int isMax)
{
    int i = GLOBAL_ID(0);
    if (i >= batch * channels) return;
    int c = i % channels, n = i / channels;
    const GLOBAL float* image = input + n * pixels * channels + c;
    float acc = isMax ? -3.402823466e+38f : 0.0f;
    for (int p = 0; p < pixels; ++p) acc = isMax ? MAXF(acc, image[p * channels]) : acc + image[p * channels];
    output[i] = isMax ? acc : acc / (float)pixels;
}

/* output (batch, units) = act(input (batch, inputs) . weights (inputs, units) + bias); one work item per output. */
KERNEL void dense(const GLOBAL float* input, const GLOBAL float* weights, const GLOBAL float* bias, GLOBAL float* output,
                  int batch, int inputs, int units, int act, float cap)
{
    int i = GLOBAL_ID(0);
    if (i >= batch * units) return;
    int u = i % units, n = i / units;
    const GLOBAL float* row = input + n * inputs;
    float acc = 0.0f;
    for (int k = 0; k < inputs; ++k) acc = FMAF(row[k], weights[k * units + u], acc);
    output[i] = activate(acc + bias[u], act, cap);
}
