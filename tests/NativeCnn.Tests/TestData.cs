using NativeCnn.Backends;

namespace NativeCnn.Tests;

/// <summary>Seeded random data for tests: every test names its own seed, nothing is global.</summary>
internal static class TestData
{
    /// <summary>Uniform values in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    public static float[] Uniform(int seed, int length, float min = -1f, float max = 1f)
    {
        var random = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < data.Length; i++) data[i] = min + (max - min) * random.NextSingle();
        return data;
    }

    /// <summary>A device buffer's values, copied to a new array.</summary>
    public static float[] ReadBack(IDeviceBuffer buffer)
    {
        var data = new float[buffer.Shape.ElementCount];
        buffer.CopyTo(data);
        return data;
    }
}
