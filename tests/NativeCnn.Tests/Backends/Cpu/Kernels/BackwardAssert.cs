namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>Magnitude-scaled comparison of a float32 gradient with its float64 reference that also reports the worst error.</summary>
internal static class BackwardAssert
{
    /// <summary>
    /// Asserts <c>|actual − expected| ≤ relative · max(|expected|, scale)</c> element-wise and returns the largest
    /// <c>|actual − expected| / max(|expected|, scale)</c>, for the test output.
    /// </summary>
    public static double Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double scale, string what, double relative = 1e-5)
    {
        Assert.True(expected.Length <= actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double denominator = Math.Max(Math.Abs(expected[i]), scale);
            double error = Math.Abs(actual[i] - expected[i]) / denominator;
            if (!(error <= relative))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R} (relative error {error:E3} > {relative:E1})");
            worst = Math.Max(worst, error);
        }
        return worst;
    }

    /// <summary>The typical magnitude of a gradient: its root mean square, at least <paramref name="floor"/>.</summary>
    public static double Scale(ReadOnlySpan<double> values, double floor = 1e-3)
    {
        double s = 0;
        foreach (double v in values) s += v * v;
        return Math.Max(floor, values.Length == 0 ? 0 : Math.Sqrt(s / values.Length));
    }
}
