using NativeCnn.Backends.Cpu;
using NativeCnn.Imaging;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Imaging;

/// <summary>decode_predictions on score tensors, and reading activations into tensors and .npy files.</summary>
public sealed class DecodePredictionsTests
{
    [Fact]
    public void TopClassesComeHighestFirstWithTiesByLowerIndex()
    {
        var random = new Random(4);
        var scores = new float[2 * 1000];
        for (int i = 0; i < scores.Length; i++) scores[i] = random.NextSingle();
        scores[1000 + 7] = scores[1000 + 3] = 2f; // a tie at the top of image 1
        using var tensor = Tensor.FromArray(scores, new TensorShape(2, 1000));
        var decoded = ImageNetLabels.DecodePredictions(tensor, top: 4);
        Assert.Equal(2, decoded.Count);
        for (int n = 0; n < 2; n++)
        {
            var expected = Enumerable.Range(0, 1000).Select(i => (i, s: scores[n * 1000 + i])).OrderBy(p => -p.s).ThenBy(p => p.i).Take(4).ToArray();
            Assert.Equal(expected.Select(p => p.i), decoded[n].Select(p => p.ClassIndex));
            Assert.Equal(expected.Select(p => p.s), decoded[n].Select(p => p.Probability));
            Assert.Equal(expected.Select(p => ImageNetLabels.Names[p.i]), decoded[n].Select(p => p.Label));
        }
        Assert.Equal([3, 7], decoded[1].Take(2).Select(p => p.ClassIndex));
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        using var three = Tensor.FromArray([0.1f, 0.7f, 0.2f], new TensorShape(1, 3));
        Assert.Equal("dog", ImageNetLabels.DecodePredictions(three, 1, ["cat", "dog", "fox"])[0][0].Label);
        Assert.Contains("pass labels", Assert.Throws<ArgumentException>(() => ImageNetLabels.DecodePredictions(three)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageNetLabels.DecodePredictions(three, 4, ["a", "b", "c"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageNetLabels.DecodePredictions(three, 0, ["a", "b", "c"]));
        using var image = new Tensor(TensorShape.Nhwc(1, 2, 2, 3));
        Assert.Throws<ArgumentException>(() => ImageNetLabels.DecodePredictions(image));
    }

    [Fact]
    public void AnActivationReadsIntoATensorAndSavesAsNpy()
    {
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 32 });
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend, 1, fuse: false);
        plan.Input.CopyFrom(TestData.Uniform(3, (int)plan.Input.Shape.ElementCount, 0f, 255f));
        plan.Run();
        var buffer = plan.GetActivation("block_2_add");
        var expected = new float[buffer.Shape.ElementCount];
        buffer.CopyTo(expected);
        using (var read = plan.ReadActivation("block_2_add"))
        {
            Assert.Equal(buffer.Shape, read.Shape);
            Assert.Equal(expected, read.Span.ToArray());
        }
        string path = Path.Combine(Path.GetTempPath(), $"nativecnn-activation-{Guid.NewGuid():N}.npy");
        try
        {
            plan.SaveActivation("block_2_add", path);
            using var saved = NpyFile.Read(path);
            Assert.Equal(buffer.Shape, saved.Shape);
            Assert.Equal(expected, saved.Span.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<KeyNotFoundException>(() => plan.ReadActivation("nosuch"));
    }
}

/// <summary>Model.Features: a sub-model to one layer, fused and buffer-reused, equal to the unfused plan's activation.</summary>
public sealed class FeatureExtractorTests
{
    [Fact]
    public void FeaturesEqualTheUnfusedActivationInFarLessMemory()
    {
        using var model = ModelZoo.Create("efficientnet-b0", new ApplicationOptions { Resolution = 64 });
        using var backend = new CpuBackend(threadCount: 1);
        var input = TestData.Uniform(11, 64 * 64 * 3, 0f, 255f);
        using var unfused = model.CreatePlan(backend, 1, fuse: false);
        unfused.Input.CopyFrom(input);
        unfused.Run();
        foreach (string layer in new[] { "block6a_expand_activation", "block3b_add", "top_activation" })
        {
            using var features = model.Features(layer);
            using var plan = features.CreatePlan(backend, 1);
            plan.Input.CopyFrom(input);
            plan.Run();
            using var expected = unfused.ReadActivation(layer);
            var actual = new float[plan.Output.Shape.ElementCount];
            plan.Output.CopyTo(actual);
            Assert.Equal(expected.Shape, plan.Output.Shape);
            float scale = expected.Span.ToArray().Max(MathF.Abs);
            Precision.AssertClose(expected.Span, actual, 1e-4, Math.Max(scale, 1e-3f), layer);
            Assert.True(plan.ActivationBytes * 4 < unfused.ActivationBytes, $"{layer}: {plan.ActivationBytes} bytes vs {unfused.ActivationBytes} unfused");
        }
        Assert.Throws<KeyNotFoundException>(() => model.Features("nosuch"));
        // The extractors shared the layers: the model still runs after they were disposed.
        using var again = model.CreatePlan(backend, 1);
        again.Run();
    }
}
