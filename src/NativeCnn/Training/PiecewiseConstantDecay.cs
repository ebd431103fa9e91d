namespace NativeCnn.Training;

/// <summary>
/// Keras <c>PiecewiseConstantDecay</c>: <c>values[0]</c> while <c>step &lt;= boundaries[0]</c>, <c>values[i]</c> while
/// <c>boundaries[i-1] &lt; step &lt;= boundaries[i]</c>, and the last value after the last boundary.
/// </summary>
public sealed class PiecewiseConstantDecay : LearningRateSchedule
{
    private readonly long[] _boundaries;
    private readonly float[] _values;

    /// <summary>Creates the schedule; arguments as Keras's.</summary>
    /// <exception cref="ArgumentException">There is not exactly one more value than boundaries, or the boundaries do not increase.</exception>
    public PiecewiseConstantDecay(IReadOnlyList<long> boundaries, IReadOnlyList<float> values)
    {
        ArgumentNullException.ThrowIfNull(boundaries);
        ArgumentNullException.ThrowIfNull(values);
        if (boundaries.Count != values.Count - 1 || boundaries.Count == 0)
            throw new ArgumentException($"PiecewiseConstantDecay: expected one value more than the boundaries (and at least one boundary), got {boundaries.Count} boundaries and {values.Count} values.", nameof(values));
        for (int i = 1; i < boundaries.Count; i++)
        {
            if (boundaries[i] <= boundaries[i - 1])
                throw new ArgumentException($"PiecewiseConstantDecay: boundaries must increase, but boundary {i} ({boundaries[i]}) is not above {boundaries[i - 1]}.", nameof(boundaries));
        }
        _boundaries = [.. boundaries];
        _values = [.. values];
    }

    /// <summary>The boundaries (steps).</summary>
    public IReadOnlyList<long> Boundaries => _boundaries;
    /// <summary>The values, one more than the boundaries.</summary>
    public IReadOnlyList<float> Values => _values;

    /// <inheritdoc/>
    public override float Evaluate(long step)
    {
        for (int i = 0; i < _boundaries.Length; i++)
        {
            if (step <= _boundaries[i]) return _values[i];
        }
        return _values[^1];
    }
}
