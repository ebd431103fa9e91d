namespace NativeCnn.Tests;

/// <summary>
/// Magnitude-scaled comparison against a float64 reference, as dotnet/runtime's AssertEqualWithTolerance:
/// |actual − expected| ≤ relative · max(|expected|, scale) where scale is the typical magnitude of the terms summed.
/// </summary>
internal static class Precision
{
    /// <summary>Asserts every element is close; the message names the first bad index and both values.</summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double relative = 1e-5, double scale = 1.0, string what = "")
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            double tolerance = relative * Math.Max(Math.Abs(e), scale);
            if (!(Math.Abs(a - e) <= tolerance))
                Assert.Fail($"{what}: element {i} is {a:R}, expected {e:R} (|diff| {Math.Abs(a - e):E3} > {tolerance:E3})");
        }
    }

    /// <summary>Overload for float expectations.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative = 1e-5, double scale = 1.0, string what = "")
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        AssertClose(e, actual, relative, scale, what);
    }
}
