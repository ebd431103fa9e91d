using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using NativeCnn.Imaging;
using NativeCnn.Models;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;
using NativeCnn.Weights.TensorFlowJs;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// Files built to attack the loaders (issue 11): TensorFlow.js manifests whose shard paths leave the model's folder,
/// zip bombs and lying zip headers in <c>.keras</c> archives, and a PNG whose header overflows the scanline buffer.
/// Each must end in an <see cref="InvalidDataException"/> or <see cref="NotSupportedException"/> that names the file,
/// fast and without allocating for what it declares.
/// </summary>
public sealed class HostileFileTests : IDisposable
{
    // A length that appears nowhere else, so a message that leaks the outside file's size is caught.
    private const int SecretLength = 31337;

    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-hostile-").FullName;
    private readonly string _secret;

    public HostileFileTests()
    {
        string outside = Directory.CreateDirectory(Path.Combine(_work, "outside")).FullName;
        _secret = Path.Combine(outside, "secret.bin");
        File.WriteAllBytes(_secret, new byte[SecretLength]);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>The small model as a TensorFlow.js folder <c>_work/name</c>, with extra shard paths after the real one.</summary>
    private string TensorFlowJsModel(string name, params string[] extraPaths)
    {
        using var model = HostileModelFiles.SmallModel();
        return HostileModelFiles.WriteTensorFlowJs(Path.Combine(_work, name), model, KerasModelConfig.ToJson(model), json =>
        {
            var paths = json["weightsManifest"]![0]!["paths"]!.AsArray();
            foreach (string extra in extraPaths) paths.Add(extra);
        });
    }

    /// <summary>The refusal of both loaders that read model.json, checked to name the file and to tell nothing of the outside file.</summary>
    private static string Refusal(string modelJson)
    {
        string message = Assert.Throws<InvalidDataException>(() => TensorFlowJsLayersModel.Load(modelJson)).Message;
        Assert.StartsWith(modelJson + ":", message);
        Assert.DoesNotContain(SecretLength.ToString(), message);
        long passwd = File.Exists("/etc/passwd") ? new FileInfo("/etc/passwd").Length : -1;
        Assert.DoesNotContain($"{passwd} bytes", message);
        Assert.Equal(message, Assert.Throws<InvalidDataException>(() => KerasFile.Read(modelJson)).Message);
        return message;
    }

    [Theory]
    [InlineData("../outside/secret.bin")]
    [InlineData("../../../../../../../../../../../../etc/passwd")]
    [InlineData("shards/../../outside/secret.bin")]
    [InlineData("./../outside/secret.bin")]
    [InlineData("..")]
    public void ShardPathsThatLeaveTheFolderAreRefusedUntouched(string path)
    {
        string modelJson = TensorFlowJsModel($"traversal-{Guid.NewGuid():N}", path);
        Assert.Contains($"shard path \"{path}\" leaves the model's folder", Refusal(modelJson));
    }

    [Fact]
    public void AbsoluteShardPathsAreRefused()
    {
        foreach (string path in new[] { "/etc/passwd", _secret })
            Assert.Contains("is not a relative file name", Refusal(TensorFlowJsModel($"absolute-{Guid.NewGuid():N}", path)));
    }

    [Theory]
    [InlineData("absolute")]
    [InlineData("relative")]
    [InlineData("directory")]
    [InlineData("chain")]
    public void SymbolicLinksLeadingOutOfTheFolderAreRefused(string kind)
    {
        string modelJson = TensorFlowJsModel($"link-{kind}", kind == "directory" ? "store/secret.bin" : "evil.bin");
        string folder = Path.GetDirectoryName(modelJson)!;
        switch (kind)
        {
            case "absolute": File.CreateSymbolicLink(Path.Combine(folder, "evil.bin"), _secret); break;
            case "relative": File.CreateSymbolicLink(Path.Combine(folder, "evil.bin"), "../outside/secret.bin"); break;
            case "directory": Directory.CreateSymbolicLink(Path.Combine(folder, "store"), Path.GetDirectoryName(_secret)!); break;
            case "chain":
                // Inside, inside, then out: each hop is checked, not only the first.
                File.CreateSymbolicLink(Path.Combine(folder, "evil.bin"), "hop1.bin");
                File.CreateSymbolicLink(Path.Combine(folder, "hop1.bin"), "./hop2.bin");
                File.CreateSymbolicLink(Path.Combine(folder, "hop2.bin"), _secret);
                break;
        }
        Assert.Contains("goes through a symbolic link that leads out of the model's folder", Refusal(modelJson));
    }

    [Fact]
    public void LinksInsideTheFolderAndAFolderReachedThroughALinkStillLoad()
    {
        using var model = HostileModelFiles.SmallModel();
        string folder = Path.Combine(_work, "linked-inside");
        string modelJson = HostileModelFiles.WriteTensorFlowJs(folder, model, KerasModelConfig.ToJson(model), json =>
            json["weightsManifest"]![0]!["paths"] = new JsonArray("alias.bin"));
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        File.Move(Path.Combine(folder, "group1-shard1of1.bin"), Path.Combine(folder, "data", "real.bin"));
        Directory.CreateSymbolicLink(Path.Combine(folder, "store"), "data");
        File.CreateSymbolicLink(Path.Combine(folder, "alias.bin"), "store/../store/real.bin");
        string viaLink = Path.Combine(_work, "folder-link");
        Directory.CreateSymbolicLink(viaLink, folder);

        foreach (string path in new[] { modelJson, Path.Combine(viaLink, "model.json") })
        {
            using var loaded = KerasFile.Read(path).BuildModel();
            Assert.Equal(model.Weights.Select(w => w.Value.ToArray()), loaded.Weights.Select(w => w.Value.ToArray()));
        }
    }

    [Fact]
    public void AShardThatIsADirectoryOrALinkLoopIsRefused()
    {
        string modelJson = TensorFlowJsModel("directory-shard", "shards");
        Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(modelJson)!, "shards"));
        Assert.Contains("is a directory, not a file", Refusal(modelJson));

