namespace NativeCnn.Backends;

/// <summary>
/// How a backend wants a fused plan's batch scheduled, answered by the backend because the knowledge is its own (thread
/// count, cache sizes). A backend without one (<see cref="IBackend.ExecutionStrategy"/> null) runs every batch as one
/// pass of one plan; one with a strategy also runs batches in passes of a few images when asked.
/// </summary>
public interface IExecutionStrategy
{
    /// <summary>
    /// How many threads should each run their own share of a batch of <paramref name="batch"/> images through a whole
    /// plan of their own (1: one plan, whose steps split their work between the backend's threads). The planner asks
    /// for fused plans only, and refuses an answer that does not divide the batch.
    /// </summary>
    int ChooseImageThreads(int batch);

    /// <summary>
    /// The most images one pass of a fused plan on this backend should compute, given
    /// <paramref name="peakBytesPerImage"/>, the bytes one image's two largest activations take (<paramref name="batch"/>:
    /// the whole batch in one pass). The planner takes the largest divisor of the batch up to the answer.
    /// </summary>
    int ChooseImagesPerPass(int batch, long peakBytesPerImage);

    /// <summary>
    /// Creates the backend that one image thread's plan runs on (for the CPU: a backend of one thread); the plan that
    /// asks for it owns and disposes it.
    /// </summary>
    IBackend CreateImageThreadBackend();

    /// <summary>
    /// Prepares a run of <paramref name="items"/> side by side, one per image thread: its <see cref="IPreparedOp.Run"/>
    /// runs every item once and returns when all are done, allocating nothing. Disposing it leaves the items alone.
    /// </summary>
    IPreparedOp PrepareConcurrentRun(IReadOnlyList<IPreparedOp> items);
}
