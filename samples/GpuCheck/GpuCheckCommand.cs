using System.Diagnostics;
using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Gpu;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Samples.GpuCheck;

/// <summary>
/// Checks every available device against the CPU backend on the op conformance catalog, then measures whole-model
/// throughput. Exit code 0: all ops passed; 1: some failed; 2: bad arguments.
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
        if (benchmark) Benchmark(devices, models, [.. batchText.Select(int.Parse)], resolution, runs, output);
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
                failed += OpCases.All.Count;
                continue;
            }
            using var owned = backend;
            double worst = 0;
            int count = 0;
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < OpCases.All.Count; i++)
            {
                var test = OpCases.All[i];
                if (!prefixes.Any(p => test.Name.StartsWith(p, StringComparison.Ordinal))) continue;
                count++;
                try
                {
                    double error = OpCases.Error(test.Run(cpu, i + 1), test.Run(backend, i + 1));
                    worst = Math.Max(worst, error);
                    if (error <= OpCases.Tolerance)
                    {
                        passed++;
                        continue;
                    }
                    output.WriteLine($"FAIL {device.Id} {test.Name}: relative error {error:E2} > {OpCases.Tolerance:E0}");
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

    private static void Benchmark(IReadOnlyList<Device> devices, string[] models, int[] batches, int resolution, int runs, TextWriter output)
    {
        output.WriteLine($"throughput (images/s, best of {runs}, {resolution} px, fused plans):");
        foreach (var name in models)
        {
            using var model = ModelZoo.Create(name, new ApplicationOptions { Resolution = resolution });
            foreach (var device in devices)
                foreach (int batch in batches)
                {
                    try
                    {
                        using var plan = model.To(device, batch);
                        var input = new float[plan.Input.Shape.ElementCount];
                        for (int i = 0; i < input.Length; i++) input[i] = (i % 255) - 127f;
                        var result = new float[plan.Output.Shape.ElementCount];
                        plan.Input.CopyFrom(input);
                        plan.Run();
                        plan.Output.CopyTo(result);
                        double best = double.MaxValue;
                        for (int r = 0; r < runs; r++)
                        {
                            var clock = Stopwatch.StartNew();
                            plan.Input.CopyFrom(input);
                            plan.Run();
                            plan.Output.CopyTo(result);
                            best = Math.Min(best, clock.Elapsed.TotalSeconds);
                        }
                        output.WriteLine($"  {name,-16} {device.Id,-12} batch {batch,3}: {batch / best,9:F1} images/s ({best * 1000:F1} ms)");
                    }
                    catch (Exception ex) when (ex is BackendException or GpuException or InvalidOperationException)
                    {
                        output.WriteLine($"  {name,-16} {device.Id,-12} batch {batch,3}: failed: {ex.Message}");
                    }
                }
        }
    }
}
