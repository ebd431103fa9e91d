using System.Collections.Concurrent;
using NativeCnn.Backends.Cpu;

namespace NativeCnn.Tests.Backends.Cpu;

public class WorkerPoolTests
{
    public static TheoryData<int> ThreadCounts => [1, 2, 3, 4];

    [Theory]
    [MemberData(nameof(ThreadCounts))]
    public void EveryRowRunsExactlyOnce(int threadCount)
    {
        using var pool = new WorkerPool(threadCount);
        Assert.Equal(threadCount, pool.ThreadCount);

        for (int rowCount = 0; rowCount <= 100; rowCount++) AssertEveryRowOnce(pool, rowCount, minRowsPerChunk: 1);
        AssertEveryRowOnce(pool, 10_000, minRowsPerChunk: 1);
        AssertEveryRowOnce(pool, 10_000, minRowsPerChunk: 7);
        AssertEveryRowOnce(pool, 10_000, minRowsPerChunk: 3_000);
    }

    [Theory]
    [InlineData(1, 10, 4)]
    [InlineData(2, 10, 4)]
    [InlineData(4, 10, 4)]
    [InlineData(4, 100, 1)]
    [InlineData(4, 100, 7)]
    [InlineData(3, 101, 33)]
    [InlineData(4, 10_000, 1)]
    [InlineData(4, 10_000, 999)]
    [InlineData(2, 5, 5)]
    [InlineData(4, 5, 100)]
    [InlineData(4, 50, int.MaxValue)]
    [InlineData(4, 50, 0)]
    [InlineData(4, 50, -3)]
    public void ChunksRespectTheMinimumSize(int threadCount, int rowCount, int minRowsPerChunk)
    {
        using var pool = new WorkerPool(threadCount);
        var work = new RecordingWork(rowCount);

        pool.Run(work, rowCount, minRowsPerChunk);

        work.AssertEveryRowOnce();
        int minimum = Math.Max(1, minRowsPerChunk);
        foreach (var range in work.Ranges)
        {
            // Only the last chunk may be short: it holds what is left.
            if (range.End != rowCount)
                Assert.True(range.Count >= minimum, $"chunk {range} has fewer than {minimum} rows");
        }
        if (rowCount <= minimum) Assert.Single(work.Ranges);
    }

    [Fact]
    public void TinyWorkStaysOnTheCallingThread()
    {
        using var pool = new WorkerPool(4);
        var work = new RecordingWork(8);

        pool.Run(work, 8, minRowsPerChunk: 16);

        Assert.Equal(new RowRange(0, 8), Assert.Single(work.Ranges));
        Assert.Equal([Environment.CurrentManagedThreadId], work.ThreadIds.Distinct());
    }

    [Fact]
    public void LargeWorkUsesSeveralThreads()
    {
        using var pool = new WorkerPool(4);
        var work = new RecordingWork(1_000, spinPerRow: 2_000);

        pool.Run(work, 1_000);

        work.AssertEveryRowOnce();
        Assert.True(work.Ranges.Count > 1, "work was not split");
    }

    [Theory]
    [MemberData(nameof(ThreadCounts))]
    public void ExceptionInAChunkIsRethrownAndThePoolStillWorks(int threadCount)
    {
        using var pool = new WorkerPool(threadCount);

        foreach (int failingRow in new[] { 0, 57, 99 })
        {
            var e = Assert.Throws<FormatException>(() => pool.Run(new FailingWork(failingRow), 100));
            Assert.Equal($"row {failingRow}", e.Message);
            Assert.Contains(nameof(FailingWork), e.StackTrace);

            AssertEveryRowOnce(pool, 100, minRowsPerChunk: 1);
            AssertEveryRowOnce(pool, 3, minRowsPerChunk: 1);
        }
    }

    [Fact]
    public void ExceptionsInSeveralChunksRethrowOneOfThem()
    {
        using var pool = new WorkerPool(4);

        var e = Assert.Throws<FormatException>(() => pool.Run(new FailingWork(-1), 1_000));
        Assert.StartsWith("row ", e.Message);

        AssertEveryRowOnce(pool, 1_000, minRowsPerChunk: 1);
    }

