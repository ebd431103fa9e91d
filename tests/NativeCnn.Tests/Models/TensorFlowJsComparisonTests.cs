using System.Globalization;
using NativeCnn.Backends.Cpu;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Weights;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Models;

/// <summary>
/// Whole models against an independent implementation: the TensorFlow.js mirror of the Keras applications gets seeded
/// random weights whose BatchNormalization statistics are calibrated (so activations stay O(1) and a wrong layer
/// shows), runs a random input, and dumps intermediate activations; NativeCnn loads the same weight files and must
/// agree on every tapped activation and on the softmax output within 1e-4 (relative to the tensor's largest value).
/// </summary>
public sealed class TensorFlowJsComparisonTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    // The families whose TF.js builder takes --alpha.
    private static readonly string[] s_alphaArchitectures = ["mobilenet", "mobilenetv2", "mobilenetv3small", "mobilenetv3large"];

    // arch, alpha, depth multiplier (MobileNet), minimalistic (MobileNetV3), resolution, batch, tapped layers.
    public static TheoryData<string, double, int, bool, int, int, string> Configurations => new()
    {
        { "efficientnet-b0", 1.0, 1, false, 224, 1, "stem_activation,block1a_se_excite,block2a_project_bn,block6d_add,top_activation,avg_pool" },
        { "mobilenetv2", 1.0, 1, false, 224, 1, "Conv1_relu,block_1_pad,block_2_add,block_16_project_BN,out_relu,global_average_pooling2d" },
        { "mobilenetv2", 0.35, 1, false, 96, 2, "Conv1_relu,block_16_project_BN" },
        { "resnet50", 1.0, 1, false, 224, 1, "pool1_pool,conv2_block1_out,conv4_block6_out,conv5_block3_out,avg_pool" },
        { "efficientnet-b3", 1.0, 1, false, 300, 1, "block1b_add,block7b_project_bn,avg_pool" },
        { "mobilenet", 1.0, 1, false, 128, 1, "conv1_relu,conv_pad_2,conv_dw_2_relu,conv_pw_6_relu,conv_pw_13_relu,conv_preds,reshape_2" },
        { "mobilenet", 0.25, 2, false, 97, 2, "conv_dw_1_relu,conv_pad_12,conv_pw_13_relu" },
        { "resnet50v2", 1.0, 1, false, 128, 1, "pool1_pool,conv2_block1_preact_relu,conv2_block1_out,max_pooling2d,conv2_block3_out,conv4_block6_out,post_relu,avg_pool" },
        { "resnet101v2", 1.0, 1, false, 64, 1, "conv4_block23_out,post_relu" },
        { "mobilenetv3small", 1.0, 1, false, 112, 2, "activation,expanded_conv_squeeze_excite_mul,multiply_3,expanded_conv_2_add,expanded_conv_8_depthwise_pad,expanded_conv_10_add,conv_1_bn,logits" },
        { "mobilenetv3large", 1.0, 1, false, 128, 1, "expanded_conv_add,expanded_conv_3_squeeze_excite_mul,expanded_conv_9_add,expanded_conv_14_add,activation_19,logits" },
        { "mobilenetv3small", 1.0, 1, true, 96, 1, "re_lu_3,expanded_conv_10_add,conv_1_bn" },
        { "mobilenetv3large", 0.75, 1, false, 96, 1, "expanded_conv_5_add,conv_1_bn" },
        { "efficientnetv2-b0", 1.0, 1, false, 128, 1, "stem_activation,block1a_project_activation,block2b_add,block4a_se_excite,block5e_add,block6h_add,top_activation,avg_pool" },
        { "efficientnetv2-s", 1.0, 1, false, 160, 2, "rescaling,block1b_add,block3d_add,block4a_se_excite,block6o_add,top_activation" },
    };

    [ReferenceTheory(ExternalReference.TensorFlowJs)]
    [MemberData(nameof(Configurations))]
    public void MatchesTensorFlowJs(string arch, double alpha, int depthMultiplier, bool minimalistic, int resolution, int batch, string taps)
    {
        string work = Directory.CreateTempSubdirectory($"nativecnn-tfjs-{arch}-").FullName;
        try
        {
            string weights = Path.Combine(work, "weights"), input = Path.Combine(work, "x.npy");
            string expectedOutput = Path.Combine(work, "y.npy"), dumps = Path.Combine(work, "activations");
            string[] model =
            [
                "--arch", arch, "--resolution", Text(resolution),
                .. s_alphaArchitectures.Contains(arch) ? ["--alpha", Text(alpha)] : Array.Empty<string>(),
                .. depthMultiplier != 1 ? ["--depth-multiplier", Text(depthMultiplier)] : Array.Empty<string>(),
                .. minimalistic ? ["--minimalistic"] : Array.Empty<string>(),
            ];
            output.WriteLine(TensorFlowJsReference.Run("make-random-weights.mjs", [.. model, "--out", weights, "--seed", "7"]).Trim());
            TensorFlowJsReference.Run("make-random-input.mjs", "--arch", arch, "--resolution", Text(resolution), "--batch", Text(batch), "--out", input, "--seed", "3");
            output.WriteLine(TensorFlowJsReference.Run("run-model.mjs", [.. model, "--weights", weights, "--input", input, "--output", expectedOutput,
                "--activations", taps, "--dump-dir", dumps]).Trim());

            using var network = ModelZoo.Create(arch, new ApplicationOptions
            {
                Alpha = alpha, DepthMultiplier = depthMultiplier, Minimalistic = minimalistic, Resolution = resolution,
            });
            NpyWeightDirectory.Load(network, weights);
            using var backend = new CpuBackend();
            using var x = NpyFile.Read(input);
            // Layer by layer, every tapped activation is kept; the fused plan (folded BatchNormalization, fused
            // activations, residual adds and squeeze-and-excitation) must reach the same output.
            using var plan = network.CreatePlan(backend, batch, fuse: false);
            plan.Input.CopyFrom(x.Span);
            plan.Run();
            foreach (string layer in taps.Split(','))
                AssertMatches(Path.Combine(dumps, layer + ".npy"), plan.GetActivation(layer), layer);
            AssertMatches(expectedOutput, plan.Output, network.Output.Name);

            using var fused = network.CreatePlan(backend, batch);
            Assert.True(fused.Steps.Count < plan.Steps.Count, "nothing was fused");
            fused.Input.CopyFrom(x.Span);
            fused.Run();
            AssertMatches(expectedOutput, fused.Output, $"{network.Output.Name} (fused plan, {fused.Steps.Count} steps for {plan.Steps.Count} layers)");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private void AssertMatches(string expectedFile, NativeCnn.Backends.IDeviceBuffer actualBuffer, string what)
    {
        using var expected = NpyFile.Read(expectedFile);
        using var actual = new Tensor(actualBuffer.Shape);
        actualBuffer.CopyTo(actual.Span);
        Assert.True(expected.Shape.ElementCount == actual.Length, $"{what}: TensorFlow.js gives {expected.Shape}, NativeCnn {actual.Shape}");
        double largest = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(expected.Span)); // MaxMagnitude keeps the sign
        double worst = TensorFlowJsReference.MaxDifference(expected, actual);
        output.WriteLine($"{what}: max |diff| {worst:E2}, max |value| {largest:G4}, ratio {worst / largest:E2}");
        Precision.AssertClose(expected.Span, actual.Span, Tolerance, largest, what);
    }

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
}
