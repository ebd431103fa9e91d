namespace NativeCnn.Training;

/// <summary>
/// The deterministic shuffle the datasets use: SplitMix64 (Steele, Lea and Flood 2014) seeded with
/// <c>seed</c> and the epoch, driving a Fisher–Yates shuffle with Lemire's unbiased bounded integers. It is written
/// out here, rather than taken from <see cref="Random"/>, so that an order never changes with the .NET version.
/// </summary>
internal static class DatasetShuffle
{
    /// <summary>
    /// Fills <paramref name="order"/> with <c>0 .. n-1</c> and shuffles it with the stream for (<paramref name="seed"/>,
    /// <paramref name="epoch"/>); each epoch shuffles the identity afresh (as Keras shuffles <c>np.arange</c> each epoch),
    /// so epoch e's order does not depend on the epochs before it.
    /// </summary>
    public static void Permutation(Span<int> order, long seed, long epoch)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Shuffle(order, seed, epoch);
    }

    /// <summary>Shuffles <paramref name="values"/> in place with the stream for (<paramref name="seed"/>, <paramref name="epoch"/>).</summary>
    public static void Shuffle<T>(Span<T> values, long seed, long epoch)
    {
        ulong state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)epoch * 0xD1B54A32D192ED03UL);
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = (int)Below(ref state, (uint)(i + 1));
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>The SplitMix64 state of the flip coins of (<paramref name="seed"/>, <paramref name="epoch"/>), a stream apart from the shuffle's.</summary>
    public static ulong FlipState(long seed, long epoch) =>
        unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)epoch * 0xD1B54A32D192ED03UL ^ 0xF1357AEA2E62A9C5UL);

    /// <summary>The next SplitMix64 output.</summary>
    public static ulong Next(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform integer in [0, <paramref name="bound"/>) (Lemire 2019, with rejection).</summary>
    public static uint Below(ref ulong state, uint bound)
    {
        ulong product = (Next(ref state) >> 32) * bound;
        uint low = (uint)product;
        if (low < bound)
        {
            uint threshold = (0u - bound) % bound;
            while (low < threshold)
            {
                product = (Next(ref state) >> 32) * bound;
                low = (uint)product;
            }
        }
        return (uint)(product >> 32);
    }
}