    [Theory]
    [MemberData(nameof(ThreadCounts))]
    public void ManyTinyRunsBackToBackDoEveryRowOnce(int threadCount)
    {
        using var pool = new WorkerPool(threadCount);
        // Runs shorter than a worker's wake-up: workers join some, find others closed, and must never miss or repeat a row.
        for (int run = 0; run < 5_000; run++) AssertEveryRowOnce(pool, 2 + run % 9, minRowsPerChunk: 1);
    }

    [Theory]
    [MemberData(nameof(ThreadCounts))]
    public void RunsAfterWorkersWentToSleepStillComplete(int threadCount)
    {
        using var pool = new WorkerPool(threadCount);
        for (int round = 0; round < 3; round++)
        {
            Thread.Sleep(5); // past the spin: the workers block
            AssertEveryRowOnce(pool, 64, minRowsPerChunk: 1);
            var slow = new RecordingWork(16, spinPerRow: 200_000);
            pool.Run(slow, 16);
            slow.AssertEveryRowOnce();
        }
    }

    [Theory]
    [MemberData(nameof(ThreadCounts))]
    public void RunAfterDisposeThrows(int threadCount)
    {
        var pool = new WorkerPool(threadCount);
        AssertEveryRowOnce(pool, 20, minRowsPerChunk: 1);
        pool.Dispose();
        pool.Dispose(); // a second Dispose is harmless

        Assert.Throws<ObjectDisposedException>(() => pool.Run(new RecordingWork(20), 20));
        Assert.Throws<ObjectDisposedException>(() => pool.Run(new RecordingWork(0), 0));
    }

    [Fact]
    public void ConstructorRejectsFewerThanOneThread()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(-2));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void ConcurrentCallersBothComplete(int threadCount)
    {
        using var pool = new WorkerPool(threadCount);
        using var start = new Barrier(2);
        var failures = new ConcurrentQueue<Exception>();

        void Caller(int seed)
        {
            try
            {
                start.SignalAndWait();
                var random = new Random(seed);
                for (int i = 0; i < 200; i++)
                {
                    int rowCount = random.Next(0, 300);
                    var work = new RecordingWork(rowCount);
                    pool.Run(work, rowCount, random.Next(1, 20));
                    work.AssertEveryRowOnce();
                }
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        }

        var first = new Thread(() => Caller(1));
        var second = new Thread(() => Caller(2));
        first.Start();
        second.Start();
        Assert.True(first.Join(TimeSpan.FromSeconds(30)), "first caller hung");
        Assert.True(second.Join(TimeSpan.FromSeconds(30)), "second caller hung");

        Assert.Empty(failures);
    }

    private static void AssertEveryRowOnce(WorkerPool pool, int rowCount, int minRowsPerChunk)
    {
        var work = new RecordingWork(rowCount);
        pool.Run(work, rowCount, minRowsPerChunk);
        work.AssertEveryRowOnce();
    }

    private sealed class RecordingWork(int rowCount, int spinPerRow = 0) : IRowWork
    {
        private readonly int[] _hits = new int[rowCount];

        public ConcurrentBag<RowRange> Ranges { get; } = [];

        public ConcurrentBag<int> ThreadIds { get; } = [];

        public void Execute(RowRange rows)
        {
            Ranges.Add(rows);
            ThreadIds.Add(Environment.CurrentManagedThreadId);
            for (int row = rows.Start; row < rows.End; row++)
            {
                Interlocked.Increment(ref _hits[row]);
                Thread.SpinWait(spinPerRow);
            }
        }

        public void AssertEveryRowOnce()
        {
            for (int row = 0; row < _hits.Length; row++)
            {
                if (_hits[row] != 1) Assert.Fail($"row {row} of {_hits.Length} ran {_hits[row]} times");
            }
        }
    }

    /// <summary>Throws for <c>failingRow</c>, or for the first row of every chunk when it is negative.</summary>
    private sealed class FailingWork(int failingRow) : IRowWork
    {
        public void Execute(RowRange rows)
        {
            if (failingRow < 0) throw new FormatException($"row {rows.Start}");
            if (failingRow >= rows.Start && failingRow < rows.End) throw new FormatException($"row {failingRow}");
        }
    }
}
