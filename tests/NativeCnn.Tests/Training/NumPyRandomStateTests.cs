using NativeCnn.Training;

namespace NativeCnn.Tests.Training;

public class NumPyRandomStateTests
{
    // Printed by NumPy 1.24: r = np.random.RandomState(seed); a = list(range(n)); r.shuffle(a); print(a).
    [Theory]
    [InlineData(1337u, new[] { 6, 3, 0, 4, 5, 2, 1, 9, 8, 7 })]
    [InlineData(42u, new[] { 0, 17, 15, 1, 8, 5, 11, 3, 18, 16, 13, 2, 9, 19, 4, 12, 7, 10, 14, 6 })]
    public void ShuffleMatchesNumPy(uint seed, int[] expected)
    {
        var values = Enumerable.Range(0, expected.Length).ToArray();
        new NumPyRandomState(seed).Shuffle(values.AsSpan());
        Assert.Equal(expected, values);
    }

    [Fact]
    public void ALongShuffleMatchesNumPyAcrossTheStateRegeneration()
    {
        // r = np.random.RandomState(7); a = np.arange(300); r.shuffle(a); a[:12]
        var values = Enumerable.Range(0, 300).ToArray();
        new NumPyRandomState(7).Shuffle(values.AsSpan());
        Assert.Equal([254, 57, 150, 66, 114, 280, 204, 249, 37, 177, 81, 237], values[..12]);
        // r = np.random.RandomState(3); a = np.arange(1000); r.shuffle(a): over 999 draws, past the 624-word regeneration.
        values = Enumerable.Range(0, 1000).ToArray();
        new NumPyRandomState(3).Shuffle(values.AsSpan());
        Assert.Equal([642, 762, 909, 199, 586, 797, 652, 755], values[..8]);
        Assert.Equal([789, 256, 968, 952, 643, 249, 664, 874], values[^8..]);
        Assert.Equal(3499211612u, new NumPyRandomState(5489).NextUInt32()); // the first MT19937 output for the default seed
    }
}
