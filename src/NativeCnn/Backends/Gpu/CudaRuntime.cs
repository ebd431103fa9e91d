using System.Runtime.InteropServices;
using System.Text;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// CUDA driver API on the device's primary context, with the kernel source compiled by NVRTC once per device and
/// process. The legacy default stream orders every launch and copy, so <c>cuMemcpyDtoH</c> is the sync point. CUDA's
/// current context is per thread, so every entry point makes it current first.
/// </summary>
internal sealed unsafe class CudaRuntime : GpuRuntime
{
    private readonly CudaModule _module;

    public CudaRuntime(int ordinal)
    {
        _module = CudaModule.Get(ordinal);
        Name = $"cuda:{ordinal} ({_module.DeviceName})";
    }

    public override string Name { get; }

    private CudaContextHandle Context => _module.Context;

    public override GpuBuffer Allocate(TensorShape shape) => new Buffer(this, shape);

    public override GpuLaunch CreateLaunch(string kernel, ReadOnlySpan<KernelArgument> arguments, LaunchGeometry geometry) =>
        new Launch(this, kernel, arguments, geometry);

    public override void Synchronize()
    {
        Context.MakeCurrent();
        CudaApi.Check(CudaApi.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    public override void Dispose() { }

    private sealed class Buffer : GpuBuffer<CudaMemoryHandle>
    {
        private readonly CudaRuntime _runtime;

        public Buffer(CudaRuntime runtime, TensorShape shape) : base(shape)
        {
            _runtime = runtime;
            runtime.Context.MakeCurrent();
            ulong pointer;
            nuint bytes = checked((nuint)(AllocatedLength * sizeof(float)));
            CudaApi.Check(CudaApi.cuMemAlloc_v2(&pointer, bytes), "cuMemAlloc_v2", $"{bytes} bytes for {shape}");
            Memory = new CudaMemoryHandle(pointer, runtime.Context);
            CudaApi.Check(CudaApi.cuMemsetD32_v2(pointer, 0, (nuint)AllocatedLength), "cuMemsetD32_v2");
        }

        /// <summary>A view: the same device pointer (offset 0), which launches bind as they bind the buffer.</summary>
        private Buffer(Buffer source, TensorShape shape) : base(source, shape) => _runtime = source._runtime;

        protected override GpuBuffer CreateView(TensorShape shape) => new Buffer(this, shape);

        protected override void Write(ReadOnlySpan<float> source)
        {
            _runtime.Context.MakeCurrent();
            fixed (float* p = source)
                CudaApi.Check(CudaApi.cuMemcpyHtoD_v2(Memory.Pointer, p, (nuint)source.Length * sizeof(float)), "cuMemcpyHtoD_v2");
        }

        protected override void Read(Span<float> destination)
        {
            _runtime.Context.MakeCurrent();
            fixed (float* p = destination)
                CudaApi.Check(CudaApi.cuMemcpyDtoH_v2(p, Memory.Pointer, (nuint)destination.Length * sizeof(float)), "cuMemcpyDtoH_v2");
        }
    }

    /// <summary>
    /// <c>cuLaunchKernel</c> takes an array of pointers to the argument values; both live in one native block made here,
    /// so <see cref="Enqueue"/> allocates nothing.
    /// </summary>
    private sealed class Launch : GpuLaunch
    {
        private readonly CudaRuntime _runtime;
        private readonly nint _function;
        private readonly LaunchGeometry _geometry;
        private readonly int _count;
        private void* _block;

        public Launch(CudaRuntime runtime, string name, ReadOnlySpan<KernelArgument> arguments, LaunchGeometry geometry)
        {
            _runtime = runtime;
            _geometry = geometry;
            _function = runtime._module.Function(name);
            _count = arguments.Length;
            _block = NativeMemory.AllocZeroed((nuint)(_count * 2 * sizeof(ulong) + 1));
            var pointers = (void**)_block;
            var values = (ulong*)_block + _count;
            for (int i = 0; i < _count; i++)
            {
                var argument = arguments[i];
                if (argument.Buffer is Buffer buffer) values[i] = buffer.Memory.Pointer;
                else if (argument.Buffer is not null)
                    throw new ArgumentException($"{name}: argument {i} is a {argument.Buffer.GetType().Name}, not a CUDA buffer.");
                else if (argument.IsFloat) *(float*)&values[i] = argument.Float;
                else *(int*)&values[i] = argument.Int;
                pointers[i] = &values[i];
            }
        }

        public override void Enqueue()
        {
            _runtime.Context.MakeCurrent();
            CudaApi.Check(CudaApi.cuLaunchKernel(_function,
                (uint)(_geometry.Global0 / _geometry.Local0), (uint)(_geometry.Global1 / _geometry.Local1), 1,
                (uint)_geometry.Local0, (uint)_geometry.Local1, 1, 0, 0, (void**)_block, null), "cuLaunchKernel");
        }

        public override void Dispose()
        {
            NativeMemory.Free(_block);
            _block = null;
        }
    }
}

/// <summary>The primary context and the compiled kernel module of one CUDA device, made once per process.</summary>
internal sealed unsafe class CudaModule(string deviceName, CudaContextHandle context, CudaModuleHandle module)
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<int, CudaModule> s_modules = [];

    private readonly Dictionary<string, nint> _functions = new(StringComparer.Ordinal);

    public string DeviceName { get; } = deviceName;

    public CudaContextHandle Context { get; } = context;

    public static CudaModule Get(int ordinal)
    {
        lock (s_lock)
        {
            if (!s_modules.TryGetValue(ordinal, out var module))
            {
                module = Load(ordinal);
                s_modules[ordinal] = module;
            }
            return module;
        }
    }

    public nint Function(string name)
    {
        lock (_functions)
        {
            if (_functions.TryGetValue(name, out var function)) return function;
            fixed (byte* n = Encoding.UTF8.GetBytes(name + "\0"))
                CudaApi.Check(CudaApi.cuModuleGetFunction(&function, module.DangerousGetHandle(), n), "cuModuleGetFunction", name);
            _functions[name] = function;
            return function;
        }
    }

    private static CudaModule Load(int ordinal)
    {
        CudaApi.Check(CudaApi.cuInit(0), "cuInit");
        int device;
        CudaApi.Check(CudaApi.cuDeviceGet(&device, ordinal), "cuDeviceGet", $"device {ordinal}");
        string name = CudaApi.DeviceName(device);
        int major = CudaApi.Attribute(device, CudaApi.AttributeComputeCapabilityMajor);
        int minor = CudaApi.Attribute(device, CudaApi.AttributeComputeCapabilityMinor);
        nint context;
        CudaApi.Check(CudaApi.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        var contextHandle = new CudaContextHandle(context, device);
        contextHandle.MakeCurrent();
        var image = NvrtcApi.Compile(KernelSource.Cuda, major, minor, []);
        nint module;
        fixed (byte* p = image) CudaApi.Check(CudaApi.cuModuleLoadData(&module, p), "cuModuleLoadData", $"{name} (sm_{major}{minor})");
        return new CudaModule(name, contextHandle, new CudaModuleHandle(module, contextHandle));
    }
}
