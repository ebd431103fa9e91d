using System.Security.Cryptography;
using NativeCnn.Weights.Pretrained;

namespace NativeCnn.Tests.Weights.Pretrained;

/// <summary>
/// The download cache of <see cref="PretrainedWeights"/> against a local HTTP server: verification, resume, every way a
/// transfer fails (each names the URL and leaves nothing in the cache), the mirror rewriting and concurrent fetches.
/// </summary>
public sealed class PretrainedWeightsDownloadTests : IDisposable
{
    private const string KerasPath = "/tensorflow/keras-applications/test/";
    private readonly TestWeightServer _server = new();
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-pretrained").FullName;
    private readonly byte[] _body = Body(300_000, 20261202);

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private string Cache => Path.Combine(_work, "cache");

    private PretrainedWeightsOptions Options(List<WeightDownloadProgress>? progress = null) => new()
    {
        CacheDirectory = Cache,
        MirrorUrl = _server.BaseUrl,
        Timeout = TimeSpan.FromSeconds(20),
        Progress = progress is null ? null : new SynchronousProgress(progress),
    };

    private static byte[] Body(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    /// <summary>A file served at <c>KerasPath + name</c>, as the catalog would name it (the mirror rewrites the host).</summary>
    private PretrainedWeightFile Serve(string name, TestWeightServer.Route route, string? hash = null, WeightHashAlgorithm algorithm = WeightHashAlgorithm.Md5)
    {
        _server.Serve(KerasPath + name, route);
        return new PretrainedWeightFile($"https://storage.googleapis.com{KerasPath}{name}", algorithm == WeightHashAlgorithm.None ? null : hash ?? Md5(route.Body), algorithm);
    }

    private string[] CachedFiles() => Directory.Exists(Cache) ? Directory.GetFiles(Cache) : [];

    private string Url(string name) => $"{_server.BaseUrl}{KerasPath}{name}";

    [Fact]
    public void AGoodFileIsDownloadedVerifiedCachedAndReverifiedOnUse()
    {
        var file = Serve("good.h5", new(_body));
        var progress = new List<WeightDownloadProgress>();
        string path = PretrainedWeights.Fetch(file, Options(progress));
        Assert.Equal(Path.Combine(Cache, "good.h5"), path);
        Assert.Equal(_body, File.ReadAllBytes(path));
        Assert.Equal([path], CachedFiles());
        Assert.Equal(_body.Length, progress[^1].BytesReceived);
        Assert.Equal(_body.Length, progress[^1].TotalBytes);
        Assert.Equal(Url("good.h5"), progress[^1].Url);

        // Used again: the cached copy, re-hashed, no request.
        Assert.Equal(path, PretrainedWeights.Fetch(file, Options()));
        Assert.Single(_server.RequestsFor(KerasPath + "good.h5"));
    }

    [Fact]
    public void ASha256HashIsCheckedToo()
    {
        var file = Serve("sha.h5", new(_body), Convert.ToHexString(SHA256.HashData(_body)), WeightHashAlgorithm.Sha256);
        Assert.Equal(_body, File.ReadAllBytes(PretrainedWeights.Fetch(file, Options())));
    }

    [Fact]
    public void AHashMismatchNamesTheUrlAndBothHashesAndKeepsNothing()
    {
        string expected = Md5(Body(10, 1));
        var file = Serve("corrupt.h5", new(_body), expected);
        var e = Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(file, Options()));
        Assert.Contains(Url("corrupt.h5"), e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains(Md5(_body), e.Message);
        Assert.Equal(Url("corrupt.h5"), e.Url);
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void ATruncatedTransferNamesTheUrlAndKeepsNothing()
    {
        var file = Serve("truncated.h5", new(_body, CutAt: 100_000));
        var e = Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(file, Options() with { MaxAttempts = 2 }));
        Assert.Contains(Url("truncated.h5"), e.Message);
        Assert.Contains("cut short", e.Message);
        Assert.Empty(CachedFiles());
        // The second attempt asked for the rest.
        Assert.Equal([null, "bytes=100000-"], _server.RequestsFor(KerasPath + "truncated.h5").Select(r => r.Range));
    }

    [Fact]
    public void AnInterruptedTransferResumesWithRange()
    {
        var file = Serve("resume.h5", new(_body, CutAt: 123_456, CutTimes: 1));
        string path = PretrainedWeights.Fetch(file, Options());
        Assert.Equal(_body, File.ReadAllBytes(path));
        Assert.Equal([null, "bytes=123456-"], _server.RequestsFor(KerasPath + "resume.h5").Select(r => r.Range));
        Assert.Equal([path], CachedFiles());
    }

    [Fact]
    public void AServerIgnoringRangeRestartsTheTransferCleanly()
    {
        var file = Serve("norange.h5", new(_body, CutAt: 50_000, CutTimes: 1, HonorRange: false));
        Assert.Equal(_body, File.ReadAllBytes(PretrainedWeights.Fetch(file, Options())));
        Assert.Equal(2, _server.RequestsFor(KerasPath + "norange.h5").Length);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(500)]
    public void AnHttpErrorNamesTheStatusAndTheUrl(int status)
    {
        var file = Serve($"status{status}.h5", new([], status), Md5(_body));
        var e = Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(file, Options()));
        Assert.Contains($"HTTP {status}", e.Message);
        Assert.Contains(Url($"status{status}.h5"), e.Message);
        Assert.Single(_server.RequestsFor(KerasPath + $"status{status}.h5"));
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void AnUnreachableHostNamesTheUrl()
    {
        int port = TestWeightServer.ClosedPort();
        var file = new PretrainedWeightFile("https://storage.googleapis.com/tensorflow/keras-applications/resnet/x.h5", Md5(_body), WeightHashAlgorithm.Md5);
        var e = Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(file, Options() with { MirrorUrl = $"http://127.0.0.1:{port}" }));
        Assert.Contains($"http://127.0.0.1:{port}/tensorflow/keras-applications/resnet/x.h5", e.Message);
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void AStalledServerTimesOut()
    {
        var file = Serve("stall.h5", new(_body, Stall: true));
        var e = Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(file, Options() with { Timeout = TimeSpan.FromSeconds(1) }));
        Assert.Contains(Url("stall.h5"), e.Message);
        Assert.Contains("sent nothing for 1 s", e.Message);
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void AFileOverTheSizeLimitIsRefusedBeforeItIsRead()
    {
        var file = Serve("big.h5", new(_body));
        var e = Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(file, Options() with { MaximumSize = 1000 }));
        Assert.Contains("1000-byte limit", e.Message);
        Assert.Contains(Url("big.h5"), e.Message);
        Assert.Empty(CachedFiles());

        var sized = file with { Size = _body.Length - 1 };
        Assert.Contains($"expected {_body.Length - 1}", Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(sized, Options())).Message);
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void WithoutAContentLengthTheSizeLimitStopsTheStreamAndTheHashCatchesATruncation()
    {
        var file = Serve("nolength.h5", new(_body, NoLength: true));
        var e = Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(file, Options() with { MaximumSize = 100_000 }));
        Assert.Contains("100000-byte limit", e.Message);
        Assert.Empty(CachedFiles());
        Assert.Equal(_body, File.ReadAllBytes(PretrainedWeights.Fetch(file, Options())));

