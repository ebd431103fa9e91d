using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace NativeCnn.Backends.Cpu;

/// <summary>
/// A fixed set of worker threads that split <see cref="IRowWork"/> by rows. The calling thread works too, so a pool of
/// <c>n</c> threads starts <c>n - 1</c>. Nothing is allocated per <see cref="Run"/>: that is why this exists instead of
/// <c>Parallel.For</c>, and why kernels take a <see cref="RowRange"/> rather than capturing spans in closures.
/// </summary>
/// <remarks>
/// A model runs many small steps back to back, so a run must cost microseconds, not a thread wake-up: idle workers spin
/// briefly before they block, and a run waits only for workers that joined it. Once the caller has taken the last chunk
/// it closes the run; a worker that was slow to wake (descheduled on a busy machine) finds it closed and skips it
/// instead of holding the caller up.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    // How long an idle worker, or a caller waiting for joined workers, spins before blocking: longer than the gap
    // between two steps of a model, much shorter than a pause between inferences.
    private static readonly long s_spinTicks = Stopwatch.Frequency / 20_000;
    private const int Closed = 1 << 30;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private readonly Lock _runGate = new();
    private IRowWork? _work;
    private int _rowCount, _chunkSize, _chunkCount;
    private int _nextChunk;
    // Workers inside the current run, plus Closed once the caller has closed it to late joiners.
    private int _joined = Closed;
    private long _generation;
    private int _sleepers;
    private int _callerWaiting;
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

        _work = work;
        _rowCount = rowCount;
        _chunkSize = chunkSize;
        _chunkCount = chunkCount;
        _nextChunk = 0;
        _failure = null;
        // Opening the run after the fields are set: a worker that joins sees them (its join is a full fence).
        Interlocked.Exchange(ref _joined, 0);
        // A full fence on each side (this increment, the worker's increment of _sleepers) means either the worker sees
        // the new generation before it blocks or this thread sees it sleeping and wakes it: no lost wake-up.
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_gate) Monitor.PulseAll(_gate);
        }

        DrainChunks();
        // Every chunk is taken; close the run and wait only for the workers still finishing theirs.
        int joined = Interlocked.Or(ref _joined, Closed);
        if (joined != 0)
        {
            long spinUntil = Stopwatch.GetTimestamp() + s_spinTicks;
            var spinner = new SpinWait();
            while (Volatile.Read(ref _joined) != Closed && Stopwatch.GetTimestamp() < spinUntil) spinner.SpinOnce(sleep1Threshold: -1);
            if (Volatile.Read(ref _joined) != Closed)
            {
                lock (_gate)
                {
                    // The same handshake as for _sleepers: the last worker out sees this flag, or this thread sees it gone.
                    Interlocked.Exchange(ref _callerWaiting, 1);
                    while (Volatile.Read(ref _joined) != Closed) Monitor.Wait(_gate);
                    _callerWaiting = 0;
                }
            }
        }
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
            long spinUntil = Stopwatch.GetTimestamp() + s_spinTicks;
            var spinner = new SpinWait();
            while (Volatile.Read(ref _generation) == seen && !Volatile.Read(ref _disposed) && Stopwatch.GetTimestamp() < spinUntil)
                spinner.SpinOnce(sleep1Threshold: -1);
            if (Volatile.Read(ref _generation) == seen)
            {
                lock (_gate)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (Volatile.Read(ref _generation) == seen && !_disposed) Monitor.Wait(_gate);
                    Interlocked.Decrement(ref _sleepers);
                }
            }
            if (Volatile.Read(ref _disposed)) return;
            seen = Volatile.Read(ref _generation);
            // A run already closed (the caller did every chunk) is skipped; a later one this worker may join early is
            // fine too, since it opens only once its fields are set.
            if (!TryJoin()) continue;
            DrainChunks();
            if (Interlocked.Decrement(ref _joined) == Closed && Volatile.Read(ref _callerWaiting) != 0)
            {
                lock (_gate) Monitor.PulseAll(_gate);
            }
        }
    }

    private bool TryJoin()
    {
        // A compare-exchange, not an increment: an increment seen closed and undone could land on the next run's count.
        int joined;
        do
        {
            joined = Volatile.Read(ref _joined);
            if ((joined & Closed) != 0) return false;
        }
        while (Interlocked.CompareExchange(ref _joined, joined + 1, joined) != joined);
        return true;
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
    }
}
