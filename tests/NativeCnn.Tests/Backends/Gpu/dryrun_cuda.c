/* A dry-run CUDA driver and NVRTC for testing the CUDA backend's host code without a GPU. Built as libcuda.so.1 and as
   libnvrtc.so.12 from this one file. Device memory is host memory; cuLaunchKernel checks the launch covers the work
   and computes the element-wise kernels add, copy and multiply from the packed arguments, so a wrong argument order,
   size or geometry shows up as a wrong result. Any other kernel returns CUDA_ERROR_NOT_FOUND. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
typedef unsigned long long u64;

int cuInit(unsigned flags) { return 0; }
int cuDriverGetVersion(int* v) { *v = 12040; return 0; }
int cuDeviceGetCount(int* c) { *c = 1; return 0; }
int cuDeviceGet(int* d, int ordinal) { *d = ordinal; return ordinal == 0 ? 0 : 101; }
int cuDeviceGetName(char* n, int length, int d) { snprintf(n, length, "DryRun GPU"); return 0; }
int cuDeviceGetAttribute(int* v, int attribute, int d) { *v = attribute == 75 ? 9 : 0; return 0; }
int cuDevicePrimaryCtxRetain(void** c, int d) { *c = (void*)0x1; return 0; }
int cuDevicePrimaryCtxRelease_v2(int d) { return 0; }
int cuCtxSetCurrent(void* c) { return c == (void*)0x1 ? 0 : 201; }
int cuCtxSynchronize(void) { return 0; }
int cuModuleLoadData(void** m, const void* image) { *m = (void*)0x2; return memcmp(image, "CUBIN", 5) == 0 ? 0 : 200; }
int cuModuleGetFunction(void** f, void* m, const char* name) { *f = strdup(name); return 0; }
int cuModuleUnload(void* m) { return 0; }
int cuMemAlloc_v2(u64* p, size_t n) { *p = (u64)malloc(n); return *p ? 0 : 2; }
int cuMemFree_v2(u64 p) { free((void*)p); return 0; }
int cuMemsetD32_v2(u64 d, unsigned v, size_t n) { for (size_t i = 0; i < n; i++) ((unsigned*)d)[i] = v; return 0; }
int cuMemcpyHtoD_v2(u64 d, const void* s, size_t n) { memcpy((void*)d, s, n); return 0; }
int cuMemcpyDtoH_v2(void* d, u64 s, size_t n) { memcpy(d, (void*)s, n); return 0; }
int cuGetErrorName(int e, const char** s)
{
    *s = e == 1 ? "CUDA_ERROR_INVALID_VALUE" : e == 500 ? "CUDA_ERROR_NOT_FOUND" : "CUDA_ERROR_UNKNOWN";
    return 0;
}

static float* F(void* p) { return (float*)*(u64*)p; }
static int I(void* p) { return *(int*)p; }

int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void* stream, void** p, void** extra)
{
    const char* name = (const char*)f;
    long threads = (long)gx * bx * gy * by * gz * bz;
    if (!strcmp(name, "add"))
    {
        int n = I(p[3]);
        if (threads < n) return 1;
        for (int i = 0; i < n; i++) F(p[2])[i] = F(p[0])[i] + F(p[1])[i];
        return 0;
    }
    if (!strcmp(name, "copy"))
    {
        int n = I(p[2]);
        if (threads < n) return 1;
        for (int i = 0; i < n; i++) F(p[1])[i] = F(p[0])[i];
        return 0;
    }
    if (!strcmp(name, "multiply"))
    {
        int n = I(p[3]), channels = I(p[4]), image = I(p[5]);
        if (threads < n) return 1;
        for (int i = 0; i < n; i++)
            F(p[2])[i] = F(p[0])[i] * F(p[1])[image == 0 ? i : (i / image) * channels + i % channels];
        return 0;
    }
    return 500;
}

int nvrtcVersion(int* major, int* minor) { *major = 12; *minor = 4; return 0; }
int nvrtcGetNumSupportedArchs(int* n) { *n = 2; return 0; }
int nvrtcGetSupportedArchs(int* a) { a[0] = 80; a[1] = 90; return 0; }
int nvrtcCreateProgram(void** p, const char* source, const char* name, int n, const char** h, const char** i)
{
    *p = strdup(source);
    return strstr(source, "#define KERNEL extern \"C\" __global__") && strstr(source, "KERNEL void conv2d(") ? 0 : 3;
}
int nvrtcCompileProgram(void* p, int n, const char** options)
{
    return n > 0 && !strcmp(options[0], "--gpu-architecture=sm_90") ? 0 : 6;
}
int nvrtcGetCUBINSize(void* p, size_t* s) { *s = 5; return 0; }
int nvrtcGetCUBIN(void* p, char* b) { memcpy(b, "CUBIN", 5); return 0; }
int nvrtcGetPTXSize(void* p, size_t* s) { *s = 4; return 0; }
int nvrtcGetPTX(void* p, char* b) { memcpy(b, "PTX", 4); return 0; }
int nvrtcGetProgramLogSize(void* p, size_t* s) { *s = 1; return 0; }
int nvrtcGetProgramLog(void* p, char* b) { b[0] = 0; return 0; }
int nvrtcDestroyProgram(void** p) { free(*p); *p = 0; return 0; }
const char* nvrtcGetErrorString(int e) { return e == 6 ? "NVRTC_ERROR_COMPILATION" : "NVRTC_ERROR"; }
