using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NativeCnn.Tests.Weights.Pretrained;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 (an ephemeral port) for the download tests: it serves byte arrays by path and
/// can answer with an error status, cut a transfer short of its Content-Length, ignore Range, or stall; one request
/// per connection (<c>Connection: close</c>).
/// </summary>
internal sealed class TestWeightServer : IDisposable
{
    /// <summary>How a path is answered.</summary>
    /// <param name="Body">The file.</param>
    /// <param name="Status">The status of a non-file answer (404, 500); 200 serves <paramref name="Body"/>.</param>
    /// <param name="CutAt">Close the connection once this many bytes of the file have been sent (Content-Length stays the full size).</param>
    /// <param name="CutTimes">How many requests are cut at <paramref name="CutAt"/>; later ones complete.</param>
    /// <param name="HonorRange">Whether <c>Range: bytes=N-</c> gets a 206; otherwise the whole file with 200.</param>
    /// <param name="Stall">Send the headers, then nothing.</param>
    /// <param name="NoLength">Send no Content-Length: the body ends when the connection closes.</param>
    public sealed record Route(byte[] Body, int Status = 200, long? CutAt = null, int CutTimes = int.MaxValue, bool HonorRange = true, bool Stall = false, bool NoLength = false);

    /// <summary>One request the server received.</summary>
    public sealed record Request(string Path, string? Range);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Route> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public TestWeightServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptAsync);
    }

    /// <summary>The port listened on.</summary>
    public int Port { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Every request so far, in arrival order.</summary>
    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>Serves <paramref name="route"/> at <paramref name="path"/> (starting with '/').</summary>
    public void Serve(string path, Route route) => _routes[path] = route;

    /// <summary>The requests for one path.</summary>
    public Request[] RequestsFor(string path) => [.. Requests.Where(r => r.Path == path)];

    /// <summary>A port nothing listens on: one the system just handed out and took back.</summary>
    public static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The accept loop ends with the listener.
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                string head = await ReadHeadAsync(stream);
                string[] lines = head.Split("\r\n");
                string path = lines[0].Split(' ')[1];
                string? range = lines.Skip(1).Where(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase)).Select(l => l[6..].Trim()).FirstOrDefault();
                Requests.Enqueue(new Request(path, range));
                int count = _counts.AddOrUpdate(path, 1, (_, c) => c + 1);
                if (!_routes.TryGetValue(path, out var route)) route = new Route([], 404);
                if (route.Status != 200)
                {
                    byte[] text = Encoding.ASCII.GetBytes($"status {route.Status}\n");
                    await WriteHeadAsync(stream, $"{route.Status} {(route.Status == 404 ? "Not Found" : "Error")}", text.Length, null);
                    await stream.WriteAsync(text);
                    return;
                }
                long offset = 0;
                if (route.HonorRange && range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
                    offset = long.Parse(range[6..^1], System.Globalization.CultureInfo.InvariantCulture);
                long length = route.Body.Length;
                if (offset >= length && offset > 0)
                {
                    await WriteHeadAsync(stream, "416 Range Not Satisfiable", 0, $"bytes */{length}");
                    return;
                }
                await WriteHeadAsync(stream, offset > 0 ? "206 Partial Content" : "200 OK", route.NoLength ? null : length - offset,
                                     offset > 0 ? $"bytes {offset}-{length - 1}/{length}" : null);
                if (route.Stall)
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), _stop.Token);
                    return;
                }
                long end = route.CutAt is { } cut && count <= route.CutTimes ? Math.Max(cut, offset) : length;
                await stream.WriteAsync(route.Body.AsMemory((int)offset, (int)(end - offset)));
                await stream.FlushAsync();
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away.
            }
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        byte[] one = new byte[1];
        while (head.Count < 16384)
        {
            if (await stream.ReadAsync(one) == 0) break;
            head.Add(one[0]);
            if (head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n') break;
        }
        return Encoding.ASCII.GetString([.. head]);
    }

    private static async Task WriteHeadAsync(NetworkStream stream, string status, long? contentLength, string? contentRange)
    {
        var text = new StringBuilder($"HTTP/1.1 {status}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n");
        if (contentLength is not null) text.Append($"Content-Length: {contentLength}\r\n");
        if (contentRange is not null) text.Append($"Content-Range: {contentRange}\r\n");
        text.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()));
    }
}
