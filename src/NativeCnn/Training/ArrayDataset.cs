namespace NativeCnn.Training;

/// <summary>
/// Samples held in memory: inputs <c>(count, …sampleShape)</c> row-major (NHWC for images) and targets
/// <c>(count, targetsPerSample)</c> (one float holding the class index per sample for sparse labels).
/// </summary>
/// <remarks>
/// A dataset is a view: <see cref="Split"/> returns datasets sharing the same arrays. Batches are drawn with a
/// <see cref="BatchIterator"/>, which copies them into the caller's buffers.
/// </remarks>
public sealed class ArrayDataset
{
    private readonly int[] _sampleShape;

    /// <summary>Wraps <paramref name="inputs"/> and <paramref name="targets"/> without copying.</summary>
    /// <param name="inputs">The inputs, <c>count · product(sampleShape)</c> values.</param>
    /// <param name="sampleShape">The shape of one input, e.g. <c>[28, 28, 1]</c>.</param>
    /// <param name="targets">The targets, <c>count · targetsPerSample</c> values.</param>
    /// <param name="targetsPerSample">Target values per sample (1 for sparse labels).</param>
    /// <exception cref="ArgumentException">The lengths do not describe the same number of samples.</exception>
    public ArrayDataset(ReadOnlyMemory<float> inputs, ReadOnlySpan<int> sampleShape, ReadOnlyMemory<float> targets, int targetsPerSample)
    {
        if (sampleShape.IsEmpty) throw new ArgumentException("A sample shape needs at least one dimension.", nameof(sampleShape));
        long inputLength = 1;
        foreach (int d in sampleShape)
        {
            if (d < 1) throw new ArgumentException($"Sample shape ({string.Join(", ", sampleShape.ToArray())}) has a dimension below 1.", nameof(sampleShape));
            inputLength = checked(inputLength * d);
        }
        if (inputLength > int.MaxValue) throw new ArgumentException($"A sample of {inputLength} values is too large.", nameof(sampleShape));
        if (targetsPerSample < 1) throw new ArgumentOutOfRangeException(nameof(targetsPerSample), $"targetsPerSample must be at least 1, got {targetsPerSample}.");
        if (inputs.Length % inputLength != 0)
            throw new ArgumentException($"{inputs.Length} input values are not whole samples of {inputLength} values ({string.Join(", ", sampleShape.ToArray())}).", nameof(inputs));
        int count = (int)(inputs.Length / inputLength);
        if ((long)count * targetsPerSample != targets.Length)
            throw new ArgumentException($"{count} samples need {(long)count * targetsPerSample} target values ({targetsPerSample} each), got {targets.Length}.", nameof(targets));
        Inputs = inputs;
        Targets = targets;
        _sampleShape = sampleShape.ToArray();
        InputLength = (int)inputLength;
        TargetsPerSample = targetsPerSample;
        Count = count;
    }

    /// <summary>Wraps <paramref name="inputs"/> with integer class labels (copied once into float targets).</summary>
    /// <exception cref="ArgumentException">The lengths do not describe the same number of samples.</exception>
    public ArrayDataset(ReadOnlyMemory<float> inputs, ReadOnlySpan<int> sampleShape, ReadOnlySpan<int> labels)
        : this(inputs, sampleShape, ToFloat(labels), 1) { }

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <summary>The shape of one input.</summary>
    public IReadOnlyList<int> SampleShape => _sampleShape;

    /// <summary>The values per input sample.</summary>
    public int InputLength { get; }

    /// <summary>The target values per sample.</summary>
    public int TargetsPerSample { get; }

    /// <summary>All inputs, row-major.</summary>
    public ReadOnlyMemory<float> Inputs { get; }

    /// <summary>All targets, row-major.</summary>
    public ReadOnlyMemory<float> Targets { get; }

    /// <summary>The input of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Input(int index) => Inputs.Span.Slice(checked(index * InputLength), InputLength);

    /// <summary>The targets of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Target(int index) => Targets.Span.Slice(checked(index * TargetsPerSample), TargetsPerSample);

    /// <summary>Samples <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1, sharing this dataset's memory.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the dataset or empty.</exception>
    public ArrayDataset Slice(int start, int count)
    {
        if (start < 0 || count < 1 || start > Count - count)
            throw new ArgumentOutOfRangeException(nameof(count), $"Samples [{start}, {(long)start + count}) are not inside the {Count} samples.");
        return new ArrayDataset(Inputs.Slice(start * InputLength, count * InputLength), _sampleShape,
                                Targets.Slice(start * TargetsPerSample, count * TargetsPerSample), TargetsPerSample);
    }

