using System.Buffers.Binary;
using System.Text;
using NativeCnn.Weights.SafeTensors;

namespace NativeCnn.Tests.Weights;

/// <summary>safetensors reader and writer: round trips, byte layout from the specification, dtype decoding, and
/// rejection of malformed or lying files (only <see cref="InvalidDataException"/>, never a crash or huge allocation).</summary>
public sealed class SafeTensorsTests
{
    /// <summary>A safetensors file from its header text (padded to 8 bytes like the reference writer) and data section.</summary>
    private static byte[] BuildFile(string header, ReadOnlySpan<byte> data, bool pad = true)
    {
        var json = Encoding.UTF8.GetBytes(header).ToList();
        while (pad && json.Count % 8 != 0) json.Add((byte)' ');
        var file = new byte[8 + json.Count + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Count);
        json.CopyTo(file, 8);
        data.CopyTo(file.AsSpan(8 + json.Count));
        return file;
    }

    private static byte[] Write(SafeTensorsWriter writer)
    {
        using var stream = new MemoryStream();
        writer.Save(stream);
        return stream.ToArray();
    }

    private static SafeTensorsFile Open(byte[] bytes) => new(new MemoryStream(bytes));

    [Fact]
    public void RoundTripPreservesOrderShapesValuesAndMetadata()
    {
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "nativecnn";
        writer.Metadata["keras_version"] = "3.5.0";
        float[] kernel = TestData.Uniform(1, 3 * 3 * 3 * 17), bias = TestData.Uniform(2, 17), odd = TestData.Uniform(3, 7);
        writer.Add("stem_conv/kernel", [3, 3, 3, 17], kernel);
        writer.Add("stem_conv/bias", [17], bias);
        writer.Add("scalar", [], new float[] { 2.5f });
        writer.Add("empty", [0, 3], Array.Empty<float>());
        writer.Add("a_odd", [7], odd);

        string path = Path.Combine(Path.GetTempPath(), $"nativecnn-st-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");
        writer.Save(path);
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0UL, headerLength % 8);
            foreach (var file in new[] { new SafeTensorsFile(path), Open(bytes) })
            {
                using (file)
                {
                    Assert.Equal(["stem_conv/kernel", "stem_conv/bias", "scalar", "empty", "a_odd"], file.Names);
                    Assert.Equal("nativecnn", file.Metadata["format"]);
                    Assert.Equal("3.5.0", file.Metadata["keras_version"]);
                    Assert.Equal(kernel, file.ReadSingles("stem_conv/kernel"));
                    Assert.Equal(bias, file.ReadSingles("stem_conv/bias"));
                    Assert.Equal(odd, file.ReadSingles("a_odd"));
                    Assert.Equal([2.5f], file.ReadSingles("scalar"));
                    Assert.Empty(file.ReadSingles("empty"));
                    var info = file.GetInfo("stem_conv/kernel");
                    Assert.Equal("F32", info.DType);
                    Assert.Equal([3, 3, 3, 17], info.Shape);
                    Assert.Equal((0L, 4L * kernel.Length), (info.DataBegin, info.DataEnd));
                    Assert.Equal(8 + (long)headerLength, info.FileOffset);
                    Assert.Empty(file.GetInfo("scalar").Shape);
                    Assert.Equal(1, file.GetInfo("scalar").ElementCount);

                    var into = new float[bias.Length];
                    file.ReadSingles("stem_conv/bias", into);
                    Assert.Equal(bias, into);
                    Assert.Throws<ArgumentException>(() => file.ReadSingles("stem_conv/bias", new float[bias.Length + 1]));
                    Assert.Throws<KeyNotFoundException>(() => file.GetInfo("missing"));
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void WriterOutputIsByteExactAgainstTheSpecificationLayout()
    {
        var writer = new SafeTensorsWriter();
        writer.Metadata["k"] = "v";
        writer.Add("w", [2], new[] { 1f, -2.5f });
        writer.Add("b", [], new[] { 0.5f });
        // 8-byte LE length, compact JSON padded with spaces to a multiple of 8, then little-endian float32 data.
        const string header = """{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}""";
        byte[] data = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0, 0x00, 0x00, 0x00, 0x3F];
        byte[] expected = BuildFile(header, data);
        Assert.Equal(expected, Write(writer));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(expected) % 8);
    }

