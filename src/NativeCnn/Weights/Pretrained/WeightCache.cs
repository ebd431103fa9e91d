using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace NativeCnn.Weights.Pretrained;

/// <summary>One fetch of one <see cref="PretrainedWeightFile"/> into the cache (see <see cref="PretrainedWeights"/>).</summary>
internal sealed class WeightCache
{
    private const int BufferSize = 1 << 16;

    // One client for the process, as HttpClient is meant to be used; timeouts are per request and per read instead of
    // HttpClient.Timeout, which would bound a whole multi-hundred-megabyte transfer.
    private static readonly HttpClient s_client = CreateClient();

    private readonly PretrainedWeightFile _file;
    private readonly PretrainedWeightsOptions _options;
    private readonly Action<string>? _validate;
    private readonly string _source;
    private readonly string _directory;
    private readonly string _finalPath;
    private readonly long _limit;

    public WeightCache(PretrainedWeightFile file, PretrainedWeightsOptions options, Action<string>? validate)
    {
        _file = file;
        _options = options;
        _validate = validate;
        _source = PretrainedWeights.MirrorUrl(file.Url, options.ResolveMirrorUrl());
        _directory = Path.GetFullPath(options.ResolveCacheDirectory());
        _finalPath = Path.Combine(_directory, file.FileName);
        _limit = file.Size ?? options.MaximumSize;
    }

    private bool IsHttp => _source.StartsWith("http://", StringComparison.Ordinal) || _source.StartsWith("https://", StringComparison.Ordinal);

    private string RecordPath => _finalPath + ".sha256";

