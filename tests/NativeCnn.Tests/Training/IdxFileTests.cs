using System.Buffers.Binary;
using System.IO.Compression;
using NativeCnn.Training;

namespace NativeCnn.Tests.Training;

public class IdxFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"nativecnn-idx-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public IdxFileTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static byte[] Idx(byte type, uint[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(data);
        return output.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void ReadsRawAndCompressedFilesOfEveryType()
    {
        var data = new byte[2 * 3 * 4];
        for (int i = 0; i < 6; i++) BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(4 * i), i - 2.5f);
        foreach (var bytes in new[] { Idx(0x0D, [2, 3], data), Gzip(Idx(0x0D, [2, 3], data)) })
        {
            var array = IdxFile.Read(Write("floats", bytes));
            Assert.Equal([2, 3], array.Dimensions);
            Assert.Equal(IdxElementType.Float32, array.ElementType);
            var values = new float[6];
            array.CopyTo(values);
            Assert.Equal([-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f], values);
        }
        var shorts = IdxFile.Read(Write("shorts", Idx(0x0B, [2], [0xFF, 0xFE, 0x01, 0x00])));
        Assert.Equal([-2, 256], shorts.ToInt32());
        var signed = IdxFile.Read(Write("signed", Idx(0x09, [2], [0xFF, 0x7F])));
        Assert.Equal([-1, 127], signed.ToInt32());
    }

    public static TheoryData<string, byte[], string> HostileFiles => new()
    {
        { "empty", [], "(byte 0): the file ends inside the magic number (0 of 4 bytes present)" },
        { "wrong magic", [0x1F, 0x00, 0x08, 0x01, 0, 0, 0, 1, 7], "(byte 0): not an IDX file: the magic number must start with 00 00, found 1F000801" },
        { "unknown type", Idx(0x0A, [1], [1]), "(byte 2): unknown IDX element type 0x0A" },
        { "rank 0", [0, 0, 0x08, 0], "(byte 3): rank 0 is not supported" },
        { "truncated header", Idx(0x08, [60000, 28, 28], [])[..10], "(byte 10): the file ends inside dimension 1 (2 of 4 bytes present)" },
        { "truncated data", Idx(0x08, [10, 28, 28], new byte[100]), "(byte 16): dimensions (10, 28, 28) of UInt8 need 7840 bytes of data, but the file has 100 after the header" },
        { "trailing data", Idx(0x08, [3], new byte[4]), "need 3 bytes of data, but the file has 4" },
        { "dimension above 2^31", Idx(0x08, [0x80000000u], [1]), "(byte 4): dimension 0 is 2147483648, above 2147483647" },
        { "lying dimensions", Idx(0x08, [2000000000, 2000000000, 2000000000], new byte[16]), "(byte 4): dimensions (2000000000, 2000000000, 2000000000) of UInt8 need more than the 1073741824 bytes" },
        { "lying count, gzip", Gzip(Idx(0x08, [1000000, 28, 28], new byte[50])), "(inflated) (byte 66): the data ends after 50 of the 784000000 bytes that dimensions (1000000, 28, 28) of UInt8 need" },
        { "trailing data, gzip", Gzip(Idx(0x08, [3], new byte[5])), "(inflated) (byte 11): more data follows the 3 bytes" },
        { "corrupt gzip", [0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x03, 0x42, 0x42, 0x42], "(inflated)" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void HostileFilesRaiseNamedErrorsWithoutLargeAllocations(string name, byte[] bytes, string message)
    {
        string path = Write(name.Replace(' ', '-').Replace(',', '_'), bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith(path, e.Message);
        Assert.Contains(message, e.Message);
        // The lying gzip header claims 784 MB; what is allocated is bounded by the first chunk, not by the header.
        Assert.True(allocated < 4 << 20, $"{name}: {allocated} bytes allocated");
    }

    [FashionMnistFact]
    public void RealFashionMnistHeaders()
    {
        var train = IdxFile.Read(Path.Combine(FashionMnist.DefaultDirectory, "train-images-idx3-ubyte.gz"));
        Assert.Equal([60000, 28, 28], train.Dimensions);
        Assert.Equal(IdxElementType.UInt8, train.ElementType);
        var testLabels = IdxFile.Read(Path.Combine(FashionMnist.DefaultDirectory, "t10k-labels-idx1-ubyte.gz"));
        Assert.Equal([10000], testLabels.Dimensions);
    }

    [FashionMnistFact]
    public void FashionMnistLoadsScaledNhwcImagesAndLabels()
    {
        var (train, test) = FashionMnist.Load();
        Assert.Equal(60000, train.Count);
        Assert.Equal(10000, test.Count);
        Assert.Equal([28, 28, 1], train.SampleShape);
        Assert.Equal(1, train.TargetsPerSample);
        var pixels = train.Inputs.Span;
        float min = float.MaxValue, max = float.MinValue;
        foreach (float p in pixels) { min = Math.Min(min, p); max = Math.Max(max, p); }
        Assert.Equal(0f, min);
        Assert.Equal(1f, max);
        // Balanced classes: 6000 per class in training, 1000 in test.
        var counts = new int[10];
        foreach (float label in train.Targets.Span) counts[(int)label]++;
        Assert.All(counts, c => Assert.Equal(6000, c));
        // The first training label of Fashion-MNIST is 9 (ankle boot), the first test label 9 too.
        Assert.Equal(9f, train.Target(0)[0]);
        Assert.Equal(9f, test.Target(0)[0]);
    }
}

/// <summary>A fact that needs Debian's Fashion-MNIST files: skipped where they are missing, except under CI.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    /// <summary>Skips the test when the files are missing outside CI.</summary>
    public FashionMnistFactAttribute()
    {
        if (!References.RequiredByCi && !File.Exists(Path.Combine(FashionMnist.DefaultDirectory, "train-images-idx3-ubyte.gz")))
            Skip = $"Fashion-MNIST is not in {FashionMnist.DefaultDirectory} (apt-get install dataset-fashion-mnist, or bash tests/run.sh as root)";
    }
}
