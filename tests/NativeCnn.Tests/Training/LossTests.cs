using NativeCnn.Training;

namespace NativeCnn.Tests.Training;

public class LossTests
{
    private const double Eps = 1e-7, OneMinusEps = 0.99999988079071045; // float32(1 - 1e-7), as Keras clips float32

    // Float64 references of Keras's formulas (keras/src/backend/numpy/nn.py and losses.py), written independently.
    private static double ReferenceCategorical(double[] p, double[] t, int batch, bool fromLogits, double smoothing)
    {
        int k = p.Length / batch;
        double total = 0;
        for (int n = 0; n < batch; n++)
        {
            var row = p.AsSpan(n * k, k);
            double sum = 0, max = double.NegativeInfinity, sumExp = 0;
            foreach (double v in row) { sum += v; max = Math.Max(max, v); }
            foreach (double v in row) sumExp += Math.Exp(v - max);
            for (int c = 0; c < k; c++)
            {
                double target = t[n * k + c] * (1 - smoothing) + smoothing / k;
                double logProbability = fromLogits ? row[c] - max - Math.Log(sumExp) : Math.Log(Math.Clamp(row[c] / sum, Eps, OneMinusEps));
                total -= target * logProbability;
            }
        }
        return total / batch;
    }

    private static double ReferenceBinary(double[] p, double[] t, bool fromLogits, double smoothing)
    {
        double total = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double target = t[i] * (1 - smoothing) + 0.5 * smoothing;
            double q = fromLogits ? 1 / (1 + Math.Exp(-p[i])) : Math.Clamp(p[i], Eps, OneMinusEps);
            total -= target * Math.Log(q) + (1 - target) * Math.Log(1 - q);
        }
        return total / p.Length;
    }

    private static double ReferenceMse(double[] p, double[] t)
    {
        double total = 0;
        for (int i = 0; i < p.Length; i++) total += (p[i] - t[i]) * (p[i] - t[i]);
        return total / p.Length;
    }

    private static double[] Central(Func<double[], double> f, float[] x, double h)
    {
        var gradient = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var plus = Array.ConvertAll(x, v => (double)v);
            var minus = Array.ConvertAll(x, v => (double)v);
            plus[i] += h;
            minus[i] -= h;
            gradient[i] = (f(plus) - f(minus)) / (2 * h);
        }
        return gradient;
    }

    private static float[] RandomProbabilities(Random random, int batch, int classes)
    {
        var p = new float[batch * classes];
        for (int n = 0; n < batch; n++)
        {
            float sum = 0;
            for (int c = 0; c < classes; c++) sum += p[n * classes + c] = 0.05f + (float)random.NextDouble();
            for (int c = 0; c < classes; c++) p[n * classes + c] /= sum;
        }
        return p;
    }

    private static float[] OneHot(int[] labels, int classes)
    {
        var t = new float[labels.Length * classes];
        for (int n = 0; n < labels.Length; n++) t[n * classes + labels[n]] = 1;
        return t;
    }

    private static double[] D(float[] x) => Array.ConvertAll(x, v => (double)v);

    [Fact]
    public void KerasDocstringValues()
    {
        float[] probabilities = [0.05f, 0.95f, 0f, 0.1f, 0.8f, 0.1f];
        Assert.Equal(1.177, new CategoricalCrossentropy().Compute(probabilities, [0, 1, 0, 0, 0, 1], 2, []), 3);
        Assert.Equal(1.177, new SparseCategoricalCrossentropy().Compute(probabilities, [1f, 2f], 2, []), 3);
        Assert.Equal(1.177, new SparseCategoricalCrossentropy().Compute(probabilities, [1, 2], 2, []), 3);
        Assert.Equal(0.8654, new BinaryCrossentropy(fromLogits: true).Compute([-18.6f, 0.51f, 2.94f, -12.8f], [0, 1, 0, 0], 1, []), 1e-4); // the docstring truncates 0.86546
        Assert.Equal(0.8654, new BinaryCrossentropy(fromLogits: true).Compute([-18.6f, 0.51f, 2.94f, -12.8f], [0, 1, 0, 0], 2, []), 1e-4);
        Assert.Equal(0.5, new MeanSquaredError().Compute([1, 1, 1, 0], [0, 1, 0, 0], 2, []), 6);
    }

    [Theory]
    [InlineData(false, 0.0f, 1)]
    [InlineData(false, 0.0f, 5)]
    [InlineData(false, 0.1f, 3)]
    [InlineData(true, 0.0f, 4)]
    [InlineData(true, 0.2f, 3)]
    public void CategoricalValueAndGradientMatchTheFloat64ReferenceAndFiniteDifferences(bool fromLogits, float smoothing, int batch)
    {
        const int classes = 7;
        var random = new Random(20261203 + batch);
        var labels = Enumerable.Range(0, batch).Select(_ => random.Next(classes)).ToArray();
        var targets = OneHot(labels, classes);
        var predictions = fromLogits
            ? Enumerable.Range(0, batch * classes).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray()
            : RandomProbabilities(random, batch, classes);
        var loss = new CategoricalCrossentropy(fromLogits, smoothing);
        var gradient = new float[predictions.Length];
        float value = loss.Compute(predictions, targets, batch, gradient);

        double expected = ReferenceCategorical(D(predictions), D(targets), batch, fromLogits, smoothing);
        Assert.Equal(expected, value, expected * 1e-6 + 1e-7);
        var numeric = Central(x => ReferenceCategorical(x, D(targets), batch, fromLogits, smoothing), predictions, 1e-5);
        Precision.AssertClose(numeric, gradient, relative: 2e-5, scale: 1.0 / batch, what: "dL/dpredictions");

        if (smoothing == 0)
        {
            var sparse = new SparseCategoricalCrossentropy(fromLogits);
            var sparseGradient = new float[predictions.Length];
            Assert.Equal(value, sparse.Compute(predictions, labels, batch, sparseGradient));
            Assert.Equal(gradient, sparseGradient);
            Assert.Equal(value, sparse.Compute(predictions, Array.ConvertAll(labels, l => (float)l), batch, sparseGradient));
            Assert.Equal(gradient, sparseGradient);
        }
    }

    [Fact]
    public void FromProbabilitiesRenormalisesRowsThatDoNotSumToOne()
    {
        // Keras divides by the row sum before clipping, so a scaled row gives the same loss and a gradient scaled by 1/s.
        float[] p = [0.2f, 0.5f, 0.3f], scaled = [0.4f, 1.0f, 0.6f], t = [0, 0, 1];
        var g = new float[3];
        var gScaled = new float[3];
        var loss = new CategoricalCrossentropy();
        Assert.Equal(loss.Compute(p, t, 1, g), loss.Compute(scaled, t, 1, gScaled), 6);
        Precision.AssertClose(Array.ConvertAll(g, v => v / 2.0), gScaled, 1e-6);
        var numeric = Central(x => ReferenceCategorical(x, D(t), 1, false, 0), scaled, 1e-5);
        Precision.AssertClose(numeric, gScaled, 1e-5);
    }

    [Fact]
    public void ClippedProbabilitiesGiveKerasValuesAndZeroGradient()
    {
        var loss = new CategoricalCrossentropy();
        var gradient = new float[3];
        // p = 0 for the true class: Keras reports -log(1e-7) = 16.118; the clip stops the gradient, and no entry is NaN.
        float value = loss.Compute([1f, 0f, 0f], [0, 1, 0], 1, gradient);
        Assert.Equal(-Math.Log(1e-7), value, 4);
        Assert.All(gradient, g => Assert.Equal(0f, g));
        // p = 1 for the true class: -log(float32(1 - 1e-7)) = 1.19e-7.
        value = loss.Compute([1f, 0f, 0f], [1, 0, 0], 1, gradient);
        Assert.Equal(-Math.Log(OneMinusEps), value, 9);
        Assert.All(gradient, g => Assert.False(float.IsNaN(g)));

        var binary = new BinaryCrossentropy();
        var g2 = new float[2];
        value = binary.Compute([0f, 1f], [1f, 0f], 1, g2);
        // mean of -log(1e-7) and -log(1 - float32(1 - 1e-7)) = -log(1.1920929e-7), computed as Keras does in float32.
        Assert.Equal((-Math.Log(1e-7) - Math.Log(1 - OneMinusEps)) / 2, value, 4);
        Assert.Equal([0f, 0f], g2);
        Assert.All(g2, g => Assert.False(float.IsNaN(g)));
    }

    [Fact]
    public void LargeLogitsStayFinite()
    {
        var gradient = new float[3];
        float value = new CategoricalCrossentropy(fromLogits: true).Compute([1000f, -1000f, 0f], [0, 1, 0], 1, gradient);
        Assert.Equal(2000.0, value, 3);
        Assert.Equal([1f, -1f, 0f], gradient);
        var g2 = new float[2];
        value = new BinaryCrossentropy(fromLogits: true).Compute([200f, -200f], [0f, 0f], 1, g2);
        Assert.Equal(100.0, value, 3);
        Assert.Equal([0.5f, 0f], g2);
    }

    [Theory]
    [InlineData(false, 0.0f)]
    [InlineData(false, 0.1f)]
    [InlineData(true, 0.0f)]
    [InlineData(true, 0.3f)]
    public void BinaryValueAndGradientMatchTheFloat64ReferenceAndFiniteDifferences(bool fromLogits, float smoothing)
    {
        const int batch = 3, outputs = 5;
        var random = new Random(271828);
        var predictions = Enumerable.Range(0, batch * outputs)
            .Select(_ => fromLogits ? (float)(random.NextDouble() * 10 - 5) : (float)(0.02 + 0.96 * random.NextDouble())).ToArray();
        var targets = Enumerable.Range(0, batch * outputs).Select(i => i % 3 == 0 ? 0.25f : random.Next(2)).ToArray();
        var loss = new BinaryCrossentropy(fromLogits, smoothing);
        var gradient = new float[predictions.Length];
        float value = loss.Compute(predictions, targets, batch, gradient);
        double expected = ReferenceBinary(D(predictions), D(targets), fromLogits, smoothing);
        Assert.Equal(expected, value, expected * 1e-6);
        var numeric = Central(x => ReferenceBinary(x, D(targets), fromLogits, smoothing), predictions, 1e-5);
        Precision.AssertClose(numeric, gradient, 2e-5, scale: 1.0 / predictions.Length);
    }

    [Fact]
    public void MeanSquaredErrorMatchesTheReference()
    {
        var random = new Random(5);
        var p = Enumerable.Range(0, 12).Select(_ => (float)random.NextDouble() * 4 - 2).ToArray();
        var t = Enumerable.Range(0, 12).Select(_ => (float)random.NextDouble()).ToArray();
        var gradient = new float[12];
        float value = new MeanSquaredError().Compute(p, t, 4, gradient);
        Assert.Equal(ReferenceMse(D(p), D(t)), value, 6);
        Precision.AssertClose(Central(x => ReferenceMse(x, D(t)), p, 1e-5), gradient, 1e-5, scale: 0.1);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.1f)]
    public void FusedSoftmaxGradientIsTheChainRuleThroughSoftmax(float smoothing)
    {
        const int batch = 3, classes = 6;
        var random = new Random(31);
        var logits = Enumerable.Range(0, batch * classes).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var p = new float[logits.Length];
        for (int n = 0; n < batch; n++)
        {
            double max = logits.Skip(n * classes).Take(classes).Max(), sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[n * classes + c] - max);
            for (int c = 0; c < classes; c++) p[n * classes + c] = (float)(Math.Exp(logits[n * classes + c] - max) / sum);
        }
        int[] labels = [2, 0, 5];
        var targets = OneHot(labels, classes);
        var loss = new CategoricalCrossentropy(labelSmoothing: smoothing);
        var fused = new float[p.Length];
        float value = loss.ComputeFromSoftmax(p, targets, batch, fused);
        Assert.Equal(loss.Compute(p, targets, batch, []), value);
        var numeric = Central(x =>
        {
            var probabilities = new double[x.Length];
            for (int n = 0; n < batch; n++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int c = 0; c < classes; c++) max = Math.Max(max, x[n * classes + c]);
                for (int c = 0; c < classes; c++) sum += Math.Exp(x[n * classes + c] - max);
                for (int c = 0; c < classes; c++) probabilities[n * classes + c] = Math.Exp(x[n * classes + c] - max) / sum;
            }
            return ReferenceCategorical(probabilities, D(targets), batch, false, smoothing);
        }, logits, 1e-5);
        Precision.AssertClose(numeric, fused, 1e-4, scale: 1.0 / batch);
        // The fused logits-form equals the from-logits loss's gradient.
        var fromLogits = new float[p.Length];
        new CategoricalCrossentropy(fromLogits: true, labelSmoothing: smoothing).Compute(logits, targets, batch, fromLogits);
        Precision.AssertClose(Array.ConvertAll(fromLogits, v => (double)v), fused, 1e-5, scale: 1.0 / batch);

        if (smoothing == 0)
        {
            var sparseFused = new float[p.Length];
            Assert.Equal(value, new SparseCategoricalCrossentropy().ComputeFromSoftmax(p, Array.ConvertAll(labels, l => (float)l), batch, sparseFused));
            Assert.Equal(fused, sparseFused);
        }
    }

    [Fact]
    public void BadShapesAndLabelsAreNamedErrors()
    {
        var sparse = new SparseCategoricalCrossentropy();
        var e = Assert.Throws<ArgumentException>(() => sparse.Compute([0.5f, 0.5f, 0.5f, 0.5f], [0f, 2f], 2, []));
        Assert.Contains("label 2 of sample 1", e.Message);
        Assert.Throws<ArgumentException>(() => sparse.Compute([0.5f, 0.5f, 0.5f, 0.5f], [0f, 0.5f], 2, []));
        Assert.Throws<ArgumentException>(() => sparse.Compute([0.5f, 0.5f, 0.5f, 0.5f], [0, -1], 2, []));
        e = Assert.Throws<ArgumentException>(() => new CategoricalCrossentropy().Compute([0.5f, 0.5f, 0.5f], [0f, 1f], 1, []));
        Assert.Contains("expected 3 targets", e.Message);
        Assert.Throws<ArgumentException>(() => new MeanSquaredError().Compute([1f, 2f, 3f], [1f, 2f, 3f], 2, []));
        Assert.Throws<ArgumentException>(() => new MeanSquaredError().Compute([1f, 2f], [1f, 2f], 1, new float[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CategoricalCrossentropy(labelSmoothing: 1.5f));
        Assert.Throws<InvalidOperationException>(() => new CategoricalCrossentropy(fromLogits: true).ComputeFromSoftmax([0.5f, 0.5f], [0f, 1f], 1, new float[2]));
    }

    [Fact]
    public void FromNameMapsKerasStrings()
    {
        Assert.IsType<SparseCategoricalCrossentropy>(Loss.FromName("sparse_categorical_crossentropy"));
        Assert.IsType<CategoricalCrossentropy>(Loss.FromName("categorical_crossentropy"));
        Assert.IsType<BinaryCrossentropy>(Loss.FromName("BinaryCrossentropy"));
        Assert.IsType<MeanSquaredError>(Loss.FromName("mse"));
        Assert.Equal(1, Loss.FromName("sparse_categorical_crossentropy").TargetsPerSample(10));
        var e = Assert.Throws<ArgumentException>(() => Loss.FromName("hinge"));
        Assert.Contains("sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mean_squared_error", e.Message);
    }

    [Fact]
    public void ComputeAllocatesNothing()
    {
        var p = RandomProbabilities(new Random(3), 8, 10);
        var targets = OneHot([1, 2, 3, 4, 5, 6, 7, 8], 10);
        var labels = new float[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        var gradient = new float[p.Length];
        Loss[] losses = [new CategoricalCrossentropy(labelSmoothing: 0.1f), new CategoricalCrossentropy(fromLogits: true), new BinaryCrossentropy(), new MeanSquaredError()];
        var sparse = new SparseCategoricalCrossentropy();
        var categorical = new CategoricalCrossentropy();
        categorical.ComputeFromSoftmax(p, targets, 8, gradient);
        foreach (var loss in losses) loss.Compute(p, targets, 8, gradient);
        sparse.Compute(p, labels, 8, gradient);
        sparse.ComputeFromSoftmax(p, labels, 8, gradient);
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var loss in losses) loss.Compute(p, targets, 8, gradient);
        sparse.Compute(p, labels, 8, gradient);
        sparse.ComputeFromSoftmax(p, labels, 8, gradient);
        categorical.ComputeFromSoftmax(p, targets, 8, gradient);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