    public async Task<string> FetchAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_directory);
        if (IsCachedCopyValid()) return _finalPath;
        DeleteStaleTemporaryFiles();
        // A name of its own per download: concurrent fetches never write to one file.
        string temp = Path.Combine(_directory, $"{_file.FileName}.{Guid.NewGuid():N}.partial");
        try
        {
            if (IsHttp) await DownloadAsync(temp, cancellationToken).ConfigureAwait(false);
            else await CopyFromFolderAsync(temp, cancellationToken).ConfigureAwait(false);
            Verify(temp);
            Publish(temp);
            return _finalPath;
        }
        finally
        {
            TryDelete(temp);
            TryDelete(temp + ".sha256");
        }
    }

    /// <summary>Whether the cached file exists and still has its published hash, or the hash recorded when it was kept.</summary>
    private bool IsCachedCopyValid()
    {
        try
        {
            if (!File.Exists(_finalPath)) return false;
            long length = new FileInfo(_finalPath).Length;
            if (_file.Size is { } size && length != size) return false;
            if (_file.Algorithm != WeightHashAlgorithm.None) return string.Equals(Hash(_finalPath, _file.Algorithm), _file.Hash, StringComparison.OrdinalIgnoreCase);
            if (!File.Exists(RecordPath)) return false;
            string[] record = File.ReadAllText(RecordPath).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return record.Length == 2
                && long.TryParse(record[1], NumberStyles.None, CultureInfo.InvariantCulture, out long recorded) && recorded == length
                && string.Equals(Hash(_finalPath, WeightHashAlgorithm.Sha256), record[0], StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable (or replaced while read): fetch it again.
            return false;
        }
    }

    private async Task DownloadAsync(string temp, CancellationToken cancellationToken)
    {
        string lastError = "";
        long? total = null;
        for (int attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            long have = File.Exists(temp) ? new FileInfo(temp).Length : 0;
            using var request = new HttpRequestMessage(HttpMethod.Get, _source);
            if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
            using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
            bool append;
            var headers = response.Content.Headers;
            if (response.StatusCode == HttpStatusCode.PartialContent && have > 0 && headers.ContentRange is { From: { } from } range && from == have)
            {
                append = true;
                total = range.Length ?? (headers.ContentLength is { } rest ? have + rest : null);
            }
            else if (response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.PartialContent)
            {
                // A server that ignores Range sends the whole file again: start over.
                append = false;
                have = 0;
                total = headers.ContentLength;
            }
            else if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            {
                File.Delete(temp);
                lastError = "the server refused to resume";
                continue;
            }
            else
            {
                throw Fail($"HTTP {(int)response.StatusCode} {response.ReasonPhrase} from {_source}");
            }
            CheckSize(total);

            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using var output = new FileStream(temp, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
                have = await CopyAsync(body, output, have, total, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (e is not WeightDownloadException)
            {
                // The connection dropped mid-body (HttpClient reports a Content-Length not reached this way): resume.
                lastError = e.Message;
                continue;
            }
            if (total is { } expected && have != expected)
            {
                if (have > expected) throw Fail($"{_source} sent {have} bytes, more than the {expected} it announced");
                lastError = $"the transfer ended after {have} of {expected} bytes";
                continue;
            }
            return;
        }
        throw Fail($"download of {_source} was cut short {_options.MaxAttempts} time(s) ({lastError}); nothing was kept");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            return await s_client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Fail($"cannot fetch {_source}: {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Fail($"no response from {_source} within {_options.Timeout.TotalSeconds:0.#} s", e);
        }
    }

    private async Task CopyFromFolderAsync(string temp, CancellationToken cancellationToken)
    {
        if (!File.Exists(_source)) throw Fail($"{_file.Url}: not in the mirror folder (no file {_source})");
        await using var input = new FileStream(_source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        long length = input.Length;
        CheckSize(length);
        await using var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        await CopyAsync(input, output, 0, length, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Streams <paramref name="input"/> to disk with a timeout on each read and the size cap; returns the file's length.</summary>
    private async Task<long> CopyAsync(Stream input, Stream output, long have, long? total, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[BufferSize];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _options.Progress?.Report(new WeightDownloadProgress(_source, have, total ?? _file.Size));
        while (true)
        {
            timeout.CancelAfter(_options.Timeout);
            int read;
            try
            {
                read = await input.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw Fail($"{_source} sent nothing for {_options.Timeout.TotalSeconds:0.#} s after {have} bytes", e);
            }
            if (read == 0) return have;
            have += read;
            if (have > _limit) throw Fail($"{_source} is larger than the {_limit}-byte limit; nothing was kept");
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            _options.Progress?.Report(new WeightDownloadProgress(_source, have, total ?? _file.Size));
        }
    }

    private void CheckSize(long? total)
    {
        if (total is not { } length) return;
        if (_file.Size is { } size && length != size) throw Fail($"{_source} is {length} bytes, expected {size}; nothing was kept");
        if (length > _limit) throw Fail($"{_source} is {length} bytes, larger than the {_limit}-byte limit; nothing was kept");
    }

    /// <summary>Checks the downloaded file against its hash, or, without one, with the caller's check, recording its SHA-256.</summary>
    private void Verify(string temp)
    {
        long length = new FileInfo(temp).Length;
        if (_file.Size is { } size && length != size) throw Fail($"{_source} is {length} bytes, expected {size}; nothing was kept");
        if (_file.Algorithm != WeightHashAlgorithm.None)
        {
            string actual = Hash(temp, _file.Algorithm);
            if (!string.Equals(actual, _file.Hash, StringComparison.OrdinalIgnoreCase))
                throw Fail($"{_source}: hash mismatch: expected {_file.Algorithm} {_file.Hash!.ToLowerInvariant()}, got {actual} ({length} bytes); the file was not kept");
            return;
        }
        try
        {
            _validate?.Invoke(temp);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{_source}: the downloaded file is not the expected weights (no hash is published for it, so it must load before it is kept; it was not kept): {e.Message}", e);
        }
        // Recorded before the file is moved into place, so that a kept file always has its record.
        string record = temp + ".sha256";
        File.WriteAllText(record, $"{Hash(temp, WeightHashAlgorithm.Sha256)} {length.ToString(CultureInfo.InvariantCulture)}\n");
        File.Move(record, RecordPath, overwrite: true);
    }

    /// <summary>Moves the verified file into place; another fetch that won the race with a valid file is as good.</summary>
    private void Publish(string temp)
    {
        try
        {
            File.Move(temp, _finalPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Windows refuses to replace a file another process has open: that file is the other fetch's, verified.
            if (!IsCachedCopyValid()) throw;
        }
    }

    private static string Hash(string path, WeightHashAlgorithm algorithm)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize);
        byte[] digest = algorithm == WeightHashAlgorithm.Md5 ? MD5.HashData(stream) : SHA256.HashData(stream);
        return Convert.ToHexStringLower(digest);
    }

    private WeightDownloadException Fail(string message, Exception? inner = null) => new(_source, message, inner);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover NAME.RANDOM.partial is never read as a cached file.
        }
    }

    /// <summary>
    /// Deletes this file's temporary files that a killed process left, once they are a day old: a live download
    /// writes to its own at least every <see cref="PretrainedWeightsOptions.Timeout"/>.
    /// </summary>
    private void DeleteStaleTemporaryFiles()
    {
        try
        {
            foreach (string path in Directory.EnumerateFiles(_directory, _file.FileName + ".*.partial"))
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > TimeSpan.FromDays(1)) TryDelete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort, as TryDelete.
        }
    }

    private static HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxAutomaticRedirections = 5,
        };
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("NativeCnn", "0.1"));
        return client;
    }
}
