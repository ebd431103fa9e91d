using System.Text.Json;
using NativeCnn.Tensors;
using NativeCnn.Training;

namespace NativeCnn.Tests.Training;

public class OptimizerTests
{
    private const int Steps = 6;

    /// <summary>A float64 re-implementation of Keras's update formulas (keras/src/optimizers/*.py), written independently.</summary>
    private sealed record ReferenceConfig(string Kind, double Lr = 0.01, double Momentum = 0, bool Nesterov = false,
        double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-7, bool Amsgrad = false, double Rho = 0.9, bool Centered = false,
        double? WeightDecay = null, double? ClipNorm = null, double? GlobalClipNorm = null, double? ClipValue = null,
        Func<long, double>? Schedule = null, string[]? Excluded = null);

    private static double[][] Reference(ReferenceConfig c, double[][] w0, float[][][] gradients, string[] names)
    {
        var w = w0.Select(x => (double[])x.Clone()).ToArray();
        var m = w.Select(x => new double[x.Length]).ToArray();
        var v = w.Select(x => new double[x.Length]).ToArray();
        var vMax = w.Select(x => new double[x.Length]).ToArray();
        var a = w.Select(x => new double[x.Length]).ToArray();
        for (int step = 0; step < gradients.Length; step++)
        {
            double lr = c.Schedule?.Invoke(step) ?? c.Lr;
            var g = gradients[step].Select(x => Array.ConvertAll(x, f => (double)f)).ToArray();
            if (c.ClipNorm is double cn)
            {
                foreach (var gi in g)
                {
                    double norm = Math.Sqrt(gi.Sum(x => x * x));
                    for (int j = 0; j < gi.Length; j++) gi[j] = gi[j] * cn / Math.Max(norm, cn);
                }
            }
            else if (c.GlobalClipNorm is double gcn)
            {
                double norm = Math.Sqrt(g.Sum(gi => gi.Sum(x => x * x)));
                double scale = Math.Min(1, gcn / norm);
                foreach (var gi in g) for (int j = 0; j < gi.Length; j++) gi[j] *= scale;
            }
            else if (c.ClipValue is double cv)
            {
                foreach (var gi in g) for (int j = 0; j < gi.Length; j++) gi[j] = Math.Clamp(gi[j], -cv, cv);
            }
            for (int i = 0; i < w.Length; i++)
            {
                if (c.WeightDecay is double wd && !(c.Excluded ?? []).Any(names[i].Contains))
                    for (int j = 0; j < w[i].Length; j++) w[i][j] -= w[i][j] * wd * lr;
                int t = step + 1;
                for (int j = 0; j < w[i].Length; j++)
                {
                    double gj = g[i][j];
                    switch (c.Kind)
                    {
                        case "sgd" when c.Momentum == 0:
                            w[i][j] -= lr * gj;
                            break;
                        case "sgd":
                            m[i][j] = c.Momentum * m[i][j] - lr * gj;
                            w[i][j] += c.Nesterov ? c.Momentum * m[i][j] - lr * gj : m[i][j];
                            break;
                        case "adam":
                            m[i][j] = c.Beta1 * m[i][j] + (1 - c.Beta1) * gj;
                            v[i][j] = c.Beta2 * v[i][j] + (1 - c.Beta2) * gj * gj;
                            vMax[i][j] = Math.Max(vMax[i][j], v[i][j]);
                            // adam.py raises ops.cast(beta, float32) to the step: 1 - 0.999f^t is 1.3e-5 (relative) off 1 - 0.999^t.
                            double alpha = lr * Math.Sqrt(1 - Math.Pow((float)c.Beta2, t)) / (1 - Math.Pow((float)c.Beta1, t));
                            w[i][j] -= alpha * m[i][j] / (Math.Sqrt(c.Amsgrad ? vMax[i][j] : v[i][j]) + c.Epsilon);
                            break;
                        case "rmsprop":
                            v[i][j] = c.Rho * v[i][j] + (1 - c.Rho) * gj * gj;
                            a[i][j] = c.Rho * a[i][j] + (1 - c.Rho) * gj;
                            double denominator = c.Centered ? v[i][j] - a[i][j] * a[i][j] + c.Epsilon : v[i][j] + c.Epsilon;
                            double increment = lr * gj / Math.Sqrt(denominator);
                            if (c.Momentum > 0)
                            {
                                m[i][j] = c.Momentum * m[i][j] + increment;
                                w[i][j] -= m[i][j];
                            }
                            else
                            {
                                w[i][j] -= increment;
                            }
                            break;
                    }
                }
            }
        }
        return w;
    }