    [Fact]
    public void ReadsTheReadmeExampleAndUnpaddedHeaders()
    {
        // The example from the safetensors README: I32 [2, 2], metadata after the tensor, header not padded.
        const string header = """{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"foo":"bar"}}""";
        byte[] data = new byte[16];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4 * i), i - 1);
        using var file = Open(BuildFile(header, data, pad: false));
        Assert.Equal(["test"], file.Names);
        Assert.Equal("bar", file.Metadata["foo"]);
        Assert.Equal([-1f, 0f, 1f, 2f], file.ReadSingles("test"));
    }

    public static TheoryData<string, byte[], float[]> DecodingCases() => new()
    {
        // IEEE half: 1, -2, largest normal, smallest subnormal, -0, +inf, nearest to 1/3.
        { "F16", [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00, 0x00, 0x80, 0x00, 0x7C, 0x55, 0x35],
            [1f, -2f, 65504f, MathF.Pow(2, -24), -0f, float.PositiveInfinity, 0.333251953125f] },
        // bfloat16: 1, -5, 3.140625, a float32 subnormal (2^-133), largest finite.
        { "BF16", [0x80, 0x3F, 0xA0, 0xC0, 0x49, 0x40, 0x01, 0x00, 0x7F, 0x7F],
            [1f, -5f, 3.140625f, BitConverter.Int32BitsToSingle(0x10000), BitConverter.Int32BitsToSingle(0x7F7F0000)] },
        { "F64", [.. BitConverter.GetBytes(0.1), .. BitConverter.GetBytes(-1e300)], [0.1f, float.NegativeInfinity] },
        { "I64", [.. BitConverter.GetBytes(-3L), .. BitConverter.GetBytes(1000L)], [-3f, 1000f] },
        { "U8", [0, 7, 255], [0f, 7f, 255f] },
        { "I8", [0x80, 0x7F], [-128f, 127f] },
        { "U16", [0xFF, 0xFF], [65535f] },
        { "BOOL", [0, 1], [0f, 1f] },
    };

    [Theory]
    [MemberData(nameof(DecodingCases))]
    public void DecodesDTypesToKnownFloat32Values(string dtype, byte[] data, float[] expected)
    {
        int size = data.Length / expected.Length;
        string header = $$$"""{"t":{"dtype":"{{{dtype}}}","shape":[{{{expected.Length}}}],"data_offsets":[0,{{{expected.Length * size}}}]}}""";
        using var file = Open(BuildFile(header, data));
        var values = file.ReadSingles("t");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(values[i]), $"{dtype}[{i}]: {values[i]:R}, expected {expected[i]:R}");
    }

    [Fact]
    public void ConvertsLargeHalfTensorsAcrossReadChunks()
    {
        // More than one 64 KiB read chunk, so the chunk loop and its tail are exercised.
        const int count = 50_000;
        var data = new byte[2 * count];
        var expected = new float[count];
        var random = new Random(11);
        for (int i = 0; i < count; i++)
        {
            var half = (Half)(random.NextSingle() * 8 - 4);
            BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2 * i), half);
            expected[i] = (float)half;
        }
        using var file = Open(BuildFile($$$"""{"t":{"dtype":"F16","shape":[250,200],"data_offsets":[0,{{{data.Length}}}]}}""", data));
        Assert.Equal(expected, file.ReadSingles("t"));
    }

    public static TheoryData<string, string, int, string> BadHeaders() => new()
    {
        { "not an object", "[1]", 0, "does not start with '{'" },
        { "two values", "{} {}", 0, "not valid JSON" },
        { "bad json", """{"t":""", 0, "not valid JSON" },
        { "duplicate", """{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "tensor 't': duplicate" },
        { "negative dim", """{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "shape[0] = -1" },
        { "fractional dim", """{"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", 4, "shape[0] = 1.5" },
        { "size mismatch", """{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4, "needs 8 bytes" },
        { "end before begin", """{"t":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}""", 4, "end before they begin" },
        { "past the end", """{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "run past" },
        { "gap", """{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "tensor 't': data_offsets [4, 8] leaves a gap" },
        { "overlap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "overlaps" },
        { "trailing bytes", """{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8, "trailing bytes" },
        { "unknown dtype", """{"t":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}""", 4, "unsupported dtype 'F31'" },
        { "offsets not numbers", """{"t":{"dtype":"F32","shape":[1],"data_offsets":["0",4]}}""", 4, "not non-negative integers" },
        { "negative offset", """{"t":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", 4, "not non-negative integers" },
        { "metadata not strings", """{"__metadata__":{"n":1}}""", 0, "is not a string" },
        { "overflowing shape", """{"t":{"dtype":"F64","shape":[2147483647,2147483647,2147483647,2147483647],"data_offsets":[0,8]}}""", 8, "needs" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void RejectsInconsistentHeadersNamingTheProblem(string what, string header, int dataBytes, string message)
    {
        var error = Assert.Throws<InvalidDataException>(() => Open(BuildFile(header, new byte[dataBytes])).Dispose());
        Assert.Contains(message, error.Message);
        Assert.Contains("byte offset", error.Message);
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void RejectsLyingHeaderLengths()
    {
        byte[] valid = BuildFile("""{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]);
        byte[] tooLong = (byte[])valid.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(tooLong, (ulong)valid.Length);
        Assert.Contains("exceeds the", Assert.Throws<InvalidDataException>(() => Open(tooLong)).Message);
        byte[] huge = (byte[])valid.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        Assert.Contains("exceeds the maximum", Assert.Throws<InvalidDataException>(() => Open(huge)).Message);
        Assert.Contains("fewer than the 8-byte", Assert.Throws<InvalidDataException>(() => Open(valid[..5])).Message);
        byte[] notBrace = BuildFile(""" {"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]);
        Assert.Contains("does not start with '{'", Assert.Throws<InvalidDataException>(() => Open(notBrace)).Message);
        byte[] badUtf8 = BuildFile("{\"\u00e9\":1}", []);
        badUtf8[8 + 2] = 0xFF;
        Assert.Contains("not valid UTF-8", Assert.Throws<InvalidDataException>(() => Open(badUtf8)).Message);
    }

    [Fact]
    public void RefusesToConvertComplexAndEightBitFloats()
    {
        using var file = Open(BuildFile("""{"c":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}""", new byte[8]));
        Assert.Equal("C64", file.GetInfo("c").DType);
        Assert.Contains("tensor 'c': dtype C64 cannot be converted", Assert.Throws<InvalidDataException>(() => file.ReadSingles("c")).Message);
    }

    [Fact]
    public void ReportsAFileTruncatedAfterOpening()
    {
        var writer = new SafeTensorsWriter();
        writer.Add("t", [64], TestData.Uniform(5, 64));
        var stream = new MemoryStream();
        writer.Save(stream);
        using var file = new SafeTensorsFile(stream);
        stream.SetLength(stream.Length - 10);
        Assert.Contains("tensor 't': the file ended", Assert.Throws<InvalidDataException>(() => file.ReadSingles("t")).Message);
    }

    [Fact]
    public void SeededCorruptionOnlyEverRaisesInvalidDataException()
    {
        var writer = new SafeTensorsWriter();
        writer.Metadata["note"] = "fuzz";
        writer.Add("conv/kernel", [3, 3, 2, 5], TestData.Uniform(21, 90));
        writer.Add("conv/bias", [5], TestData.Uniform(22, 5));
        writer.Add("scalar", [], new[] { 1f });
        writer.Add("empty", [0], Array.Empty<float>());
        byte[] valid = Write(writer);

        int rejected = 0, accepted = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int length = 0; length < valid.Length; length++)
            Exercise(valid[..length], $"truncated to {length}");
        var random = new Random(1234);
        for (int round = 0; round < 3000; round++)
        {
            byte[] mutated = (byte[])valid.Clone();
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits; e++)
            {
                // Favour the length field and the header, where the interesting lies are.
                int at = random.Next(3) == 0 ? random.Next(8) : random.Next(Math.Min(mutated.Length, 8 + 400));
                mutated[at] = random.Next(4) switch
                {
                    0 => (byte)random.Next(256),
                    1 => (byte)(mutated[at] ^ (1 << random.Next(8))),
                    2 => (byte)"0123456789-.,[]{}\" e"[random.Next(20)],
                    _ => (byte)(mutated[at] + 1),
                };
            }
            Exercise(mutated, $"round {round}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(rejected > 1000 && accepted > 0, $"rejected {rejected}, accepted {accepted}");
        Assert.True(allocated < 400L << 20, $"the fuzz allocated {allocated >> 20} MiB");

        void Exercise(byte[] bytes, string what)
        {
            try
            {
                using var file = Open(bytes);
                foreach (string name in file.Names)
                {
                    if (file.GetInfo(name).DType is "C64" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0") continue;
                    file.ReadSingles(name);
                }
                accepted++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}");
            }
        }
    }
}