        modelJson = TensorFlowJsModel("loop-shard", "loop1.bin");
        string folder = Path.GetDirectoryName(modelJson)!;
        File.CreateSymbolicLink(Path.Combine(folder, "loop1.bin"), "loop2.bin");
        File.CreateSymbolicLink(Path.Combine(folder, "loop2.bin"), "loop1.bin");
        Assert.Contains("more than 40 symbolic links", Refusal(modelJson));
    }

    [Fact]
    public void AWeightFolderEntryLinkingOutsideIsRefused()
    {
        using var model = HostileModelFiles.SmallModel();
        string folder = Path.Combine(_work, "npy");
        NpyWeightDirectory.Save(model, folder);
        string kernel = Path.Combine(folder, NpyWeightDirectory.FileNameFor("conv/kernel"));
        File.Delete(kernel);
        File.CreateSymbolicLink(kernel, _secret);
        var e = Assert.Throws<InvalidDataException>(() => NpyWeightDirectory.Load(model, folder));
        Assert.Contains("weight file 'conv__kernel.npy' goes through a symbolic link that leads out", e.Message);
        Assert.DoesNotContain(SecretLength.ToString(), e.Message);
    }

    private string WriteArchive(string name, byte[] zip)
    {
        string path = Path.Combine(_work, name);
        File.WriteAllBytes(path, zip);
        return path;
    }

    /// <summary>Runs <paramref name="load"/> on this thread and returns its refusal, checking it is quick and allocates little.</summary>
    private static TException RefusedCheaply<TException>(Action load, long maxManagedBytes = 16 << 20) where TException : Exception
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<TException>(load);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"refused after {clock.Elapsed}");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < maxManagedBytes, $"{allocated:N0} bytes allocated before refusing: {e.Message}");
        return e;
    }

    [Fact]
    public void AConfigThatInflatesFarBeyondTheLimitIsRefusedBeforeInflating()
    {
        // 80 MiB of spaces deflate to well under a megabyte.
        byte[] zip = HostileModelFiles.KerasArchive(s => HostileModelFiles.WriteRepeated(s, (byte)' ', 80L << 20), s => s.Write("x"u8));
        Assert.True(zip.Length < 1 << 20, $"{zip.Length} bytes");
        string path = WriteArchive("config-bomb.keras", zip);
        var e = RefusedCheaply<InvalidDataException>(() => KerasFile.Read(path));
        Assert.StartsWith($"{path}: member 'config.json' declares 83886080 bytes", e.Message);
        Assert.Contains("more than the 67108864 accepted", e.Message);
    }

    [Fact]
    public void AConfigWhoseHeaderUnderstatesItsSizeIsReadNoFurtherThanItDeclares()
    {
        byte[] zip = HostileModelFiles.KerasArchive(s => HostileModelFiles.WriteRepeated(s, (byte)' ', 80L << 20), s => s.Write("x"u8));
        HostileModelFiles.PatchDeclaredSizes(zip, "config.json", uncompressed: 1000);
        string path = WriteArchive("config-understated.keras", zip);
        // 1,000 spaces are not a config: the rest never inflates.
        var e = RefusedCheaply<InvalidDataException>(() => KerasFile.Read(path).BuildModel());
        Assert.StartsWith(path + ":", e.Message);
    }

    [Fact]
    public void AConfigWhoseHeaderOverstatesItsSizeAllocatesOnlyWhatInflates()
    {
        byte[] zip = HostileModelFiles.KerasArchive(s => s.Write("{}"u8), s => s.Write("x"u8));
        HostileModelFiles.PatchDeclaredSizes(zip, "config.json", uncompressed: 60_000_000);
        string path = WriteArchive("config-overstated.keras", zip);
        var e = RefusedCheaply<InvalidDataException>(() => KerasFile.Read(path), maxManagedBytes: 8 << 20);
        Assert.Equal($"{path}: member 'config.json' ends after 2 of its declared 60000000 bytes.", e.Message);
    }

    [Fact]
    public void AWeightsMemberDeclaringThreeGigabytesIsRefusedBeforeAllocating()
    {
        byte[] zip = HostileModelFiles.KerasArchive(s => s.Write("{}"u8), s => HostileModelFiles.WriteRepeated(s, 7, 4096));
        HostileModelFiles.PatchDeclaredSizes(zip, "model.weights.h5", uncompressed: 3_000_000_000);
        string path = WriteArchive("weights-3e9.keras", zip);
        var e = RefusedCheaply<InvalidDataException>(() => KerasFile.Read(path));
        Assert.StartsWith($"{path}: member 'model.weights.h5' declares 3000000000 bytes", e.Message);

        HostileModelFiles.PatchDeclaredSizes(zip, "model.weights.h5", uncompressed: 3_000_000_000, compressed: 3_000_000_000);
        path = WriteArchive("weights-3e9-stored.keras", zip);
        e = RefusedCheaply<InvalidDataException>(() => KerasFile.Read(path));
        Assert.Contains("member 'model.weights.h5' declares 3000000000 compressed bytes in a", e.Message);
    }

    [Fact]
    public void AWeightsMemberOfZerosThatInflatesTooFarIsRefused()
    {
        byte[] zip = HostileModelFiles.KerasArchive(s => s.Write("{}"u8), s => HostileModelFiles.WriteRepeated(s, 0, 48L << 20));
        string path = WriteArchive("weights-bomb.keras", zip);
        var e = RefusedCheaply<InvalidDataException>(() => KerasFile.Read(path));
        Assert.Contains("member 'model.weights.h5' declares 50331648 bytes from", e.Message);
        Assert.Contains("100:1", e.Message);
    }

    [Fact]
    public void ACorruptArchiveIsRefusedNamingTheFile()
    {
        byte[] zip = HostileModelFiles.KerasArchive(s => s.Write("{}"u8), s => s.Write("x"u8));
        string path = WriteArchive("truncated.keras", zip[..(zip.Length - 30)]);
        var e = Assert.Throws<InvalidDataException>(() => KerasFile.Read(path));
        Assert.StartsWith(path + ":", e.Message);
    }

    [Fact]
    public void AModelJsonAboveTheJsonLimitIsRefusedUnread()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "huge-json")).FullName;
        string path = Path.Combine(folder, "model.json");
        // A sparse file: its length is what the limit checks, and nothing of it is ever read.
        using (var file = File.Create(path))
        {
            file.Write("{"u8);
            file.SetLength((64L << 20) + 1);
        }
        var e = RefusedCheaply<InvalidDataException>(() => KerasFile.Read(path));
        Assert.Equal($"{path}: the file has 67108865 bytes, more than the 67108864 a model.json may hold.", e.Message);
    }

    [Fact]
    public void ATensorLargerThanOneArrayIsRefusedBeforeAllocating()
    {
        // 65536 x 32769 float32 values: a consistent 8.6 GB header over a sparse data section, 2^31 + 65536 elements.
        string path = Path.Combine(_work, "huge.safetensors");
        long bytes = 65536L * 32769 * 4;
        byte[] header = Encoding.UTF8.GetBytes($$$"""{"t": {"dtype": "F32", "shape": [65536, 32769], "data_offsets": [0, {{{bytes}}}]}}""");
        using (var file = File.Create(path))
        {
            file.Write(BitConverter.GetBytes((ulong)header.Length));
            file.Write(header);
            file.SetLength(8 + header.Length + bytes);
        }
        using var tensors = new NativeCnn.Weights.SafeTensors.SafeTensorsFile(path);
        var e = RefusedCheaply<NotSupportedException>(() => tensors.ReadSingles("t"));
        Assert.StartsWith($"{path}: tensor 't' has 2147549184 elements, more than the", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APngWhoseScanlinesOverflowOneBufferIsRefused(bool interlaced)
    {
        // 16384 x 16384 RGBA at 16 bits: 2^31 + 16384 bytes of scanlines, past the largest array; 2.2 MB of IDAT
        // passes the deflate-ratio check, so only the overflow check stands between the header and the allocation.
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, 16384);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 16384);
        header[8] = 16;
        header[9] = 6;
        header[12] = (byte)(interlaced ? 1 : 0);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", new byte[2_200_000]);
        WriteChunk(png, "IEND", []);
        byte[] data = png.ToArray();
        var e = RefusedCheaply<NotSupportedException>(() => ImageDecoder.Decode(data));
        Assert.Contains("a 16384x16384 image of 64 bits per pixel", e.Message);
    }

    private static void WriteChunk(Stream png, string type, byte[] body)
    {
        Span<byte> word = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(word, (uint)body.Length);
        png.Write(word);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. body];
        png.Write(typed);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(word, PngDecoder.Crc32(typed));
        png.Write(word);
    }
}

