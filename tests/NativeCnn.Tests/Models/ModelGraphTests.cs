using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Models;

public sealed class ModelGraphTests
{
    internal static Model TinyModel()
    {
        var input = Node.Input(32, 32, 3);
        var x = new Conv2D("conv", 16, 3, 2, Padding.Same, useBias: false).Call(input);
        x = new BatchNormalization("conv_bn").Call(x);
        x = new Activation("conv_swish", ActivationFunction.Swish).Call(x);
        x = new GlobalAveragePooling2D("avg_pool").Call(x);
        var output = new Dense("predictions", 10, ActivationFunction.Softmax).Call(x);
        return new Model("tiny", input, output);
    }

    [Fact]
    public void SummaryCountsParametersAndMultiplyAccumulates()
    {
        using var model = TinyModel();
        var summary = model.Summary();
        // conv 3·3·3·16 = 432, BN 4·16 = 64 (32 trainable), dense 16·10 + 10 = 170.
        Assert.Equal(666, summary.TotalParameters);
        Assert.Equal(634, summary.TrainableParameters);
        Assert.Equal(32, summary.NonTrainableParameters);
        Assert.Equal(16L * 16 * 16 * 27 + 160, summary.MultiplyAccumulates);
        Assert.Equal(["input_layer", "conv", "conv_bn", "conv_swish", "avg_pool", "predictions"], summary.Rows.Select(r => r.Name));
        Assert.Equal("(None, 16, 16, 16)", summary.Rows[1].OutputShape);
        Assert.Equal(["conv"], summary.Rows[2].ConnectedTo);

        string text = summary.ToString();
        Assert.Contains("conv_bn (BatchNormalization)", text);
        Assert.Contains("Total params: 666", text);

        using var json = System.Text.Json.JsonDocument.Parse(summary.ToJson());
        Assert.Equal(666, json.RootElement.GetProperty("total_params").GetInt64());
        Assert.Equal(32, json.RootElement.GetProperty("non_trainable_params").GetInt64());
        Assert.Equal(6, json.RootElement.GetProperty("layers").GetArrayLength());
        Assert.Equal("(None, 10)", json.RootElement.GetProperty("layers")[5].GetProperty("output_shape").GetString());
    }

    [Fact]
    public void ResidualBranchesAreOrderedTopologically()
    {
        var input = Node.Input(8, 8, 4);
        var branch = new Conv2D("branch", 4, 3, padding: Padding.Same).Call(input);
        var shortcut = new Conv2D("shortcut", 4, 1).Call(input);
        var output = new Add("add").Call(shortcut, branch);
        using var model = new Model("residual", input, output);
        Assert.Equal(["input_layer", "branch", "shortcut", "add"], model.Layers.Select(l => l.Name));
        Assert.Equal(["shortcut", "branch"], model.Nodes[^1].Inputs.Select(n => n.Name));
    }

    [Fact]
    public void DuplicateLayerNamesAreRejected()
    {
        var input = Node.Input(8, 8, 4);
        var x = new Conv2D("conv", 4, 1).Call(input);
        x = new Conv2D("conv", 4, 1).Call(x);
        Assert.Contains("'conv'", Assert.Throws<ArgumentException>(() => new Model("dup", input, x)).Message);
    }

    [Fact]
    public void OutputThatDoesNotDependOnTheInputIsRejected()
    {
        var input = Node.Input(8, 8, 4);
        var other = Node.Input(8, 8, 4, "other");
        var x = new Conv2D("conv", 4, 1).Call(other);
        Assert.Throws<ArgumentException>(() => new Model("disconnected", input, x));
    }

    [Fact]
    public void UnknownLayerAndWrongInputAreNamedErrors()
    {
        using var model = TinyModel();
        Assert.Contains("nope", Assert.Throws<KeyNotFoundException>(() => model.GetLayer("nope")).Message);
        using var wrong = new Tensor(1, 32, 31, 3);
        var e = Assert.Throws<LayerException>(() => model.Predict(wrong));
        Assert.Contains("input_layer", e.Message);
        Assert.Contains("(1, 32, 31, 3)", e.Message);
    }
}
