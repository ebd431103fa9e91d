using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace NativeCnn.Backends.Ilgpu;

/// <summary>
/// The ILGPU backend: one C# kernel source that ILGPU compiles to PTX (CUDA), OpenCL C, or runs on its CPU accelerator
/// (<c>ilgpu-cpu</c>, one OS thread per simulated GPU thread: for tests on tiny shapes). Buffers live in device memory
/// (<see cref="IDeviceBuffer.CopyFrom"/> and <see cref="IDeviceBuffer.CopyTo"/> are the only host transfers), weights are
/// uploaded once when an op is prepared, each kernel specialization is compiled once per backend, and a prepared op only
/// queues launches.
/// </summary>
/// <remarks>
/// Threading: a backend, its buffers and its prepared ops may be shared between threads. Every launch sequence of one
/// <see cref="IPreparedOp.Run"/>, every copy and every allocation holds the backend's lock, so ops from different threads
/// are queued whole, one after another, on the accelerator's one stream; running the same prepared op, or ops writing the
/// same buffer, from two threads at once still races on the data, as on any backend.
/// </remarks>
public sealed class IlgpuBackend : IBackend
{
    private readonly IlgpuDeviceContext _device;

    private IlgpuBackend(IlgpuDeviceContext device) => _device = device;

    /// <summary>
    /// Creates the backend on <paramref name="device"/>: <c>ilgpu-cpu</c>, <c>cuda:N</c> or <c>opencl:P:D</c>;
    /// <see cref="Device.CreateBackend"/> calls this for those devices.
    /// </summary>
    /// <param name="device"><see cref="Device.IlgpuCpu"/>, or a device from <see cref="Device.Cuda"/>, <see cref="Device.OpenCL"/> or <see cref="Device.Parse"/>.</param>
    /// <exception cref="InvalidOperationException">The device is unavailable, or of the plain CPU backend.</exception>
    /// <exception cref="BackendException">ILGPU failed to open the accelerator.</exception>
    public static IlgpuBackend Create(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!device.IsAvailable) throw new InvalidOperationException($"{device.Id} is unavailable: {device.UnavailableReason}.");
        if (device.Kind == DeviceKind.Cpu) throw new InvalidOperationException("the CPU backend's device has no ILGPU accelerator; use Device.IlgpuCpu.");
        var context = IlgpuDevices.CreateContext(device.Kind);
        try
        {
            Accelerator accelerator = device.Kind switch
            {
                DeviceKind.Cuda => context.Devices.Where(d => d.AcceleratorType == AcceleratorType.Cuda).ElementAt(device.Index).CreateAccelerator(context),
                DeviceKind.OpenCL => (IlgpuDevices.FindOpenCl(context, device.Platform, device.Index, out var reason)
                    ?? throw new InvalidOperationException($"{device.Id}: {reason}.")).CreateAccelerator(context),
                _ => context.GetCPUDevice(0).CreateCPUAccelerator(context),
            };
            return new IlgpuBackend(new IlgpuDeviceContext(context, accelerator, device.Id));
        }
        catch (Exception ex) when (ex is not InvalidOperationException)
        {
            context.Dispose();
            throw new BackendException($"{device.Id}: ILGPU could not open the accelerator: {ex.Message}", ex);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A backend on an accelerator the caller opened on <paramref name="context"/>; the backend owns and disposes both.
    /// For tests that open devices ILGPU refuses by default (PoCL with a capability override).
    /// </summary>
    internal static IlgpuBackend FromAccelerator(Context context, Accelerator accelerator, string id) =>
        new(new IlgpuDeviceContext(context, accelerator, id));

    /// <inheritdoc/>
    public string Name => _device.Name;

    /// <summary>The ILGPU accelerator type: CPU, Cuda or OpenCL.</summary>
    public AcceleratorType AcceleratorType => _device.Accelerator.AcceleratorType;

    /// <summary>How many kernel specializations this backend has compiled and loaded so far.</summary>
    public int LoadedKernelCount => _device.LoadedKernelCount;

    /// <inheritdoc/>
    public bool Supports(OpDescriptor op, out string? reason) => IlgpuOps.Supports(op, out reason);

    /// <inheritdoc/>
    public IDeviceBuffer Allocate(TensorShape shape) => new IlgpuBuffer(_device, shape);

    /// <inheritdoc/>
    public IPreparedOp Prepare(OpDescriptor op, OpBinding binding) => IlgpuOps.Prepare(_device, op, binding);

    /// <inheritdoc/>
    public void Synchronize()
    {
        using (_device.EnterBound()) _device.Stream.Synchronize();
    }

    /// <summary>Releases the compiled kernels, the accelerator and the ILGPU context; buffers and prepared ops must be disposed first.</summary>
    public void Dispose() => _device.Dispose();

    /// <inheritdoc/>
    public override string ToString() => Name;
}
