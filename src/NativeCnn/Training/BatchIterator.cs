namespace NativeCnn.Training;

/// <summary>
/// Draws the batches of one epoch at a time from an <see cref="ArrayDataset"/> into the caller's buffers.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="StartEpoch"/> fixes the order of the epoch: the identity, or with <c>shuffle</c> a permutation drawn
/// afresh for (seed, epoch) by SplitMix64 and Fisher–Yates (written out, so it is the same on every .NET version and
/// machine), as Keras reshuffles every epoch. <see cref="NextBatch"/> then copies the next samples in that order. The
/// last batch is short when the batch size does not divide the count (Keras's default), or dropped with
/// <c>dropRemainder</c>. The permutation buffer is allocated once; batches allocate nothing.
/// </para>
/// </remarks>
public sealed class BatchIterator
{
    private readonly int[] _order;
    private int _next;
    private ulong _flipState;

    /// <summary>Creates the iterator and starts epoch 0.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">The largest batch.</param>
    /// <param name="shuffle">Whether each epoch has its own permutation.</param>
    /// <param name="seed">The seed of the shuffle and the flips.</param>
    /// <param name="dropRemainder">Whether a short last batch is dropped.</param>
    /// <param name="randomHorizontalFlip">
    /// Whether each sample is mirrored left-right with probability 1/2 as it is copied (Keras <c>RandomFlip("horizontal")</c>);
    /// the coin is one SplitMix64 bit per sample, from a stream for (seed, epoch) separate from the shuffle's.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1, or <paramref name="dropRemainder"/> leaves no batch.</exception>
    /// <exception cref="ArgumentException"><paramref name="randomHorizontalFlip"/> is set but the samples are not <c>(height, width, channels)</c>.</exception>
    public BatchIterator(ArrayDataset dataset, int batchSize, bool shuffle = true, long seed = 0, bool dropRemainder = false, bool randomHorizontalFlip = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (randomHorizontalFlip && dataset.SampleShape.Count != 3)
            throw new ArgumentException($"random horizontal flips need (height, width, channels) samples, got ({string.Join(", ", dataset.SampleShape)}).", nameof(randomHorizontalFlip));
        RandomHorizontalFlip = randomHorizontalFlip;
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch_size must be at least 1, got {batchSize}.");
        if (dropRemainder && batchSize > dataset.Count)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch_size {batchSize} with drop_remainder leaves no batch of {dataset.Count} samples.");
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropRemainder = dropRemainder;
        _order = new int[dataset.Count];
        StartEpoch(0);
    }

    /// <summary>The dataset.</summary>
    public ArrayDataset Dataset { get; }
    /// <summary>The largest batch.</summary>
    public int BatchSize { get; }
    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }
    /// <summary>The shuffle seed.</summary>
    public long Seed { get; }
    /// <summary>Whether a short last batch is dropped.</summary>
    public bool DropRemainder { get; }
    /// <summary>Whether samples are mirrored at random.</summary>
    public bool RandomHorizontalFlip { get; }
    /// <summary>The current epoch.</summary>
    public long Epoch { get; private set; }

    /// <summary>Batches per epoch: <c>ceil(count / batchSize)</c>, or the floor with <see cref="DropRemainder"/>.</summary>
    public int BatchesPerEpoch => DropRemainder ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The sample order of the current epoch.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>Starts <paramref name="epoch"/>: fixes its order and rewinds to its first batch.</summary>
    public void StartEpoch(long epoch)
    {
        Epoch = epoch;
        _next = 0;
        _flipState = DatasetShuffle.FlipState(Seed, epoch);
        if (Shuffle) DatasetShuffle.Permutation(_order, Seed, epoch);
        else for (int i = 0; i < _order.Length; i++) _order[i] = i;
    }

    /// <summary>
    /// Copies the next batch into the start of <paramref name="inputs"/> and <paramref name="targets"/> and returns its
    /// size (0 when the epoch is over). The buffers must hold a full batch: <c>BatchSize · InputLength</c> and
    /// <c>BatchSize · TargetsPerSample</c> values.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is too small for a full batch.</exception>
    public int NextBatch(Span<float> inputs, Span<float> targets)
    {
        int inputLength = Dataset.InputLength, targetLength = Dataset.TargetsPerSample;
        if (inputs.Length < (long)BatchSize * inputLength)
            throw new ArgumentException($"The inputs buffer holds {inputs.Length} values; a batch of {BatchSize} needs {(long)BatchSize * inputLength}.", nameof(inputs));
        if (targets.Length < (long)BatchSize * targetLength)
            throw new ArgumentException($"The targets buffer holds {targets.Length} values; a batch of {BatchSize} needs {(long)BatchSize * targetLength}.", nameof(targets));
        int remaining = _order.Length - _next;
        int size = Math.Min(BatchSize, remaining);
        if (size == 0 || (DropRemainder && size < BatchSize)) return 0;
        var allInputs = Dataset.Inputs.Span;
        var allTargets = Dataset.Targets.Span;
        for (int b = 0; b < size; b++)
        {
            int sample = _order[_next + b];
            var source = allInputs.Slice(sample * inputLength, inputLength);
            var destination = inputs.Slice(b * inputLength, inputLength);
            if (RandomHorizontalFlip && DatasetShuffle.Next(ref _flipState) >> 63 != 0) FlipHorizontally(source, destination);
            else source.CopyTo(destination);
            allTargets.Slice(sample * targetLength, targetLength).CopyTo(targets.Slice(b * targetLength, targetLength));
        }
        _next += size;
        return size;
    }

    private void FlipHorizontally(ReadOnlySpan<float> source, Span<float> destination)
    {
        int width = Dataset.SampleShape[1], channels = Dataset.SampleShape[2], row = width * channels;
        for (int y = 0; y < Dataset.SampleShape[0]; y++)
        {
            for (int x = 0; x < width; x++)
                source.Slice(y * row + (width - 1 - x) * channels, channels).CopyTo(destination.Slice(y * row + x * channels, channels));
        }
    }
}
