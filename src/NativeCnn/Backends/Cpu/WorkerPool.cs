using System.Runtime.ExceptionServices;

namespace NativeCnn.Backends.Cpu;

/// <summary>
/// A fixed set of worker threads that split <see cref="IRowWork"/> by rows. The calling thread works too, so a pool of
/// <c>n</c> threads starts <c>n - 1</c>. Nothing is allocated per <see cref="Run"/>: that is why this exists instead of
/// <c>Parallel.For</c>, and why kernels take a <see cref="RowRange"/> rather than capturing spans in closures.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private readonly Lock _runGate = new();
    private readonly ManualResetEventSlim _done = new(false);
    private IRowWork? _work;
    private int _rowCount, _chunkSize, _chunkCount;
    private int _nextChunk, _pendingWorkers;
    private long _generation;
    private bool _disposed;
    private ExceptionDispatchInfo? _failure;

    /// <summary>Starts a pool that runs work on <paramref name="threadCount"/> threads, the caller included.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threadCount"/> is less than 1.</exception>
    public WorkerPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"NativeCnn worker {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>The number of threads that run work, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs <paramref name="work"/> over rows <c>[0, rowCount)</c> and returns when all rows are done.
    /// Rows are handed out in chunks of at least <paramref name="minRowsPerChunk"/>, so tiny layers stay on one thread.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The pool was disposed.</exception>
    public void Run(IRowWork work, int rowCount, int minRowsPerChunk = 1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (rowCount <= 0) return;
        // Callers on different threads take turns; a Run from inside work would deadlock, and no kernel does that.
        using var turn = _runGate.EnterScope();
        // Ceiling divisions written as (a - 1) / b + 1, which cannot overflow for a >= 1 (minRowsPerChunk may be int.MaxValue).
        int chunkSize = Math.Min(rowCount, Math.Max(Math.Max(1, minRowsPerChunk), (rowCount - 1) / (4 * ThreadCount) + 1));
        int chunkCount = (rowCount - 1) / chunkSize + 1;
        if (ThreadCount == 1 || chunkCount == 1)
        {
            work.Execute(new RowRange(0, rowCount));
            return;
        }

        lock (_gate)
        {
            _work = work;
            _rowCount = rowCount;
            _chunkSize = chunkSize;
            _chunkCount = chunkCount;
            _nextChunk = 0;
            _failure = null;
            _pendingWorkers = _threads.Length;
            _done.Reset();
            _generation++;
            Monitor.PulseAll(_gate);
        }

        DrainChunks();
        _done.Wait();
        _work = null;
        _failure?.Throw();
    }

    private void DrainChunks()
    {
        IRowWork work = _work!;
        int chunk;
        while ((chunk = Interlocked.Increment(ref _nextChunk) - 1) < _chunkCount)
        {
            int start = chunk * _chunkSize;
            int end = _rowCount - start <= _chunkSize ? _rowCount : start + _chunkSize;
            try
            {
                work.Execute(new RowRange(start, end));
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
                Volatile.Write(ref _nextChunk, _chunkCount); // stop handing out chunks
            }
        }
    }

    private void WorkerLoop()
    {
        long seen = 0;
        while (true)
        {
            lock (_gate)
            {
                while (_generation == seen && !_disposed) Monitor.Wait(_gate);
                if (_disposed) return;
                seen = _generation;
            }
            DrainChunks();
            if (Interlocked.Decrement(ref _pendingWorkers) == 0) _done.Set();
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var t in _threads) t.Join();
        _done.Dispose();
    }
}
