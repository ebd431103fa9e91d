using System.CommandLine;
using System.Diagnostics;
using NativeCnn.Backends;
using NativeCnn.Backends.Conformance;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Ilgpu;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Samples.GpuCheck;

/// <summary>
/// Checks every available device against the CPU backend on the op conformance catalog, then measures whole-model
/// throughput, checking each device's whole-model output against the CPU's; or writes the ILGPU kernels' PTX
/// (<c>--emit-ptx</c>). Exit code 0: everything passed; 1: some op or model failed; 2: bad arguments.
/// </summary>
internal static class GpuCheckCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("""
            GpuCheck: every available GPU device against the CPU backend on the op conformance catalog, then whole-model
            throughput, each device's whole-model output checked against the CPU's. Exit code 0: everything checked passed;
            1: an op or model failed, or nothing could be checked (no usable device); 2: a usage error.
            ilgpu-cpu runs the ILGPU kernels on ILGPU's CPU accelerator (slow: conformance only unless named in --devices).
            Set POCL_CACHE_DIR to a writable folder for PoCL.
            """);
        var devices = new Option<string?>("--devices") { Description = "Comma-separated devices (cpu, ilgpu-cpu, opencl:P:D, cuda:N); every available one when absent." };
        var conformance = new Option<bool>("--conformance") { Description = "Run the op conformance catalog only (no benchmark); prints 'N passed, M failed'." };
        var emitPtx = new Option<DirectoryInfo?>("--emit-ptx") { Description = "Write one .ptx file per ILGPU kernel specialization into DIR (no GPU needed), then exit.", HelpName = "DIR" };
        var cudaArch = new Option<string>("--cuda-arch") { Description = $"With --emit-ptx: comma-separated CUDA architectures ({string.Join(", ", IlgpuPtx.Architectures)}).", DefaultValueFactory = _ => "sm_80,sm_90" };
        var models = new Option<string>("--models") { Description = "Models to benchmark.", DefaultValueFactory = _ => "efficientnet-b0,mobilenetv2,resnet50" };
        var batches = new Option<string>("--batches") { Description = "Batch sizes to benchmark.", DefaultValueFactory = _ => "1,8,64" };
        var resolution = Cli.PositiveInt("--resolution", "Input height and width of the benchmarked models.", 224);
        var runs = Cli.PositiveInt("--runs", "Timed runs per model and batch (the best is reported).", 3);
        var ops = new Option<string?>("--ops") { Description = "Keep the op cases whose names start with one of these comma-separated prefixes." };
        var noConformance = new Option<bool>("--no-conformance") { Description = "Skip the op conformance catalog." };
        var noBenchmark = new Option<bool>("--no-benchmark") { Description = "Skip the whole-model benchmark." };
        foreach (var option in new Option[] { devices, models, batches, resolution, runs, ops, noConformance, noBenchmark, conformance, emitPtx, cudaArch })
            root.Options.Add(option);
        root.SetAction(r =>
        {
            var output = r.InvocationConfiguration.Output;
            if (r.GetValue(emitPtx) is { } ptxDirectory) return EmitPtx(ptxDirectory, Cli.List(r.GetValue(cudaArch)), output);
            if (r.GetValue(conformance) && r.GetValue(noConformance)) throw new UsageException("--conformance and --no-conformance exclude each other");
            List<Device> requested;
            try
            {
                requested = r.GetValue(devices) is { } ids ? [.. Cli.List(ids).Select(Device.Parse)] : [.. Device.Available];
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                throw new UsageException($"--devices: {e.Message}");
            }
            string[] modelNames = Cli.List(r.GetValue(models));
            foreach (string name in modelNames)
                if (!ModelZoo.TryResolve(name, out _, out _, out _)) throw new UsageException($"--models: unknown architecture '{name}'; expected one of: {string.Join(", ", ModelZoo.Names)}");
            var batchSizes = new List<int>();
            foreach (string text in Cli.List(r.GetValue(batches)))
            {
                if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int batch) || batch < 1)
                    throw new UsageException($"--batches takes positive integers, got '{text}'");
                batchSizes.Add(batch);
            }
            string[] prefixes = r.GetValue(ops) is { } o ? Cli.List(o) : [""];

            foreach (var device in new[] { Device.Cpu, Device.IlgpuCpu, Device.Cuda(), Device.OpenCL() }) output.WriteLine($"device {device}");
            foreach (var device in requested.Where(d => !d.IsAvailable)) output.WriteLine($"skipping {device}");
            var usable = requested.Where(d => d.IsAvailable).ToList();
            if (!usable.Any(d => d.Kind != DeviceKind.Cpu))
            {
                string reasons = string.Join("; ", requested.Where(d => !d.IsAvailable).Select(d => $"{d.Id}: {d.UnavailableReason}"));
                throw new InvalidOperationException($"no GPU device to check{(reasons.Length > 0 ? $" ({reasons})" : "")}");
            }

            int failed = 0, checkedCount = 0;
            if (!r.GetValue(noConformance))
            {
                var (opsFailed, opsChecked) = CheckOps(usable, prefixes, output);
                failed += opsFailed;
                checkedCount += opsChecked;
                if (opsChecked == 0) throw new InvalidOperationException($"no op case matched --ops {string.Join(",", prefixes)}: nothing was checked");
            }
            if (!r.GetValue(noBenchmark) && !r.GetValue(conformance))
            {
                // ILGPU's CPU accelerator runs each simulated GPU thread as an OS thread: benchmark it only when asked by name.
                var benchmarked = r.GetValue(devices) is null ? usable.Where(d => d.Kind != DeviceKind.IlgpuCpu).ToList() : usable;
                failed += Benchmark(benchmarked, modelNames, [.. batchSizes], r.GetValue(resolution), r.GetValue(runs), output);
            }
            return failed == 0 ? Cli.Success : Cli.Failed;
        });
        return root;
    }

    /// <summary>Every op case on every GPU device against the CPU backend; returns the failures and the cases checked.
    /// A case whose op the device's kernels do not cover must be refused when prepared (counted as unsupported, not run).</summary>
    private static (int Failed, int Checked) CheckOps(IReadOnlyList<Device> devices, string[] prefixes, TextWriter output)
    {
        using var cpu = new CpuBackend();
        int passed = 0, failed = 0, unsupported = 0, checkedCount = 0;
        var cases = Enumerable.Range(0, OpConformance.All.Count).Where(i => prefixes.Any(p => OpConformance.All[i].Name.StartsWith(p, StringComparison.Ordinal))).ToArray();
        foreach (var device in devices.Where(d => d.Kind != DeviceKind.Cpu))
        {
            IBackend backend;
            try
            {
                backend = device.CreateBackend();
            }
            catch (Exception ex) when (ex is BackendException or InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
            {
                output.WriteLine($"FAIL {device.Id}: {ex.Message}");
                failed += cases.Length;
                continue;
            }
            using var owned = backend;
            double worst = 0;
            var clock = Stopwatch.StartNew();
            ProgressDisplay.Run(Cli.ShowsProgress(json: false), $"{device.Id}: op conformance", cases.Length, step =>
            {
                foreach (int i in cases)
                {
                    var test = OpConformance.All[i];
                    step(null);
                    checkedCount++;
                    try
                    {
                        if (!backend.Supports(test.Op, out var reason))
                        {
                            unsupported++;
                            output.WriteLine($"unsupported {device.Id} {test.Name}: {reason}");
                            continue;
                        }
                        double error = OpConformance.Error(test.Run(cpu, i + 1), test.Run(backend, i + 1));
                        worst = Math.Max(worst, error);
                        if (error <= OpConformance.Tolerance)
                        {
                            passed++;
                            continue;
                        }
                        output.WriteLine($"FAIL {device.Id} {test.Name}: relative error {error:E2} > {OpConformance.Tolerance:E0}");
                    }
                    catch (Exception ex) when (ex is BackendException)
                    {
                        output.WriteLine($"FAIL {device.Id} {test.Name}: {ex.Message}");
                    }
                    failed++;
                }
            });
            output.WriteLine($"{backend.Name}: {cases.Length} ops, worst relative error {worst:E2}, {clock.Elapsed.TotalSeconds:F1} s");
        }
        output.WriteLine($"{passed} passed, {failed} failed{(unsupported > 0 ? $", {unsupported} unsupported (refused by the device's kernels)" : "")}");
        return (failed, checkedCount - unsupported);
    }

    /// <summary>Writes <c>DIR/NAME.ARCH.ptx</c> for every ILGPU kernel specialization and architecture; no GPU or driver needed.</summary>
    private static int EmitPtx(DirectoryInfo directory, string[] architectures, TextWriter output)
    {
        if (architectures.Length == 0) throw new UsageException("--cuda-arch needs at least one architecture");
        foreach (string architecture in architectures)
            if (!IlgpuPtx.Architectures.Contains(architecture))
                throw new UsageException($"--cuda-arch: '{architecture}' is not one of {string.Join(", ", IlgpuPtx.Architectures)}");
        directory.Create();
        int written = 0;
        foreach (string architecture in architectures)
        {
            var clock = Stopwatch.StartNew();
            var kernels = IlgpuPtx.Compile(architecture);
            foreach (var kernel in kernels)
            {
                if (!kernel.Assembly.Contains(".entry", StringComparison.Ordinal))
                    throw new InvalidOperationException($"{kernel.Name} for {architecture}: ILGPU produced PTX without an .entry");
                File.WriteAllText(Path.Combine(directory.FullName, $"{kernel.Name}.{architecture}.ptx"), kernel.Assembly);
                written++;
            }
            output.WriteLine($"{architecture}: {kernels.Count} kernels in {clock.ElapsedMilliseconds} ms " +
                             $"(slowest {kernels.MaxBy(k => k.Elapsed)!.Name}, {kernels.Max(k => k.Elapsed).TotalMilliseconds:F0} ms)");
        }
        output.WriteLine($"wrote {written} .ptx files to {directory.FullName}");
        return Cli.Success;
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
                    catch (Exception ex) when (ex is BackendException or InvalidOperationException)
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
