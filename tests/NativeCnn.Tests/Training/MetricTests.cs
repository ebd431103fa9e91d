using NativeCnn.Training;

namespace NativeCnn.Tests.Training;

public class MetricTests
{
    [Fact]
    public void SparseCategoricalAccuracyTakesTheFirstMaximum()
    {
        var metric = new SparseCategoricalAccuracy();
        // Sample 0: tie between 0 and 2 -> argmax 0 (label 0 matches); sample 1: argmax 1, label 2; sample 2: all equal -> 0.
        metric.Update([0.4f, 0.2f, 0.4f, 0.1f, 0.8f, 0.1f, 0.3f, 0.3f, 0.3f], [0f, 2f, 0f], 3);
        Assert.Equal(2f / 3, metric.Result);
        metric.Update([0.9f, 0.05f, 0.05f], [2f], 1);
        Assert.Equal(0.5f, metric.Result);
        Assert.Equal(4, metric.Count);
        metric.Reset();
        Assert.Equal(0f, metric.Result);
    }

    [Fact]
    public void CategoricalAccuracyComparesArgMaxes()
    {
        var metric = new CategoricalAccuracy();
        metric.Update([0.1f, 0.9f, 0.8f, 0.2f], [0f, 1f, 0f, 1f], 2);
        Assert.Equal(0.5f, metric.Result);
    }

    [Fact]
    public void BinaryAccuracyUsesAStrictThresholdAndAveragesOutputsPerSample()
    {
        var metric = new BinaryAccuracy();
        // Keras docstring: [[1],[1],[0],[0]] vs [[0.98],[1],[0],[0.6]] -> 0.75.
        metric.Update([0.98f, 1f, 0f, 0.6f], [1f, 1f, 0f, 0f], 4);
        Assert.Equal(0.75f, metric.Result);
        metric.Reset();
        metric.Update([0.5f, 0.51f], [0f, 1f], 1); // 0.5 is not above the threshold
        Assert.Equal(1f, metric.Result);
    }

    [Fact]
    public void MeanLossIsWeightedByBatchSize()
    {
        var loss = new MeanMetric();
        loss.Update(1.0, 32);
        loss.Update(4.0, 8); // a short last batch counts for its samples
        Assert.Equal((32 + 32) / 40f, loss.Result);
        Assert.Equal("loss", loss.Name);
    }

    [Fact]
    public void AccuracyResolvesAsKerasGetMetric()
    {
        Assert.IsType<SparseCategoricalAccuracy>(Metric.FromName("accuracy", targetsPerSample: 1, outputsPerSample: 10));
        Assert.IsType<CategoricalAccuracy>(Metric.FromName("accuracy", targetsPerSample: 10, outputsPerSample: 10));
        Assert.IsType<BinaryAccuracy>(Metric.FromName("acc", targetsPerSample: 1, outputsPerSample: 1));
        Assert.Equal("accuracy", Metric.FromName("accuracy", 1, 10).Name);
        Assert.IsType<CategoricalAccuracy>(Metric.FromName("categorical_accuracy", 1, 10));
        var e = Assert.Throws<ArgumentException>(() => Metric.FromName("auc", 1, 1));
        Assert.Contains("sparse_categorical_accuracy", e.Message);
        Assert.Throws<ArgumentException>(() => new SparseCategoricalAccuracy().Update([0.5f, 0.5f], [0f, 1f], 1));
    }
}