/// <summary>
/// A config that lies about its weights must be refused before anything is allocated for them, and a load that fails
/// after allocating must release every native byte before its exception leaves (issue 11, classes 3 and 7).
/// </summary>
[Collection(NativeMemoryCollection.Name)]
public sealed class HostileFileMemoryTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-hostile-memory-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string Sequential(params string[] layers) => Sequential(8, layers);

    /// <summary>A Sequential config on a <paramref name="side"/> x <paramref name="side"/> x 3 input.</summary>
    private static string Sequential(int side, params string[] layers) => $$$"""
        {"class_name": "Sequential", "config": {"name": "liar", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, {{{side}}}, {{{side}}}, 3], "name": "in"}},
          {{{string.Join(",\n", layers)}}}]}}
        """;

    private static string Conv(string name, long filters) =>
        $$$"""{"class_name": "Conv2D", "config": {"name": "{{{name}}}", "filters": {{{filters}}}, "kernel_size": 3, "padding": "same"}}""";

    /// <summary>Loads with <paramref name="load"/>, checking that it is refused quickly and that no native memory was allocated.</summary>
    private static string RefusedWithoutAllocating(string path, Action load)
    {
        HostileModelFiles.Settle();
        long native = HostileModelFiles.AllocatedNativeBytes, managed = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<InvalidDataException>(load);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"refused after {clock.Elapsed}");
        Assert.Equal(0, HostileModelFiles.AllocatedNativeBytes - native);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - managed;
        Assert.True(allocated < 8 << 20, $"{allocated:N0} managed bytes allocated");
        Assert.StartsWith(path + ":", e.Message);
        return e.Message;
    }

    [Fact]
    public void ATinyFileDeclaringThirtySevenMillionFiltersAllocatesNothing()
    {
        // The report's file: three such layers on an 8x8 input, and no weights at all. Either refusal may come first (the
        // layer's output is too large, or its kernel is not in the file); neither may allocate.
        foreach (int side in new[] { 8, 1 })
        {
            string config = Sequential(side, Conv("conv1", 37_000_000), Conv("conv2", 37_000_000), Conv("conv3", 37_000_000));
            string path = Path.Combine(_work, $"liar-{side}.safetensors");
            var writer = new NativeCnn.Weights.SafeTensors.SafeTensorsWriter();
            writer.Metadata[ModelFile.KerasConfigKey] = config;
            writer.Save(path);
            Assert.True(new FileInfo(path).Length < 1024);
            string message = RefusedWithoutAllocating(path, () => ModelFile.Load(path));
            Assert.Contains("conv1", message);
            string modelJson = HostileModelFiles.WriteTensorFlowJs(Path.Combine(_work, $"liar-tfjs-{side}"), null, config);
            string viaTfjs = RefusedWithoutAllocating(modelJson, () => KerasFile.Read(modelJson).BuildModel());
            if (side == 8) continue;
            // On a 1x1 input the output (37 million values) is affordable: the file check is what refuses the kernel.
            foreach (string refusal in new[] { message, viaTfjs })
            {
                Assert.Contains("layer 'conv1' (Conv2D) declares weight 'kernel' of shape (3, 3, 3, 37000000) (999000000 values)", refusal);
                Assert.Contains("the file holds no tensor of that shape (it has no 'conv1/kernel'); refused before allocating it", refusal);
            }
        }
    }

    [Fact]
    public void AConfigDeclaringMoreThanTheFileHoldsIsRefusedBeforeThatLayerAllocates()
    {
        // The file really holds conv1's and bn1's weights; the layer after them declares weights it does not hold, with
        // outputs small enough (on a 1x1 input) that only the file check can refuse them.
        const string Bn = """{"class_name": "BatchNormalization", "config": {"name": "bn1"}}""";
        using var honest = KerasModelConfig.Build(Sequential(1, Conv("conv1", 4), Bn));
        foreach (var (layer, expected) in new[]
        {
            (Conv("conv2", 10_000_000), "layer 'conv2' (Conv2D) declares weight 'kernel' of shape (3, 3, 4, 10000000)"),
            ("""{"class_name": "BatchNormalization", "config": {"name": "bn2"}}""",
             "layer 'bn2' (BatchNormalization) declares weight 'gamma' of shape (4,) (4 values), but the file holds no tensor of that shape that an earlier weight has not already taken"),
            ("""{"class_name": "Flatten", "config": {"name": "f"}}, {"class_name": "Dense", "config": {"name": "d", "units": 20000000}}""",
             "layer 'd' (Dense) declares weight 'kernel' of shape (4, 20000000)"),
        })
        {
            string path = Path.Combine(_work, $"partly-{Guid.NewGuid():N}.safetensors");
            HostileModelFiles.WriteModelFile(path, honest, Sequential(1, Conv("conv1", 4), Bn, layer));
            HostileModelFiles.Settle();
            long live = HostileModelFiles.LiveNativeBytes;
            var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
            Assert.StartsWith(path + ":", e.Message);
            Assert.Contains(expected, e.Message);
            Assert.Equal(live, HostileModelFiles.LiveNativeBytes);
        }
    }

    [Fact]
    public void RepeatedFailingLoadsHoldNoNativeMemory()
    {
        // About 9.5 MB of weights, allocated by every load before it fails at the end of the config or at assignment.
        string layers = string.Join(",\n", Enumerable.Range(1, 5).Select(i => Conv($"c{i}", 256)));
        string config = Sequential(layers);
        using var source = KerasModelConfig.Build(config);
        long weightBytes = source.ParameterCount * sizeof(float);
        Assert.True(weightBytes > 9_000_000, $"{weightBytes}");
        string good = Path.Combine(_work, "good.safetensors");
        HostileModelFiles.WriteModelFile(good, source, config);
        string unsupported = Path.Combine(_work, "unsupported-last.safetensors");
        string lstm = Sequential(layers, """{"class_name": "LSTM", "config": {"name": "rnn", "units": 4}}""");
        HostileModelFiles.WriteModelFile(unsupported, source, lstm);
        string refused = Path.Combine(_work, "refused-input.safetensors");
        HostileModelFiles.WriteModelFile(refused, source, Sequential(layers, """{"class_name": "Dense", "config": {"name": "d", "units": 2}}"""));
        string misnamed = Path.Combine(_work, "misnamed.safetensors");
        var writer = new NativeCnn.Weights.SafeTensors.SafeTensorsWriter();
        writer.Metadata[ModelFile.KerasConfigKey] = config;
        foreach (var w in source.Weights) writer.Add(w.FullName == "c5/bias" ? "c5/beta" : w.FullName, w.Shape.ToArray(), w.Value.ToArray());
        writer.Save(misnamed);
        string tfjs = HostileModelFiles.WriteTensorFlowJs(Path.Combine(_work, "tfjs"), source, lstm);

        HostileModelFiles.Settle();
        long baseline = HostileModelFiles.LiveNativeBytes;
        using (var loaded = ModelFile.Load(good))
            Assert.True(HostileModelFiles.LiveNativeBytes - baseline >= weightBytes, "the counter sees a load's weights");
        Assert.Equal(baseline, HostileModelFiles.LiveNativeBytes);

        // No collection may run while the loads fail, or finalizers could hide what they left behind.
        bool noGc = GC.TryStartNoGCRegion(200L << 20);
        try
        {
            for (int round = 0; round < 2; round++)
            {
                Assert.Contains("rnn: layer class 'LSTM' is not supported", Assert.Throws<NotSupportedException>(() => ModelFile.Load(unsupported)).Message);
                Assert.Contains("d (Dense): expected a (batch, features) input", Assert.Throws<InvalidDataException>(() => ModelFile.Load(refused)).Message);
                Assert.Contains("missing c5/bias", Assert.Throws<InvalidDataException>(() => ModelFile.Load(misnamed)).Message);
                Assert.Contains("rnn: layer class 'LSTM' is not supported", Assert.Throws<NotSupportedException>(() => KerasFile.Read(tfjs).BuildModel()).Message);
            }
            long held = HostileModelFiles.LiveNativeBytes - baseline;
            Assert.True(held == 0, $"8 failed loads hold {held:N0} bytes of native memory (no-GC region: {noGc})");
        }
        finally
        {
            if (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
    }
}