        // Closed early without a length to check against: the hash says so.
        var cut = Serve("nolength-cut.h5", new(_body, CutAt: 1000, NoLength: true));
        Assert.Contains("hash mismatch", Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(cut, Options())).Message);
        Assert.Single(CachedFiles());
    }

    [Fact]
    public void DayOldTemporaryFilesOfKilledDownloadsAreDeleted()
    {
        var file = Serve("stale.h5", new(_body));
        Directory.CreateDirectory(Cache);
        string stale = Path.Combine(Cache, "stale.h5.dead.partial"), fresh = Path.Combine(Cache, "stale.h5.live.partial");
        File.WriteAllBytes(stale, [1]);
        File.WriteAllBytes(fresh, [2]);
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddDays(-2));
        PretrainedWeights.Fetch(file, Options());
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh));
    }

    [Fact]
    public void ACorruptCachedFileIsDownloadedAgain()
    {
        var file = Serve("recover.h5", new(_body));
        string path = PretrainedWeights.Fetch(file, Options());
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal(path, PretrainedWeights.Fetch(file, Options()));
        Assert.Equal(_body, File.ReadAllBytes(path));
        Assert.Equal(2, _server.RequestsFor(KerasPath + "recover.h5").Length);
    }

    [Fact]
    public void AFileWithoutAHashIsKeptOnlyWhenItValidatesAndThenByItsRecordedHash()
    {
        var file = Serve("nohash.h5", new(_body), algorithm: WeightHashAlgorithm.None);
        var e = Assert.Throws<InvalidDataException>(() => PretrainedWeights.Fetch(file, Options(), _ => throw new InvalidDataException("not the weights")));
        Assert.Contains(Url("nohash.h5"), e.Message);
        Assert.Contains("not the weights", e.Message);
        Assert.Empty(CachedFiles());

        string? validated = null;
        string path = PretrainedWeights.Fetch(file, Options(), temp => validated = File.Exists(temp) ? temp : null);
        Assert.NotNull(validated);
        Assert.NotEqual(path, validated);
        Assert.Equal(_body, File.ReadAllBytes(path));
        Assert.Equal([path, path + ".sha256"], CachedFiles().Order());
        Assert.StartsWith(Convert.ToHexStringLower(SHA256.HashData(_body)) + " " + _body.Length, File.ReadAllText(path + ".sha256"));

        // Reused by its recorded hash without validating again; corrupted, it is fetched again.
        PretrainedWeights.Fetch(file, Options(), _ => Assert.Fail("validated a cached file"));
        File.WriteAllBytes(path, [.. _body.Take(1000)]);
        bool again = false;
        PretrainedWeights.Fetch(file, Options(), _ => again = true);
        Assert.True(again);
        Assert.Equal(_body, File.ReadAllBytes(path));
    }

    [Fact]
    public void ConcurrentFetchesOfOneFileLeaveOneGoodCopy()
    {
        var file = Serve("shared.h5", new(_body));
        var paths = new string[6];
        Parallel.For(0, paths.Length, new ParallelOptions { MaxDegreeOfParallelism = paths.Length }, i =>
        {
            paths[i] = PretrainedWeights.Fetch(file, Options());
            Assert.Equal(_body, File.ReadAllBytes(paths[i]));
        });
        Assert.All(paths, p => Assert.Equal(Path.Combine(Cache, "shared.h5"), p));
        Assert.Equal([paths[0]], CachedFiles());
    }

    [Theory]
    [InlineData("http://127.0.0.1:8123", "http://127.0.0.1:8123/tensorflow/keras-applications/resnet/x.h5")]
    [InlineData("http://127.0.0.1:8123/", "http://127.0.0.1:8123/tensorflow/keras-applications/resnet/x.h5")]
    [InlineData("https://mirror.example:9/cache/keras", "https://mirror.example:9/cache/keras/tensorflow/keras-applications/resnet/x.h5")]
    [InlineData("", "https://storage.googleapis.com/tensorflow/keras-applications/resnet/x.h5")]
    public void TheMirrorReplacesSchemeAndHostAndKeepsItsPathAsAPrefix(string mirror, string expected) =>
        Assert.Equal(expected, PretrainedWeights.MirrorUrl("https://storage.googleapis.com/tensorflow/keras-applications/resnet/x.h5", mirror));

    [Fact]
    public void AFolderMirrorIsReadByTheUrlPathOrByTheFileName()
    {
        string folder = Path.Combine(_work, "mirror");
        string nested = Path.Combine(folder, "tensorflow", "keras-applications", "test", "nested.h5");
        Directory.CreateDirectory(Path.GetDirectoryName(nested)!);
        File.WriteAllBytes(nested, _body);
        File.WriteAllBytes(Path.Combine(folder, "flat.h5"), _body);
        var nestedFile = new PretrainedWeightFile($"https://storage.googleapis.com{KerasPath}nested.h5", Md5(_body), WeightHashAlgorithm.Md5);
        var flatFile = nestedFile with { Url = $"https://storage.googleapis.com{KerasPath}flat.h5" };

        Assert.Equal(nested, PretrainedWeights.MirrorUrl(nestedFile.Url, folder));
        Assert.Equal(_body, File.ReadAllBytes(PretrainedWeights.Fetch(nestedFile, Options() with { MirrorUrl = folder })));
        Assert.Equal(_body, File.ReadAllBytes(PretrainedWeights.Fetch(flatFile, Options() with { MirrorUrl = new Uri(folder).AbsoluteUri })));

        var missing = nestedFile with { Url = $"https://storage.googleapis.com{KerasPath}missing.h5" };
        var e = Assert.Throws<WeightDownloadException>(() => PretrainedWeights.Fetch(missing, Options() with { MirrorUrl = folder }));
        Assert.Contains(missing.Url, e.Message);
        Assert.Contains(folder, e.Message);
        Assert.Equal(2, CachedFiles().Length);
    }

    [Fact]
    public void BadRecordsAndOptionsAreRefusedBeforeAnyRequest()
    {
        Assert.Throws<ArgumentException>(() => PretrainedWeights.Fetch(new PretrainedWeightFile("ftp://x/y.h5", null, WeightHashAlgorithm.None), Options()));
        Assert.Throws<ArgumentException>(() => PretrainedWeights.Fetch(new PretrainedWeightFile("https://x/", null, WeightHashAlgorithm.None), Options()));
        Assert.Throws<ArgumentException>(() => PretrainedWeights.Fetch(new PretrainedWeightFile("https://x/y.h5", "abc", WeightHashAlgorithm.Md5), Options()));
        Assert.Throws<ArgumentException>(() => PretrainedWeights.Fetch(new PretrainedWeightFile("https://x/y.h5", Md5(_body), WeightHashAlgorithm.Md5), Options() with { MaxAttempts = 0 }));
        Assert.Throws<ArgumentException>(() => PretrainedWeights.Fetch(new PretrainedWeightFile("https://x/y.h5", Md5(_body), WeightHashAlgorithm.Md5), Options() with { MirrorUrl = "ftp://mirror" }));
        Assert.Empty(_server.Requests);
    }

    /// <summary>An <see cref="IProgress{T}"/> that records on the reporting thread (<see cref="Progress{T}"/> posts to the pool).</summary>
    private sealed class SynchronousProgress(List<WeightDownloadProgress> reports) : IProgress<WeightDownloadProgress>
    {
        public void Report(WeightDownloadProgress value)
        {
            lock (reports) reports.Add(value);
        }
    }
}
