using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Tests.Weights;

namespace NativeCnn.Tests.Models;

/// <summary>
/// Ownership as in Keras: models built from the same layers share their weights, and disposing one never breaks
/// another (a timm-style head swap, two sub-models of one graph, disposed in every order).
/// </summary>
[Collection(NativeMemoryCollection.Name)]
public sealed class SharedLayerOwnershipTests
{
    private sealed record Graph(Model Base, Model HeadA, Model HeadB, Model Features);

    private static Graph Build()
    {
        var input = Node.Input(height: 12, width: 10, channels: 3);
        var x = new Conv2D("stem", filters: 8, kernelSize: 3, strides: 2, padding: Padding.Same).Call(input);
        x = new BatchNormalization("stem_bn").Call(x);
        var features = new GlobalAveragePooling2D("avg_pool").Call(x);
        var baseOutput = new Dense("predictions", units: 5, activation: ActivationFunction.Softmax).Call(features);
        var headA = new Dense("head_a", units: 3).Call(features);
        var headB = new Dense("head_b", units: 2).Call(features);
        return new Graph(new Model("base", input, baseOutput), new Model("head_a", input, headA), new Model("head_b", input, headB),
                         new Model("features", input, features));
    }

    public static TheoryData<int[]> DisposalOrders() => new()
    {
        new[] { 0, 1, 2, 3 }, new[] { 3, 2, 1, 0 }, new[] { 1, 0, 3, 2 }, new[] { 2, 3, 0, 1 },
    };

    [Theory]
    [MemberData(nameof(DisposalOrders))]
    public void DisposingAModelNeverBreaksAnotherThatSharesItsLayers(int[] order)
    {
        var graph = Build();
        Model[] models = [graph.Base, graph.HeadA, graph.HeadB, graph.Features];
        using var image = Tensor.FromArray(TestData.Uniform(5, 12 * 10 * 3), TensorShape.Nhwc(1, 12, 10, 3));
        var expected = models.Select(m => { using var y = m.Predict(image); return y.ToArray(); }).ToArray();
        Assert.Same(graph.Base.GetLayer("stem").GetWeight("kernel").Value, graph.HeadB.GetLayer("stem").GetWeight("kernel").Value);

        var disposed = new HashSet<int>();
        foreach (int next in order)
        {
            models[next].Dispose();
            disposed.Add(next);
            for (int i = 0; i < models.Length; i++)
            {
                if (disposed.Contains(i)) continue;
                // A fresh plan reads the shared weights again: they must still be alive and unchanged.
                models[i].InvalidatePlans();
                using var y = models[i].Predict(image);
                Assert.Equal(expected[i], y.ToArray());
            }
        }
    }

    [Fact]
    public void TheLastModelHoldingALayerReleasesItsWeights()
    {
        var graph = Build();
        // Earlier tests' garbage is finalized first, so that only these disposals move the count.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = AlignedBufferLiveBytes();
        graph.HeadA.Dispose();
        graph.HeadB.Dispose();
        graph.Base.Dispose();
        // head_a and head_b were held by one model each; predictions too; the stem is still held by 'features'.
        long headBytes = (8 * 3 + 3 + 8 * 2 + 2 + 8 * 5 + 5) * sizeof(float);
        Assert.Equal(before - headBytes, AlignedBufferLiveBytes());
        graph.Features.Dispose();
        long stemBytes = (3 * 3 * 3 * 8 + 8 + 4 * 8) * sizeof(float);
        Assert.Equal(before - headBytes - stemBytes, AlignedBufferLiveBytes());
        graph.Features.Dispose(); // twice: releases nothing more
        Assert.Equal(before - headBytes - stemBytes, AlignedBufferLiveBytes());
    }

    private static long AlignedBufferLiveBytes() => AlignedBuffer.LiveBytes;
}
