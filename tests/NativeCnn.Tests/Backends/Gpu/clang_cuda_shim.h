/* Lets clang compile the CUDA dialect with -nocudainc -nocudalib, as CI does to check it without the CUDA toolkit.
   NVRTC declares all of this itself. The math functions stay external calls: the check is about syntax and codegen. */
#include <__clang_cuda_builtin_vars.h>
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __forceinline__ __attribute__((always_inline))
#define fmaf(a, b, c) __builtin_fmaf(a, b, c)
#define fmaxf(a, b) __builtin_fmaxf(a, b)
#define fminf(a, b) __builtin_fminf(a, b)
extern "C" __device__ float expf(float);
extern "C" __device__ float tanhf(float);
