using System.Diagnostics;
using NativeCnn.Backends;
using NativeCnn.Backends.Conformance;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Gpu;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Samples.GpuCheck;

/// <summary>
/// Checks every available device against the CPU backend on the op conformance catalog, then measures whole-model
/// throughput, checking each device's whole-model output against the CPU's. Exit code 0: everything passed; 1: some op or
/// model failed; 2: bad arguments.
/// </summary>
internal static class GpuCheckCommand
{
    private const string Usage = """
        usage: GpuCheck [--devices cpu,opencl:0:0,cuda:0] [--models efficientnet-b0,mobilenetv2,resnet50]
                        [--batches 1,8,64] [--resolution 224] [--runs 3] [--ops add,conv2d]
                        [--no-conformance] [--no-benchmark]
        Without --devices every available device is used; --ops keeps the op cases whose names start with one of the
        given prefixes. Set POCL_CACHE_DIR to a writable folder for PoCL.
        """;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        List<Device> devices;
        string[] models, batchText, ops;
        int resolution, runs;
        bool conformance, benchmark;
        try
        {
            var line = new CommandLine(args);
            if (line.Flag("help"))
            {
                output.WriteLine(Usage);
                return 0;
            }
            devices = line.String("devices") is { } ids ? [.. ids.Split(',').Select(Device.Parse)] : [.. Device.Available];
            models = (line.String("models") ?? "efficientnet-b0,mobilenetv2,resnet50").Split(',');
            batchText = (line.String("batches") ?? "1,8,64").Split(',');
            resolution = line.Int("resolution", 224);
            runs = line.Int("runs", 3);
            ops = line.String("ops")?.Split(',') ?? [""];
            conformance = !line.Flag("no-conformance");
            benchmark = !line.Flag("no-benchmark");
            line.RejectUnknown();
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            error.WriteLine(ex.Message);
            error.WriteLine(Usage);
            return 2;
        }

        foreach (var device in new[] { Device.Cpu, Device.Cuda(), Device.OpenCL() }) output.WriteLine($"device {device}");
        foreach (var device in devices.Where(d => !d.IsAvailable))
            output.WriteLine($"skipping {device}");
        devices = [.. devices.Where(d => d.IsAvailable)];

        int failed = 0;
        if (conformance) failed = CheckOps(devices, ops, output);
        if (benchmark) failed += Benchmark(devices, models, [.. batchText.Select(int.Parse)], resolution, runs, output);
        return failed == 0 ? 0 : 1;
    }

    private static int CheckOps(IReadOnlyList<Device> devices, string[] prefixes, TextWriter output)
    {
        using var cpu = new CpuBackend();
        int passed = 0, failed = 0;
        foreach (var device in devices.Where(d => d.Kind != DeviceKind.Cpu))
        {
            IBackend backend;
            try
            {
                backend = device.CreateBackend();
            }
            catch (Exception ex) when (ex is GpuException or InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
            {
                output.WriteLine($"FAIL {device.Id}: {ex.Message}");
                failed += OpConformance.All.Count;
                continue;
            }
            using var owned = backend;
            double worst = 0;
            int count = 0;
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < OpConformance.All.Count; i++)
            {
                var test = OpConformance.All[i];
                if (!prefixes.Any(p => test.Name.StartsWith(p, StringComparison.Ordinal))) continue;
                count++;
                try
                {
                    double error = OpConformance.Error(test.Run(cpu, i + 1), test.Run(backend, i + 1));
                    worst = Math.Max(worst, error);
                    if (error <= OpConformance.Tolerance)
                    {
                        passed++;
                        continue;
                    }
                    output.WriteLine($"FAIL {device.Id} {test.Name}: relative error {error:E2} > {OpConformance.Tolerance:E0}");
                }
                catch (Exception ex) when (ex is BackendException or GpuException)
                {
                    output.WriteLine($"FAIL {device.Id} {test.Name}: {ex.Message}");
                }
                failed++;
            }
            output.WriteLine($"{backend.Name}: {count} ops, worst relative error {worst:E2}, {clock.Elapsed.TotalSeconds:F1} s");
        }
        output.WriteLine($"{passed} passed, {failed} failed");
        return failed;
    }

    /// <summary>
    /// Images/s per model, device and batch; every device's output is also compared with the CPU plan's on the same input
    /// (relative to the largest output), and a difference above <see cref="OpConformance.Tolerance"/> counts as a failure.
    /// </summary>
    private static int Benchmark(IReadOnlyList<Device> devices, string[] models, int[] batches, int resolution, int runs, TextWriter output)
    {
        output.WriteLine($"throughput (images/s, best of {runs}, {resolution} px, fused plans; error = max |output - cpu| / max |cpu|):");
        int failed = 0;
        foreach (var name in models)
        {
            using var model = ModelZoo.Create(name, new ApplicationOptions { Resolution = resolution });
            foreach (int batch in batches)
            {
                float[]? reference = null;
                foreach (var device in devices.OrderBy(d => d.Kind != DeviceKind.Cpu))
                {
                    try
                    {
                        using var plan = model.To(device, batch);
                        var input = new float[plan.Input.Shape.ElementCount];
                        for (int i = 0; i < input.Length; i++) input[i] = (i * 7919 % 256) - 0.5f;
                        var result = new float[plan.Output.Shape.ElementCount];
                        plan.Run(input, result);
                        reference ??= device.Kind == DeviceKind.Cpu ? (float[])result.Clone() : new CpuReference(model, batch).Run(input);
                        double error = MaxError(reference, result);
                        double best = double.MaxValue;
                        for (int r = 0; r < runs; r++)
                        {
                            var clock = Stopwatch.StartNew();
                            plan.Run(input, result);
                            best = Math.Min(best, clock.Elapsed.TotalSeconds);
                        }
                        bool ok = error <= OpConformance.Tolerance;
                        if (!ok) failed++;
                        output.WriteLine($"  {name,-16} {device.Id,-12} batch {batch,3}: {batch / best,9:F1} images/s ({best * 1000:F1} ms), " +
                                         $"error {error:E1}{(ok ? "" : " FAIL")}");
                    }
                    catch (Exception ex) when (ex is BackendException or GpuException or InvalidOperationException)
                    {
                        failed++;
                        output.WriteLine($"  {name,-16} {device.Id,-12} batch {batch,3}: FAIL {ex.Message}");
                    }
                }
            }
        }
        return failed;
    }

    private static double MaxError(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        double scale = 0, worst = 0;
        foreach (float e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
        {
            double difference = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(difference)) return double.PositiveInfinity;
            worst = Math.Max(worst, difference);
        }
        return worst / Math.Max(scale, double.Epsilon);
    }

    /// <summary>The CPU plan's output, when the CPU itself is not among the benchmarked devices.</summary>
    private sealed class CpuReference(Models.Model model, int batch)
    {
        public float[] Run(float[] input)
        {
            using var plan = model.To(Device.Cpu, batch);
            var result = new float[plan.Output.Shape.ElementCount];
            plan.Run(input, result);
            return result;
        }
    }
}
