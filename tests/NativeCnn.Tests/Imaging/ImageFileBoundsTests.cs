using NativeCnn.Imaging;

namespace NativeCnn.Tests.Imaging;

/// <summary>Reading an image by path is bounded and its errors name the path (issue 11): devices, huge and sparse files.</summary>
public sealed class ImageFileBoundsTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-image-bounds-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void ALinkToAnEndlessDeviceIsRefusedWithoutReadingIt()
    {
        string path = Path.Combine(_work, "cat.png");
        File.CreateSymbolicLink(path, "/dev/zero");
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var error = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path));
        Assert.StartsWith(path + ":", error.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 8 << 20, "the device was read");
    }

    [Fact]
    public void AFileLargerThanTheLimitIsRefusedBeforeItIsRead()
    {
        string path = Path.Combine(_work, "huge.png");
        using (var file = File.Create(path))
        {
            file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
            file.SetLength(ImageDecoder.MaxFileBytes + 1); // sparse: costs no disk
        }
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var error = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path));
        Assert.Contains($"{path}: {ImageDecoder.MaxFileBytes + 1} bytes is more than the {ImageDecoder.MaxFileBytes}", error.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 8 << 20, "the file was read");
    }

    [Fact]
    public void DecoderErrorsFromAFileStartWithItsPath()
    {
        string png = Path.Combine(_work, "broken.png");
        File.WriteAllBytes(png, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]);
        Assert.StartsWith(png + ": PNG", Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(png)).Message);

        string unknown = Path.Combine(_work, "layers.xcf");
        File.WriteAllBytes(unknown, "gimp xcf v011"u8.ToArray());
        Assert.StartsWith(unknown + ": Unknown image format", Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(unknown)).Message);

        string gif = Path.Combine(_work, "anim.gif");
        File.WriteAllBytes(gif, "GIF89a"u8.ToArray());
        Assert.StartsWith(gif + ": GIF images are not supported", Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode(gif)).Message);

        string pbm = Path.Combine(_work, "bits.pbm");
        File.WriteAllBytes(pbm, "P4 1 1\n\0"u8.ToArray());
        Assert.StartsWith(pbm + ":", Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode(pbm)).Message);

        Assert.Throws<FileNotFoundException>(() => ImageDecoder.Decode(Path.Combine(_work, "missing.png")));
    }
}
