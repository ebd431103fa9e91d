using System.Reflection;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace NativeCnn.Backends.Ilgpu;

/// <summary>
/// One ILGPU context and accelerator, its loaded kernels (one per specialization: kernel method with its struct type
/// arguments) and the lock that serializes everything queued on its stream. Owned by one <see cref="IlgpuBackend"/>.
/// </summary>
internal sealed class IlgpuDeviceContext : IDisposable
{
    private readonly Context _context;
    private readonly Dictionary<MethodInfo, Delegate> _kernels = [];
    private bool _disposed;

    public IlgpuDeviceContext(Context context, Accelerator accelerator, string id)
    {
        _context = context;
        Accelerator = accelerator;
        Stream = accelerator.DefaultStream;
        Name = $"{id} (ILGPU {accelerator.AcceleratorType}: {accelerator.Name.Trim()})";
        // The CPU accelerator simulates each thread with an OS thread and allows few per group: small tiles there.
        IsCpu = accelerator.AcceleratorType == AcceleratorType.CPU;
        LinearGroupSize = Math.Min(64, accelerator.MaxNumThreadsPerGroup);
        ReductionGroupSize = 1 << (int)Math.Log2(Math.Min(Kernels.ReductionKernels.MaxGroupSize, accelerator.MaxNumThreadsPerGroup));
    }

    public Accelerator Accelerator { get; }

    public AcceleratorStream Stream { get; }

    public string Name { get; }

    public bool IsCpu { get; }

    /// <summary>The group size of one-thread-per-value launches.</summary>
    public int LinearGroupSize { get; }

    /// <summary>The group size of shared-memory reductions: a power of two.</summary>
    public int ReductionGroupSize { get; }

    /// <summary>Held while queuing launches or copying, so that threads sharing the backend queue whole ops in turn.</summary>
    public Lock SyncRoot { get; } = new();

    /// <summary>The number of kernel specializations loaded so far.</summary>
    public int LoadedKernelCount
    {
        get
        {
            lock (SyncRoot) return _kernels.Count;
        }
    }

    public MemoryBuffer1D<float, Stride1D.Dense> Allocate(long length)
    {
        lock (SyncRoot)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            BindToThread();
            var buffer = Accelerator.Allocate1D<float>(length);
            buffer.MemSetToZero(Stream);
            return buffer;
        }
    }

    /// <summary>CUDA contexts are current per thread; the other accelerators need nothing. Call under <see cref="SyncRoot"/>.</summary>
    public void BindToThread()
    {
        if (Accelerator is CudaAccelerator) Accelerator.Bind();
    }

    /// <summary>
    /// Enters <see cref="SyncRoot"/> and binds the accelerator to this thread, for one queue or copy:
    /// <c>using (device.EnterBound()) …</c>.
    /// </summary>
    public Lock.Scope EnterBound()
    {
        var scope = SyncRoot.EnterScope();
        try
        {
            BindToThread();
        }
        catch
        {
            scope.Dispose();
            throw;
        }
        return scope;
    }

    public Action<KernelConfig, T1, T2, T3> Load<T1, T2, T3>(Action<T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct =>
        (Action<KernelConfig, T1, T2, T3>)Load(kernel.Method, () => Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4> Load<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct =>
        (Action<KernelConfig, T1, T2, T3, T4>)Load(kernel.Method, () => Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5> Load<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct =>
        (Action<KernelConfig, T1, T2, T3, T4, T5>)Load(kernel.Method, () => Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7> Load<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct =>
        (Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7>)Load(kernel.Method, () => Accelerator.LoadStreamKernel(kernel));

    /// <summary>Releases the loaded kernels, the accelerator and the context.</summary>
    public void Dispose()
    {
        lock (SyncRoot)
        {
            if (_disposed) return;
            _disposed = true;
            _kernels.Clear();
            Accelerator.Dispose();
            _context.Dispose();
        }
    }

    private Delegate Load(MethodInfo method, Func<Delegate> load)
    {
        lock (SyncRoot)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_kernels.TryGetValue(method, out var launcher))
            {
                BindToThread();
                try
                {
                    launcher = load();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // ILGPU's compiler and driver errors (InternalCompilerException, CLException, CudaException) become
                    // the backend's one exception type, naming the specialization.
                    string arguments = string.Join(", ", method.GetGenericArguments().Select(t => t.Name));
                    throw new BackendException($"{Name}: ILGPU could not load kernel {method.Name}<{arguments}>: {ex.Message}", ex);
                }
                _kernels[method] = launcher;
            }
            return launcher;
        }
    }
}
