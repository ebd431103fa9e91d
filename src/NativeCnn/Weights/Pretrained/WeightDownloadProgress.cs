namespace NativeCnn.Weights.Pretrained;

/// <summary>How far a weight download is, reported through <see cref="PretrainedWeightsOptions.Progress"/>.</summary>
/// <param name="Url">The URL being fetched (after <see cref="PretrainedWeightsOptions.MirrorUrl"/> rewriting).</param>
/// <param name="BytesReceived">Bytes of the file on disk so far, including a resumed part.</param>
/// <param name="TotalBytes">The file's size when the server or the catalog says it, otherwise <c>null</c>.</param>
public readonly record struct WeightDownloadProgress(string Url, long BytesReceived, long? TotalBytes);
