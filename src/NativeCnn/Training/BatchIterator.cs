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
/// <para>
/// Augmentation, for <c>(height, width, channels)</c> samples: a random crop (each sample's window drawn uniformly
/// among all windows of the crop size, as <c>tf.image.random_crop</c> mapped over a dataset; Keras's
/// <c>RandomCrop</c> layer draws one window per batch), then a random left-right mirror (Keras
/// <c>RandomFlip("horizontal")</c>). Both draw from one SplitMix64 stream for (seed, epoch), apart from the
/// shuffle's, in sample order: the crop's top, its left, then the mirror's coin.
/// </para>
/// </remarks>
public sealed class BatchIterator
{
    private readonly int[] _order;
    private readonly int[] _sampleShape;
    private int _next;
    private ulong _augmentationState;

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
    /// <param name="randomCrop">
    /// The size each sample is cut to, at a random position (uniform over the windows that fit), or null to keep whole
    /// samples; the batches then hold <see cref="SampleShape"/> samples.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1, or <paramref name="dropRemainder"/> leaves no batch.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="randomHorizontalFlip"/> or <paramref name="randomCrop"/> is set but the samples are not
    /// <c>(height, width, channels)</c>, or the crop is empty or larger than the samples.
    /// </exception>
    public BatchIterator(ArrayDataset dataset, int batchSize, bool shuffle = true, long seed = 0, bool dropRemainder = false, bool randomHorizontalFlip = false,
                         CropSize? randomCrop = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (randomHorizontalFlip && dataset.SampleShape.Count != 3)
            throw new ArgumentException($"random horizontal flips need (height, width, channels) samples, got ({string.Join(", ", dataset.SampleShape)}).", nameof(randomHorizontalFlip));
        randomCrop?.CheckFits(dataset.SampleShape, nameof(randomCrop));
        RandomHorizontalFlip = randomHorizontalFlip;
        RandomCrop = randomCrop;
        _sampleShape = randomCrop is { } crop ? [crop.Height, crop.Width, dataset.SampleShape[2]] : [.. dataset.SampleShape];
        InputLength = randomCrop is { } c ? checked(c.Height * c.Width * dataset.SampleShape[2]) : dataset.InputLength;
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
    /// <summary>The size samples are cropped to at random, or null.</summary>
    public CropSize? RandomCrop { get; }
    /// <summary>The shape of one sample in a batch: the dataset's, or cropped to <see cref="RandomCrop"/>.</summary>
    public IReadOnlyList<int> SampleShape => _sampleShape;
    /// <summary>Values per sample in a batch (the product of <see cref="SampleShape"/>).</summary>
    public int InputLength { get; }
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
        _augmentationState = DatasetShuffle.FlipState(Seed, epoch);
        if (Shuffle) DatasetShuffle.Permutation(_order, Seed, epoch);
        else for (int i = 0; i < _order.Length; i++) _order[i] = i;
    }

    /// <summary>
    /// Copies the next batch into the start of <paramref name="inputs"/> and <paramref name="targets"/> and returns its
    /// size (0 when the epoch is over). The buffers must hold a full batch: <c>BatchSize · </c><see cref="InputLength"/> and
    /// <c>BatchSize · TargetsPerSample</c> values.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is too small for a full batch.</exception>
    public int NextBatch(Span<float> inputs, Span<float> targets)
    {
        int inputLength = InputLength, sourceLength = Dataset.InputLength, targetLength = Dataset.TargetsPerSample;
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
            var source = allInputs.Slice(sample * sourceLength, sourceLength);
            var destination = inputs.Slice(b * inputLength, inputLength);
            if (RandomCrop is null && !RandomHorizontalFlip) source.CopyTo(destination);
            else Augment(source, destination);
            allTargets.Slice(sample * targetLength, targetLength).CopyTo(targets.Slice(b * targetLength, targetLength));
        }
        _next += size;
        return size;
    }

    // Draws the sample's crop window and coin (in that order) and copies the window, mirrored on heads.
    private void Augment(ReadOnlySpan<float> source, Span<float> destination)
    {
        int height = Dataset.SampleShape[0], width = Dataset.SampleShape[1], channels = Dataset.SampleShape[2];
        int top = 0, left = 0, cropHeight = height, cropWidth = width;
        if (RandomCrop is { } crop)
        {
            (cropHeight, cropWidth) = (crop.Height, crop.Width);
            top = (int)DatasetShuffle.Below(ref _augmentationState, (uint)(height - cropHeight + 1));
            left = (int)DatasetShuffle.Below(ref _augmentationState, (uint)(width - cropWidth + 1));
        }
        bool mirror = RandomHorizontalFlip && DatasetShuffle.Next(ref _augmentationState) >> 63 != 0;
        CopyWindow(source, width, channels, top, left, cropHeight, cropWidth, mirror, destination);
    }

    /// <summary>Copies the <paramref name="rows"/> × <paramref name="columns"/> window at (<paramref name="top"/>, <paramref name="left"/>), mirrored left-right if asked.</summary>
    internal static void CopyWindow(ReadOnlySpan<float> source, int width, int channels, int top, int left, int rows, int columns, bool mirror,
                                    Span<float> destination)
    {
        int sourceRow = width * channels, row = columns * channels;
        for (int y = 0; y < rows; y++)
        {
            var from = source.Slice((top + y) * sourceRow + left * channels, row);
            var to = destination.Slice(y * row, row);
            if (!mirror)
            {
                from.CopyTo(to);
                continue;
            }
            for (int x = 0; x < columns; x++) from.Slice((columns - 1 - x) * channels, channels).CopyTo(to.Slice(x * channels, channels));
        }
    }
}
