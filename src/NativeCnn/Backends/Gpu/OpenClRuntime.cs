using System.Text;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// OpenCL: one in-order command queue per runtime over a context and program shared by every runtime on the same
/// device, because building the program is the expensive part (about a second on PoCL).
/// </summary>
internal sealed unsafe class OpenClRuntime : GpuRuntime
{
    private readonly OpenClProgram _program;
    private readonly ClHandle _queue;

    public OpenClRuntime(int platform, int device)
    {
        _program = OpenClProgram.Get(platform, device);
        _queue = ClHandle.Queue(CreateQueue(_program.Context.DangerousGetHandle(), _program.Device));
        Name = $"opencl:{platform}:{device} ({_program.DeviceName})";
    }

    public override string Name { get; }

    internal nint Queue => _queue.DangerousGetHandle();

    public override GpuBuffer Allocate(TensorShape shape) => new Buffer(this, shape);

    public override GpuLaunch CreateLaunch(string kernel, ReadOnlySpan<KernelArgument> arguments, LaunchGeometry geometry) =>
        new Launch(this, kernel, arguments, geometry);

    public override void Synchronize() => OpenClApi.Check(OpenClApi.clFinish(Queue), "clFinish");

    public override void Dispose() => _queue.Dispose();

    /// <summary>An in-order queue; OpenCL 1.2 drivers (older AMD and Apple ones) only have the call deprecated in 2.0.</summary>
    private static nint CreateQueue(nint context, nint device)
    {
        int error;
        nint queue;
        try
        {
            queue = OpenClApi.clCreateCommandQueueWithProperties(context, device, null, &error);
            OpenClApi.Check(error, "clCreateCommandQueueWithProperties");
        }
        catch (EntryPointNotFoundException)
        {
            queue = OpenClApi.clCreateCommandQueue(context, device, 0, &error);
            OpenClApi.Check(error, "clCreateCommandQueue");
        }
        return queue;
    }

    private sealed class Buffer : GpuBuffer<ClHandle>
    {
        private readonly OpenClRuntime _runtime;

        public Buffer(OpenClRuntime runtime, TensorShape shape) : base(shape)
        {
            _runtime = runtime;
            int error;
            nuint bytes = checked((nuint)(AllocatedLength * sizeof(float)));
            nint memory = OpenClApi.clCreateBuffer(runtime._program.Context.DangerousGetHandle(), OpenClApi.MemReadWrite, bytes, null, &error);
            OpenClApi.Check(error, "clCreateBuffer", $"{bytes} bytes for {shape}");
            Memory = ClHandle.Memory(memory);
            float zero = 0f;
            OpenClApi.Check(OpenClApi.clEnqueueFillBuffer(runtime.Queue, memory, &zero, sizeof(float), 0, bytes, 0, null, null), "clEnqueueFillBuffer");
        }

        /// <summary>A view: the same cl_mem, so kernels take it as they take the buffer (an offset would need a sub-buffer).</summary>
        private Buffer(Buffer source, TensorShape shape) : base(source, shape) => _runtime = source._runtime;

        protected override GpuBuffer CreateView(TensorShape shape) => new Buffer(this, shape);

        protected override void Write(ReadOnlySpan<float> source)
        {
            fixed (float* p = source)
                OpenClApi.Check(OpenClApi.clEnqueueWriteBuffer(_runtime.Queue, Memory.DangerousGetHandle(), 1, 0,
                    (nuint)source.Length * sizeof(float), p, 0, null, null), "clEnqueueWriteBuffer");
        }

        protected override void Read(Span<float> destination)
        {
            fixed (float* p = destination)
                OpenClApi.Check(OpenClApi.clEnqueueReadBuffer(_runtime.Queue, Memory.DangerousGetHandle(), 1, 0,
                    (nuint)destination.Length * sizeof(float), p, 0, null, null), "clEnqueueReadBuffer");
        }
    }

    /// <summary>Owns its kernel object, so arguments are set once here and never raced by another op or thread.</summary>
    private sealed class Launch : GpuLaunch
    {
        private readonly OpenClRuntime _runtime;
        private readonly ClHandle _kernel;
        private readonly LaunchGeometry _geometry;
        private readonly GpuBuffer?[] _keepAlive;