    /// <summary>
    /// The samples whose sparse label is one of <paramref name="classes"/>, in their order here, relabelled
    /// <c>0 … classes.Length - 1</c> in the order given (e.g. classes 5–9 of Fashion-MNIST as a new 5-class task). The
    /// selected samples are copied.
    /// </summary>
    /// <exception cref="InvalidOperationException">The dataset does not hold one integer label per sample.</exception>
    /// <exception cref="ArgumentException">No class, a repeated or negative class, or no sample has any of them.</exception>
    public ArrayDataset SelectClasses(params ReadOnlySpan<int> classes)
    {
        if (TargetsPerSample != 1) throw new InvalidOperationException($"Selecting classes needs one sparse label per sample; this dataset has {TargetsPerSample} targets each.");
        if (classes.IsEmpty) throw new ArgumentException("Select at least one class.", nameof(classes));
        var newLabel = new Dictionary<int, int>();
        foreach (int c in classes)
        {
            if (c < 0) throw new ArgumentException($"Class {c} is negative.", nameof(classes));
            if (!newLabel.TryAdd(c, newLabel.Count)) throw new ArgumentException($"Class {c} is selected twice.", nameof(classes));
        }
        var targets = Targets.Span;
        var kept = new List<int>();
        for (int i = 0; i < Count; i++)
        {
            float label = targets[i];
            if (label != MathF.Floor(label) || label < 0)
                throw new InvalidOperationException($"Sample {i} has label {label}, not a class index.");
            if (label <= int.MaxValue && newLabel.ContainsKey((int)label)) kept.Add(i);
        }
        if (kept.Count == 0) throw new ArgumentException($"No sample has class {string.Join(", ", classes.ToArray())}.", nameof(classes));
        var inputs = new float[checked(kept.Count * InputLength)];
        var labels = new float[kept.Count];
        for (int k = 0; k < kept.Count; k++)
        {
            Input(kept[k]).CopyTo(inputs.AsSpan(k * InputLength, InputLength));
            labels[k] = newLabel[(int)targets[kept[k]]];
        }
        return new ArrayDataset(inputs, _sampleShape, labels, 1);
    }

    /// <summary>
    /// The central <paramref name="height"/> × <paramref name="width"/> window of each <c>(height, width, channels)</c>
    /// sample, copied: top <c>⌊(H − height) / 2⌋</c>, left <c>⌊(W − width) / 2⌋</c>. For validation and test data
    /// of a model trained on <see cref="BatchIterator"/> random crops. (Keras's <c>RandomCrop</c> layer at inference
    /// resizes the largest central window of the crop's aspect ratio instead; this keeps the pixels as they are.)
    /// </summary>
    /// <exception cref="ArgumentException">The samples are not (height, width, channels), or the crop is empty or larger.</exception>
    public ArrayDataset CenterCrop(int height, int width)
    {
        var crop = new CropSize(height, width);
        crop.CheckFits(_sampleShape, nameof(height));
        int sourceHeight = _sampleShape[0], sourceWidth = _sampleShape[1], channels = _sampleShape[2];
        int length = checked(height * width * channels);
        var inputs = new float[checked((long)Count * length)];
        int top = (sourceHeight - height) / 2, left = (sourceWidth - width) / 2;
        for (int i = 0; i < Count; i++)
            BatchIterator.CopyWindow(Input(i), sourceWidth, channels, top, left, height, width, mirror: false, inputs.AsSpan(i * length, length));
        return new ArrayDataset(inputs, [height, width, channels], Targets, TargetsPerSample);
    }

    /// <summary>
    /// Keras's <c>validation_split</c>: the first <c>floor(count · (1 - fraction))</c> samples train and the rest
    /// validate, taken before any shuffling (keras/src/trainers/data_adapters/array_slicing.py <c>train_validation_split</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in (0, 1), or leaves one side empty (Keras raises too).</exception>
    public (ArrayDataset Train, ArrayDataset Validation) Split(double validationFraction)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"validation_split must be in (0, 1), got {validationFraction}.");
        int splitAt = (int)Math.Floor(Count * (1.0 - validationFraction));
        if (splitAt == 0 || splitAt == Count)
            throw new ArgumentOutOfRangeException(nameof(validationFraction),
                $"validation_split={validationFraction} of {Count} samples leaves {splitAt} for training and {Count - splitAt} for validation; both need at least one.");
        return (Slice(0, splitAt), Slice(splitAt, Count - splitAt));
    }

    /// <summary>
    /// Reads inputs and targets from two <c>.npy</c> files (through <see cref="NpyFile"/>): inputs of shape
    /// <c>(count, …)</c>, and labels of shape <c>(count,)</c> or targets <c>(count, k)</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is not a readable <c>.npy</c> file, or the counts differ.</exception>
    public static ArrayDataset FromNpy(string inputsPath, string targetsPath)
    {
        using var inputs = NpyFile.Read(inputsPath);
        using var targets = NpyFile.Read(targetsPath);
        var inputShape = inputs.Shape;
        var targetShape = targets.Shape;
        if (inputShape.Rank < 2)
            throw new InvalidDataException($"{inputsPath}: expected inputs of shape (count, …), got {inputShape}.");
        int count = inputShape[0];
        if (targetShape[0] != count || targetShape.Rank > 2)
            throw new InvalidDataException($"{targetsPath}: expected targets of shape ({count},) or ({count}, k) to match inputs {inputShape}, got {targetShape}.");
        var sampleShape = new int[inputShape.Rank - 1];
        for (int i = 1; i < inputShape.Rank; i++) sampleShape[i - 1] = inputShape[i];
        int targetsPerSample = targetShape.Rank == 1 ? 1 : targetShape[1];
        return new ArrayDataset(inputs.Span.ToArray(), sampleShape, targets.Span.ToArray(), targetsPerSample);
    }

    private static float[] ToFloat(ReadOnlySpan<int> labels)
    {
        var targets = new float[labels.Length];
        for (int i = 0; i < labels.Length; i++) targets[i] = labels[i];
        return targets;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Count} samples of ({string.Join(", ", _sampleShape)}), {TargetsPerSample} target(s) each";
}
