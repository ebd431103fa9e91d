namespace NativeCnn.Backends.Cpu;

/// <summary>
/// The CPU backend's scheduling (<see cref="IExecutionStrategy"/>): on several threads, a large enough batch runs as one
/// whole-image plan per thread; on one thread, a batch whose activations would not stay in cache runs in passes.
/// </summary>
internal sealed class CpuExecutionStrategy(WorkerPool pool) : IExecutionStrategy
{
    /// <summary>
    /// Bytes a pass's two largest activations may take: with more, the early, memory-bound layers of a batch of 8 at
    /// 224x224 (MobileNetV2's 112x112x96 expansions: 38 MB) stream through memory instead of the cache, and run up to 2x
    /// slower per image than at batch 1.
    /// </summary>
    internal const long PassCacheBytes = 24L << 20;

    /// <summary>
    /// The pool's thread count when the batch gives every thread at least two images (and divides between them): each
    /// thread then runs its own images through the whole plan, instead of every step splitting its work between the
    /// threads and joining them. Each thread keeps its images' activations in its own cache and never waits for the
    /// other, at the cost of its own copy of the prepared ops (packed weights). Measured at batch 8, 2 threads:
    /// MobileNetV2 22.2 -> 19.3 ms, EfficientNet-B0 35.7 -> 32.3, ResNet50 178 -> 165.
    /// </summary>
    public int ChooseImageThreads(int batch)
    {
        int threads = pool.ThreadCount;
        return threads > 1 && batch % threads == 0 && batch >= 2 * threads ? threads : 1;
    }

    /// <summary>
    /// The whole batch on several threads; on one, as many images as keep a pass's two largest activations within
    /// <see cref="PassCacheBytes"/> (at least 1). Measured at batch 8 (224x224): passes of 2 are 4-12 % faster on 1 thread
    /// (MobileNetV2, EfficientNet-B0, ResNet50) but 3-12 % slower on 2, where the whole batch gives every step more work
    /// to share between the threads.
    /// </summary>
    public int ChooseImagesPerPass(int batch, long peakBytesPerImage) =>
        pool.ThreadCount != 1 ? batch : (int)Math.Clamp(PassCacheBytes / Math.Max(1, peakBytesPerImage), 1, batch);

    /// <inheritdoc/>
    public IBackend CreateImageThreadBackend() => new CpuBackend(threadCount: 1);

    /// <inheritdoc/>
    public IPreparedOp PrepareConcurrentRun(IReadOnlyList<IPreparedOp> items) => new ConcurrentRun([.. items], pool);

    /// <summary>Rows are the items: the pool hands one to each thread (the caller's included).</summary>
    private sealed class ConcurrentRun(IPreparedOp[] items, WorkerPool pool) : IPreparedOp, IRowWork
    {
        public void Run() => pool.Run(this, items.Length);

        public void Execute(RowRange rows)
        {
            for (int i = rows.Start; i < rows.End; i++) items[i].Run();
        }

        public void Dispose() { }
    }
}
