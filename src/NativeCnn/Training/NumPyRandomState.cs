namespace NativeCnn.Training;

/// <summary>
/// The part of NumPy's legacy <c>np.random.RandomState(seed)</c> that Keras's <c>index_directory</c> uses to shuffle
/// file paths: MT19937 seeded by <c>init_genrand</c>, and <c>shuffle</c> as a Fisher–Yates walk from the end drawing
/// <c>random_interval(i)</c> (masked rejection on 32-bit outputs), so that the file order matches Keras's for a seed.
/// </summary>
internal sealed class NumPyRandomState
{
    private const int N = 624, M = 397;
    private readonly uint[] _state = new uint[N];
    private int _position;

    /// <summary>Seeds as <c>RandomState(seed)</c> does for an integer seed (<c>mt19937_seed</c>).</summary>
    public NumPyRandomState(uint seed)
    {
        _state[0] = seed;
        for (int i = 1; i < N; i++) _state[i] = unchecked(1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i);
        _position = N;
    }

    /// <summary>The next 32-bit output (<c>mt19937_next32</c>).</summary>
    public uint NextUInt32()
    {
        if (_position == N) Generate();
        uint y = _state[_position++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        return y ^ (y >> 18);
    }

    /// <summary>A uniform integer in [0, <paramref name="max"/>] (<c>random_interval</c>, for max below 2^32).</summary>
    public uint Interval(uint max)
    {
        if (max == 0) return 0;
        uint mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max) { }
        return value;
    }

    /// <summary><c>RandomState.shuffle</c> of a sequence.</summary>
    public void Shuffle<T>(Span<T> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = (int)Interval((uint)i);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    private void Generate()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_state[i] & 0x80000000u) | (_state[(i + 1) % N] & 0x7FFFFFFFu);
            _state[i] = _state[(i + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908B0DFu : 0u);
        }
        _position = 0;
    }
}