        public Launch(OpenClRuntime runtime, string name, ReadOnlySpan<KernelArgument> arguments, LaunchGeometry geometry)
        {
            _runtime = runtime;
            _geometry = geometry;
            _kernel = runtime._program.CreateKernel(name);
            _keepAlive = new GpuBuffer?[arguments.Length];
            nint kernel = _kernel.DangerousGetHandle();
            for (int i = 0; i < arguments.Length; i++)
            {
                var argument = arguments[i];
                int code;
                if (argument.Buffer is Buffer buffer)
                {
                    nint memory = buffer.Memory.DangerousGetHandle();
                    code = OpenClApi.clSetKernelArg(kernel, (uint)i, (nuint)sizeof(nint), &memory);
                    _keepAlive[i] = buffer;
                }
                else if (argument.Buffer is not null)
                {
                    throw new ArgumentException($"{name}: argument {i} is a {argument.Buffer.GetType().Name}, not an OpenCL buffer.");
                }
                else if (argument.IsFloat)
                {
                    float value = argument.Float;
                    code = OpenClApi.clSetKernelArg(kernel, (uint)i, sizeof(float), &value);
                }
                else
                {
                    int value = argument.Int;
                    code = OpenClApi.clSetKernelArg(kernel, (uint)i, sizeof(int), &value);
                }
                OpenClApi.Check(code, "clSetKernelArg", $"{name} argument {i}");
            }
        }

        public override void Enqueue()
        {
            nuint* global = stackalloc nuint[2] { (nuint)_geometry.Global0, (nuint)_geometry.Global1 };
            nuint* local = stackalloc nuint[2] { (nuint)_geometry.Local0, (nuint)_geometry.Local1 };
            OpenClApi.Check(OpenClApi.clEnqueueNDRangeKernel(_runtime.Queue, _kernel.DangerousGetHandle(),
                _geometry.Global1 == 1 && _geometry.Local1 == 1 ? 1u : 2u, null, global, local, 0, null, null), "clEnqueueNDRangeKernel");
        }

        public override void Dispose() => _kernel.Dispose();
    }
}

/// <summary>A context and the built kernel program for one OpenCL device, built once per process and shared.</summary>
internal sealed unsafe class OpenClProgram(nint device, string deviceName, ClHandle context, ClHandle program)
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<(int, int), OpenClProgram> s_programs = [];

    public nint Device { get; } = device;

    public string DeviceName { get; } = deviceName;

    public ClHandle Context { get; } = context;

    /// <summary>The program for platform <paramref name="platform"/>, device <paramref name="device"/>, built on first use.</summary>
    public static OpenClProgram Get(int platform, int device)
    {
        lock (s_lock)
        {
            if (!s_programs.TryGetValue((platform, device), out var program))
            {
                program = Build(platform, device);
                s_programs[(platform, device)] = program;
            }
            return program;
        }
    }

    public ClHandle CreateKernel(string name)
    {
        int error;
        nint kernel;
        fixed (byte* n = Encoding.UTF8.GetBytes(name + "\0")) kernel = OpenClApi.clCreateKernel(program.DangerousGetHandle(), n, &error);
        OpenClApi.Check(error, "clCreateKernel", name);
        return ClHandle.Kernel(kernel);
    }

    private static OpenClProgram Build(int platformIndex, int deviceIndex)
    {
        var platforms = OpenClApi.Platforms();
        if ((uint)platformIndex >= (uint)platforms.Length)
            throw new GpuException("clGetPlatformIDs", OpenClApi.PlatformNotFoundKhr, OpenClApi.ErrorName(OpenClApi.PlatformNotFoundKhr),
                $"platform {platformIndex} requested, {platforms.Length} present");
        var devices = OpenClApi.Devices(platforms[platformIndex]);
        if ((uint)deviceIndex >= (uint)devices.Length)
            throw new GpuException("clGetDeviceIDs", OpenClApi.DeviceNotFound, OpenClApi.ErrorName(OpenClApi.DeviceNotFound),
                $"device {deviceIndex} requested, {devices.Length} present");
        nint device = devices[deviceIndex];
        string name = OpenClApi.InfoString(device, OpenClApi.DeviceName, platform: false);
        int error;
        nint context = OpenClApi.clCreateContext(null, 1, &device, 0, 0, &error);
        OpenClApi.Check(error, "clCreateContext");
        var contextHandle = ClHandle.Context(context);
        var source = Encoding.UTF8.GetBytes(KernelSource.OpenCl);
        nint program;
        fixed (byte* s = source)
        {
            byte* strings = s;
            nuint length = (nuint)source.Length;
            program = OpenClApi.clCreateProgramWithSource(context, 1, &strings, &length, &error);
        }
        OpenClApi.Check(error, "clCreateProgramWithSource");
        var programHandle = ClHandle.Program(program);
        int code;
        fixed (byte* options = "-cl-std=CL1.2\0"u8) code = OpenClApi.clBuildProgram(program, 1, &device, options, 0, 0);
        if (code != OpenClApi.Success)
        {
            string log = OpenClApi.BuildLog(program, device);
            programHandle.Dispose();
            contextHandle.Dispose();
            OpenClApi.Check(code, "clBuildProgram", $"{name}: {log}");
        }
        return new OpenClProgram(device, name, contextHandle, programHandle);
    }
}
