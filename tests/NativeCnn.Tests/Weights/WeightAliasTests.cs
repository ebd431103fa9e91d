using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Layers.Config;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Weights;

namespace NativeCnn.Tests.Weights;

/// <summary>Weight names other Keras versions use, as the layer registry's entries declare them, in the weight loaders.</summary>
public sealed class WeightAliasTests
{
    [Fact]
    public void OnlyDepthwiseConv2DDeclaresAnAliasItsKerasThreeKernel()
    {
        var aliased = KerasLayerRegistry.ClassNames
            .Select(c => KerasLayerRegistry.TryGet(c, out var e) ? e : null)
            .Where(e => e is { WeightAliases.Count: > 0 })
            .ToDictionary(e => e!.ClassName, e => string.Join(", ", e!.WeightAliases.Select(a => $"{a.Key} -> {a.Value}")));
        Assert.Equal(new Dictionary<string, string> { ["DepthwiseConv2D"] = "kernel -> depthwise_kernel" }, aliased);
    }

    [Fact]
    public void ByNameReadsTheAliasIntoTheLayersOwnWeightAndLeavesOtherClassesAlone()
    {
        var input = Node.Input(height: 4, width: 4, channels: 2, name: "in");
        var x = new DepthwiseConv2D("dw", 3, padding: Padding.Same, useBias: false).Call(input);
        x = new Conv2D("conv", 1, 1, useBias: false).Call(x);
        using var model = new Model("m", input, x);
        float[] depthwise = [.. Enumerable.Range(1, 18).Select(i => (float)i)], pointwise = [0.5f, -0.5f];
        WeightAssignment.ByName(model, [new("dw/kernel", [3, 3, 2, 1], depthwise), new("conv/kernel", [1, 1, 2, 1], pointwise)]);
        Assert.Equal(depthwise, model.Layers.Single(l => l.Name == "dw").GetWeight("depthwise_kernel").Value.ToArray());
        Assert.Equal(pointwise, model.Layers.Single(l => l.Name == "conv").GetWeight("kernel").Value.ToArray());

        // A Conv2D has no alias: 'depthwise_kernel' in a file is not its 'kernel'.
        var e = Assert.Throws<InvalidDataException>(() =>
            WeightAssignment.ByName(model, [new("dw/kernel", [3, 3, 2, 1], depthwise), new("conv/depthwise_kernel", [1, 1, 2, 1], pointwise)]));
        Assert.Contains("missing conv/kernel", e.Message);
    }

    [Fact]
    public void AShapeRefusalQuotesTheFilesAliasedWeight()
    {
        var shapes = new FileWeightShapes("file.keras", [("dw/kernel", new[] { 5, 5, 2, 1 })]);
        var e = Assert.Throws<InvalidDataException>(() => shapes.Reserve(new DepthwiseConv2D("dw", 3), "depthwise_kernel", new TensorShape(3, 3, 2, 1)));
        Assert.Contains("the file holds no tensor of that shape (its 'dw/depthwise_kernel' is (5, 5, 2, 1))", e.Message);
    }
}
