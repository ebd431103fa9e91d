using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Ilgpu;

namespace NativeCnn.Backends;

/// <summary>
/// A place to run models: the CPU, or the ILGPU backend's CUDA devices, OpenCL 2.0+ devices and CPU accelerator
/// (<c>ilgpu-cpu</c>). Looking one up never throws: a device that is not there is returned with
/// <see cref="IsAvailable"/> false and <see cref="UnavailableReason"/> saying why (no driver, no platform, no such index,
/// an OpenCL device without the generic address space...). <see cref="CreateBackend"/> makes the backend. The CPU is
/// listed here; the GPUs are probed through ILGPU (<c>Backends.Ilgpu</c>), so no backend creates another's.
/// </summary>
public sealed class Device
{
    /// <summary>The environment variable <see cref="Best"/> honours first: <c>cpu</c>, <c>cuda:N</c> or <c>opencl:P:D</c>.</summary>
    public const string OverrideVariable = "NATIVECNN_DEVICE";

    /// <summary>
    /// A device as its backend found it: platform and index 0, available and not a GPU unless the backend sets
    /// <see cref="Platform"/>, <see cref="Index"/>, <see cref="UnavailableReason"/> or <see cref="IsGpu"/>.
    /// </summary>
    internal Device(DeviceKind kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    /// <summary>The CPU; always available.</summary>
    public static Device Cpu { get; } = new(DeviceKind.Cpu, $"cpu-{CpuBackend.InstructionSet}");

    /// <summary>
    /// ILGPU's CPU accelerator, <c>ilgpu-cpu</c>: the ILGPU backend's kernels run with one OS thread per simulated GPU
    /// thread, thousands of times slower than the CPU backend. Always available; listed in <see cref="Available"/> but never
    /// chosen by <see cref="Best"/>.
    /// </summary>
    public static Device IlgpuCpu => IlgpuDevices.Cpu;

    /// <summary>Whether this is a GPU (an OpenCL CPU device, such as PoCL, is not); <see cref="Best"/> picks only GPUs.</summary>
    internal bool IsGpu { get; init; }

    /// <summary>Which backend the device runs on.</summary>
    public DeviceKind Kind { get; }

    /// <summary>The OpenCL platform index (0 for other kinds).</summary>
    public int Platform { get; internal init; }

    /// <summary>The OpenCL device index within its platform, or the CUDA ordinal.</summary>
    public int Index { get; internal init; }

    /// <summary>The driver's name for the device, or the requested id when it is unavailable.</summary>
    public string Name { get; }

    /// <summary>True when <see cref="CreateBackend"/> can be expected to succeed.</summary>
    public bool IsAvailable => UnavailableReason is null;

    /// <summary>Why the device cannot be used, e.g. <c>no CUDA driver (libcuda.so.1 not found)</c>; null when available.</summary>
    public string? UnavailableReason { get; internal init; }

    /// <summary>The short id: <c>cpu</c>, <c>opencl:0:0</c>, <c>cuda:0</c>.</summary>
    public string Id => Kind switch
    {
        DeviceKind.OpenCL => $"opencl:{Platform}:{Index}",
        DeviceKind.Cuda => $"cuda:{Index}",
        DeviceKind.IlgpuCpu => "ilgpu-cpu",
        _ => "cpu",
    };

    /// <summary>
    /// OpenCL device <paramref name="device"/> of platform <paramref name="platform"/> (platforms numbered in the order
    /// ILGPU lists them) on the ILGPU backend; it needs OpenCL 2.0+ with the generic address space, which PoCL on CPUs lacks.
    /// </summary>
    public static Device OpenCL(int platform = 0, int device = 0) => IlgpuDevices.OpenCL(platform, device);

    /// <summary>CUDA device <paramref name="ordinal"/> on the ILGPU backend; needs only the driver (libcuda), since ILGPU emits the PTX.</summary>
    public static Device Cuda(int ordinal = 0) => IlgpuDevices.Cuda(ordinal);

    /// <summary>
    /// Every usable device: the CPU, <c>ilgpu-cpu</c>, then each CUDA device, then each OpenCL device of each platform. Unavailable ones
    /// are left out; ask <see cref="Cuda"/> or <see cref="OpenCL"/> directly to learn why one is missing.
    /// </summary>
    public static IReadOnlyList<Device> Available => [Cpu, IlgpuCpu, .. IlgpuDevices.ListAvailable()];

    /// <summary>
    /// The device <see cref="OverrideVariable"/> names if it is set, else the first CUDA device, else the first OpenCL GPU,
    /// else the CPU. OpenCL CPU devices (PoCL) are never picked on their own: the CPU backend is faster.
    /// </summary>
    /// <exception cref="InvalidOperationException">The override names an unavailable or malformed device.</exception>
    public static Device Best() => BestFor(Environment.GetEnvironmentVariable(OverrideVariable));

    /// <summary><see cref="Best"/> with <paramref name="requested"/> as the override's value (null or empty: none).</summary>
    internal static Device BestFor(string? requested)
    {
        if (requested is { Length: > 0 })
        {
            var device = Parse(requested);
            return device.IsAvailable ? device
                : throw new InvalidOperationException($"{OverrideVariable}={requested}: {device.UnavailableReason}.");
        }
        foreach (var device in Available)
            if (device.IsGpu) return device;
        return Cpu;
    }

    /// <summary>Looks up a device by id: <c>cpu</c>, <c>ilgpu-cpu</c>, <c>cuda</c>, <c>cuda:N</c>, <c>opencl</c>, <c>opencl:P</c> or <c>opencl:P:D</c>.</summary>
    /// <exception cref="FormatException">The id is not one of those forms.</exception>
    public static Device Parse(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var parts = id.Trim().ToLowerInvariant().Split(':');
        bool ok = true;
        int Number(int i) => i < parts.Length ? (int.TryParse(parts[i], out int n) && n >= 0 ? n : Bad()) : 0;
        int Bad()
        {
            ok = false;
            return 0;
        }
        var device = parts[0] switch
        {
            "cpu" when parts.Length == 1 => Cpu,
            "ilgpu-cpu" when parts.Length == 1 => IlgpuCpu,
            "cuda" when parts.Length <= 2 => Cuda(Number(1)),
            "opencl" when parts.Length <= 3 => OpenCL(Number(1), Number(2)),
            _ => null,
        };
        return ok && device is not null ? device
            : throw new FormatException($"'{id}' is not a device id (cpu, ilgpu-cpu, cuda:N or opencl:P:D).");
    }

    /// <summary>Creates a backend on this device.</summary>
    /// <param name="cpuThreads">For the CPU, the thread count (default: one per core); ignored by GPUs.</param>
    /// <exception cref="InvalidOperationException">The device is unavailable; the message carries the reason.</exception>
    /// <exception cref="BackendException">ILGPU failed to open the accelerator.</exception>
    public IBackend CreateBackend(int? cpuThreads = null)
    {
        if (!IsAvailable) throw new InvalidOperationException($"{Id} is unavailable: {UnavailableReason}.");
        return Kind switch
        {
            DeviceKind.OpenCL or DeviceKind.Cuda or DeviceKind.IlgpuCpu => IlgpuBackend.Create(this),
            _ => new CpuBackend(cpuThreads),
        };
    }

    /// <inheritdoc/>
    public override string ToString() => IsAvailable ? $"{Id} ({Name})" : $"{Id} (unavailable: {UnavailableReason})";
}