    // Lengths 1, 7, 17 and 37 cover the scalar tail, one vector and several vectors at every Vector<float> width.
    private static readonly int[] s_lengths = [1, 7, 17, 37];
    private static readonly string[] s_names = ["dense/kernel", "dense/bias", "conv/kernel", "conv/bias"];

    private static (float[][] W0, float[][][] Gradients) Problem(int seed)
    {
        var random = new Random(seed);
        var w0 = s_lengths.Select(n => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var gradients = Enumerable.Range(0, Steps).Select(_ => s_lengths
            .Select(n => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2 - 1) * (0.2 + random.NextDouble()))).ToArray()).ToArray()).ToArray();
        return (w0, gradients);
    }

    private static float[][] Run(Optimizer optimizer, float[][] w0, float[][][] gradients, Action<Optimizer>? beforeBuild = null)
    {
        var w = w0.Select(x => (float[])x.Clone()).ToArray();
        var g = w0.Select(x => new float[x.Length]).ToArray();
        beforeBuild?.Invoke(optimizer);
        optimizer.Build(w.Select((x, i) => new TrainableVariable(s_names[i], x, g[i])).ToList());
        foreach (var step in gradients)
        {
            for (int i = 0; i < g.Length; i++) step[i].CopyTo(g[i], 0);
            optimizer.Apply();
        }
        Assert.Equal(gradients.Length, optimizer.Iterations);
        return w;
    }

    private static void AssertMatches(ReferenceConfig config, Optimizer optimizer, int seed = 1, double tolerance = 5e-7, Action<Optimizer>? beforeBuild = null)
    {
        var (w0, gradients) = Problem(seed);
        var actual = Run(optimizer, w0, gradients, beforeBuild);
        var expected = Reference(config, w0.Select(x => Array.ConvertAll(x, f => (double)f)).ToArray(), gradients, s_names);
        for (int i = 0; i < actual.Length; i++) Precision.AssertClose(expected[i], actual[i], tolerance, scale: 1, what: $"{optimizer.Name} {s_names[i]}");
    }

    public static TheoryData<string> Cases => new()
    {
        "sgd", "sgd-momentum", "sgd-nesterov", "adam", "adam-amsgrad", "adamw", "adamw-excluded", "rmsprop", "rmsprop-momentum",
        "rmsprop-centered", "sgd-clipnorm", "adam-globalclipnorm", "rmsprop-clipvalue", "adam-weightdecay-cosine",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SeveralStepsMatchTheFloat64KerasFormulas(string name)
    {
        var cosine = new CosineDecay(0.05f, 4, alpha: 0.1f, warmupTarget: 0.1f, warmupSteps: 2);
        (ReferenceConfig config, Optimizer optimizer, Action<Optimizer>? before) = name switch
        {
            "sgd" => (new ReferenceConfig("sgd", Lr: 0.1), (Optimizer)new Sgd(0.1f), (Action<Optimizer>?)null),
            "sgd-momentum" => (new ReferenceConfig("sgd", Lr: 0.1, Momentum: 0.9), new Sgd(0.1f, momentum: 0.9), null),
            "sgd-nesterov" => (new ReferenceConfig("sgd", Lr: 0.1, Momentum: 0.8, Nesterov: true), new Sgd(0.1f, momentum: 0.8, nesterov: true), null),
            "adam" => (new ReferenceConfig("adam", Lr: 0.01), new Adam(0.01f), null),
            "adam-amsgrad" => (new ReferenceConfig("adam", Lr: 0.01, Beta1: 0.5, Beta2: 0.9, Amsgrad: true), new Adam(0.01f, beta1: 0.5, beta2: 0.9, amsgrad: true), null),
            "adamw" => (new ReferenceConfig("adam", Lr: 0.01, WeightDecay: 0.004), new AdamW(0.01f), null),
            "adamw-excluded" => (new ReferenceConfig("adam", Lr: 0.05, WeightDecay: 0.3, Excluded: ["bias"]), new AdamW(0.05f, weightDecay: 0.3),
                                 (Action<Optimizer>)(o => o.ExcludeFromWeightDecay("bias"))),
            "rmsprop" => (new ReferenceConfig("rmsprop", Lr: 0.01), new RmsProp(0.01f), null),
            "rmsprop-momentum" => (new ReferenceConfig("rmsprop", Lr: 0.01, Momentum: 0.9), new RmsProp(0.01f, momentum: 0.9), null),
            "rmsprop-centered" => (new ReferenceConfig("rmsprop", Lr: 0.01, Rho: 0.8, Momentum: 0.5, Centered: true), new RmsProp(0.01f, rho: 0.8, momentum: 0.5, centered: true), null),
            "sgd-clipnorm" => (new ReferenceConfig("sgd", Lr: 0.1, Momentum: 0.9, ClipNorm: 0.5), new Sgd(0.1f, momentum: 0.9) { ClipNorm = 0.5 }, null),
            "adam-globalclipnorm" => (new ReferenceConfig("adam", Lr: 0.01, GlobalClipNorm: 1.0), new Adam(0.01f) { GlobalClipNorm = 1.0 }, null),
            "rmsprop-clipvalue" => (new ReferenceConfig("rmsprop", Lr: 0.01, ClipValue: 0.3), new RmsProp(0.01f) { ClipValue = 0.3 }, null),
            "adam-weightdecay-cosine" => (new ReferenceConfig("adam", WeightDecay: 0.1, Schedule: s => cosine.Evaluate(s)), new Adam(cosine) { WeightDecay = 0.1 }, null),
            _ => throw new ArgumentException(name),
        };
        AssertMatches(config, optimizer, seed: name.Length, beforeBuild: before);
    }

    [Fact]
    public void ClippingReallyClipsInTheseProblems()
    {
        // Guards the clip cases above against gradients too small for the clip to act.
        var (_, gradients) = Problem(1);
        Assert.Contains(gradients[0], g => Math.Sqrt(g.Sum(x => (double)x * x)) > 0.5);
        Assert.Contains(gradients[0].SelectMany(g => g), x => Math.Abs(x) > 0.3);
        Assert.True(Math.Sqrt(gradients[0].Sum(g => g.Sum(x => (double)x * x))) > 1.0);
    }

    [Fact]
    public void ExcludedVariablesAreNotDecayed()
    {
        var w = new float[] { 1f, 2f };
        var b = new float[] { 1f, 2f };
        var optimizer = new Sgd(0.5f) { WeightDecay = 0.1 };
        optimizer.ExcludeFromWeightDecay("bias");
        optimizer.Build([new TrainableVariable("d/kernel", w, new float[2]), new TrainableVariable("d/bias", b, new float[2])]);
        optimizer.Apply();
        Assert.Equal([0.95f, 1.9f], w);
        Assert.Equal([1f, 2f], b);
        Assert.Throws<InvalidOperationException>(() => optimizer.ExcludeFromWeightDecay("kernel"));
    }

    [Fact]
    public void TheScheduleIsEvaluatedAtIterationsBeforeTheIncrement()
    {
        var w = new float[] { 0f };
        var g = new float[] { 1f };
        var schedule = new PiecewiseConstantDecay([0, 1], [1f, 10f, 100f]);
        var optimizer = new Sgd(schedule);
        optimizer.Build([new TrainableVariable("w", w, g)]);
        Assert.Equal(1f, optimizer.CurrentLearningRate);
        optimizer.Apply(); // step 0: lr 1
        Assert.Equal(-1f, w[0]);
        optimizer.Apply(); // step 1: lr 10
        Assert.Equal(-11f, w[0]);
        optimizer.Apply(); // step 2: lr 100
        Assert.Equal(-111f, w[0]);
        Assert.Equal(3, optimizer.Iterations);
    }

    [Fact]
    public void StateIsNamedAsKerasNamesItAndAllocatedOnce()
    {
        var optimizer = new Adam(amsgrad: true);
        var kernel = new float[5];
        optimizer.Build([new TrainableVariable("dense/kernel", kernel, new float[5]), new TrainableVariable("dense/bias", new float[2], new float[2])]);
        Assert.Equal(["dense_kernel_momentum", "dense_kernel_velocity", "dense_kernel_velocity_hat", "dense_bias_momentum", "dense_bias_velocity", "dense_bias_velocity_hat"],
                     optimizer.Variables.Select(v => v.Name));
        var momentum = optimizer.GetVariable("dense_kernel_momentum");
        Assert.Equal(5, momentum.Values.Length);
        kernel.AsSpan().Fill(1);
        optimizer.TrainableVariables[0].Gradient.Span.Fill(0.5f);
        optimizer.Apply();
        Assert.Same(momentum, optimizer.GetVariable("dense_kernel_momentum"));
        Assert.All(momentum.Values, m => Assert.Equal(0.05f, m, 7));
        Assert.Throws<KeyNotFoundException>(() => optimizer.GetVariable("dense_kernel_moment"));
        Assert.Throws<InvalidOperationException>(() => optimizer.Build([]));

        Assert.Equal(["velocity", "momentum", "average_gradient"], BuiltSlots(new RmsProp(momentum: 0.9, centered: true)));
        Assert.Equal(["velocity"], BuiltSlots(new RmsProp()));
        Assert.Empty(BuiltSlots(new Sgd()));
        Assert.Equal(["momentum"], BuiltSlots(new Sgd(momentum: 0.9)));
    }

    private static IEnumerable<string> BuiltSlots(Optimizer optimizer)
    {
        optimizer.Build([new TrainableVariable("x", new float[3], new float[3])]);
        return optimizer.Variables.Select(v => v.Slot);
    }

    [Fact]
    public void ApplyAllocatesNothing()
    {
        var w = new float[1000];
        var g = new float[1000];
        g.AsSpan().Fill(0.01f);
        var optimizers = new Optimizer[]
        {
            new Adam(amsgrad: true) { GlobalClipNorm = 1 }, new AdamW(new CosineDecay(0.01f, 100)), new Sgd(momentum: 0.9, nesterov: true) { ClipNorm = 1 },
            new RmsProp(momentum: 0.5, centered: true) { ClipValue = 0.5 },
        };
        foreach (var optimizer in optimizers)
        {
            optimizer.Build([new TrainableVariable("w", w, g)]);
            optimizer.Apply();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) optimizer.Apply();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void TensorVariablesAreUpdatedInPlace()
    {
        using var values = Tensor.FromArray([1f, 2f, 3f], new TensorShape(3));
        using var gradient = Tensor.FromArray([1f, 1f, 1f], new TensorShape(3));
        var optimizer = new Sgd(0.5f);
        optimizer.Build([TrainableVariable.FromTensors("v", values, gradient)]);
        optimizer.Apply();
        Assert.Equal([0.5f, 1.5f, 2.5f], values.Span.ToArray());
    }

    [Fact]
    public void InvalidOptionsAreNamedErrors()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new Adam { ClipNorm = 1, ClipValue = 1 }.Build([]));
        Assert.Contains("only one of clipnorm, clipvalue and global_clipnorm", e.Message);
        Assert.Throws<InvalidOperationException>(() => new Adam().Apply());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(momentum: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1.0));
        Assert.Throws<ArgumentException>(() => new TrainableVariable("x", new float[3], new float[2]));
        Assert.Throws<ArgumentException>(() => new Sgd().Build([new TrainableVariable("x", new float[1], new float[1]), new TrainableVariable("x", new float[1], new float[1])]));
    }

    // PyTorch float64, on the formulas that are identical: SGD (constant lr), Adam/AdamW/RMSprop with epsilon 0.
    private const string TorchScript = """
        import json, sys, torch
        torch.set_default_dtype(torch.float64)
        c = json.load(open(sys.argv[1]))
        params = [torch.tensor(w, requires_grad=True) for w in c["w0"]]
        kind, lr = c["kind"], c["lr"]
        if kind == "sgd":
            opt = torch.optim.SGD(params, lr=lr, momentum=c["momentum"], nesterov=c["nesterov"])
        elif kind == "adam":
            opt = torch.optim.Adam(params, lr=lr, betas=(c["beta1"], c["beta2"]), eps=0.0, amsgrad=c["amsgrad"])
        elif kind == "adamw":
            opt = torch.optim.AdamW(params, lr=lr, betas=(c["beta1"], c["beta2"]), eps=0.0, weight_decay=c["wd"])
        else:
            opt = torch.optim.RMSprop(params, lr=lr, alpha=c["rho"], eps=0.0, momentum=c["momentum"], centered=c["centered"])
        for step in c["gradients"]:
            for p, g in zip(params, step):
                p.grad = torch.tensor(g)
            opt.step()
        print(json.dumps([p.detach().tolist() for p in params]))
        """;

    public static TheoryData<string> TorchCases => new() { "sgd", "sgd-momentum", "sgd-nesterov", "adam", "adam-amsgrad", "adamw", "rmsprop", "rmsprop-centered-momentum" };

    [ReferenceFact(ExternalReference.PyTorch)]
    public void SeveralStepsMatchPyTorchWhereTheFormulasAgree()
    {
        foreach (string name in TorchCases)
        {
            (Optimizer optimizer, object config) = name switch
            {
                "sgd" => ((Optimizer)new Sgd(0.1f), (object)new { kind = "sgd", lr = 0.1, momentum = 0.0, nesterov = false }),
                "sgd-momentum" => (new Sgd(0.1f, momentum: 0.9), new { kind = "sgd", lr = 0.1, momentum = 0.9, nesterov = false }),
                "sgd-nesterov" => (new Sgd(0.1f, momentum: 0.9, nesterov: true), new { kind = "sgd", lr = 0.1, momentum = 0.9, nesterov = true }),
                "adam" => (new Adam(0.01f, epsilon: 0), new { kind = "adam", lr = 0.01, beta1 = 0.9, beta2 = 0.999, amsgrad = false }),
                "adam-amsgrad" => (new Adam(0.01f, beta1: 0.5, beta2: 0.9, epsilon: 0, amsgrad: true), new { kind = "adam", lr = 0.01, beta1 = 0.5, beta2 = 0.9, amsgrad = true }),
                "adamw" => (new AdamW(0.01f, weightDecay: 0.2, epsilon: 0), new { kind = "adamw", lr = 0.01, beta1 = 0.9, beta2 = 0.999, wd = 0.2 }),
                "rmsprop" => (new RmsProp(0.01f, epsilon: 0), new { kind = "rmsprop", lr = 0.01, rho = 0.9, momentum = 0.0, centered = false }),
                _ => (new RmsProp(0.01f, rho: 0.8, momentum: 0.5, epsilon: 0, centered: true), new { kind = "rmsprop", lr = 0.01, rho = 0.8, momentum = 0.5, centered = true }),
            };
            var (w0, gradients) = Problem(name.Length + 100);
            var actual = Run(optimizer, w0, gradients);
            var document = JsonSerializer.Serialize(new { config, w0, gradients });
            // Flatten: the script reads the config keys at the top level.
            using var parsed = JsonDocument.Parse(document);
            var merged = new Dictionary<string, JsonElement>();
            foreach (var p in parsed.RootElement.GetProperty("config").EnumerateObject()) merged[p.Name] = p.Value;
            merged["w0"] = parsed.RootElement.GetProperty("w0");
            merged["gradients"] = parsed.RootElement.GetProperty("gradients");
            string output = TorchReference.Run(TorchScript, JsonSerializer.Serialize(merged));
            var expected = JsonSerializer.Deserialize<double[][]>(output.Trim().Split('\n')[^1])!;
            for (int i = 0; i < actual.Length; i++) Precision.AssertClose(expected[i], actual[i], 2e-6, scale: 1, what: $"{name} vs PyTorch, {s_names[i]}");
        }
    }
}
