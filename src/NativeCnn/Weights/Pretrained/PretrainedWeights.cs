using System.Globalization;
using System.Text.RegularExpressions;

namespace NativeCnn.Weights.Pretrained;

/// <summary>
/// Keras's <c>weights="imagenet"</c>: the catalog of the Keras application weight files (the URLs and hashes of
/// <c>keras/src/applications/{resnet,mobilenet_v2,efficientnet}.py</c>) and a verified download cache for them.
/// </summary>
/// <remarks>
/// <para>
/// Files are cached as Keras caches them, by file name, in <c>$NATIVECNN_HOME/models</c> (default
/// <c>~/.nativecnn/models</c>). A download streams into a temporary file in that folder
/// (<c>NAME.RANDOM.partial</c>, deleted when the download fails, and by a later fetch once a day old when a killed
/// process left it), is checked against the published hash, and is then
/// moved into place atomically, so that concurrent fetches of one file by several threads or processes never expose a
/// partial or unverified file (the last to finish replaces the file with identical bytes). A cached file is
/// re-hashed each time it is used; a file whose hash no longer matches is downloaded again.
/// </para>
/// <para>
/// Where Keras publishes no hash (MobileNetV2) the caller's check (loading the file into the model) must pass before
/// the file is kept, and its SHA-256 and size are then recorded next to it in <c>NAME.sha256</c>, against which it is
/// re-verified on use.
/// </para>
/// </remarks>
public static class PretrainedWeights
{
    /// <summary>Keras's <c>resnet.BASE_WEIGHTS_PATH</c>.</summary>
    public const string ResNetBaseUrl = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/";

    /// <summary>Keras's <c>mobilenet_v2.BASE_WEIGHT_PATH</c>.</summary>
    public const string MobileNetV2BaseUrl = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/";

    /// <summary>Keras's <c>efficientnet.BASE_WEIGHTS_PATH</c>.</summary>
    public const string EfficientNetBaseUrl = "https://storage.googleapis.com/keras-applications/";

    /// <summary>The input sizes Keras publishes MobileNetV2 weights for; other sizes load the 224 weights, as in Keras.</summary>
    public static IReadOnlyList<int> MobileNetV2Resolutions { get; } = [96, 128, 160, 192, 224];

    // keras/src/applications/resnet.py WEIGHTS_HASHES (MD5: include_top, notop).
    private static readonly Dictionary<string, (string Top, string NoTop)> s_resNetHashes = new(StringComparer.Ordinal)
    {
        ["resnet50"] = ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
        ["resnet101"] = ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
        ["resnet152"] = ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    };

    // keras/src/applications/efficientnet.py WEIGHTS_HASHES: 32 hex digits, which get_file treats as MD5.
    private static readonly (string Top, string NoTop)[] s_efficientNetHashes =
    [
        ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
        ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
        ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
        ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
        ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
        ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
        ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
        ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
    ];

    /// <summary>
    /// The ImageNet weight file Keras loads for the model named <paramref name="modelName"/> (its Keras model name:
    /// <c>resnet50</c>, <c>resnet101</c>, <c>resnet152</c>, <c>efficientnetb0</c> … <c>efficientnetb7</c>,
    /// <c>mobilenetv2_0.35_96</c>); <paramref name="includeTop"/> false takes the <c>_notop</c> file.
    /// </summary>
    /// <exception cref="ArgumentException">Keras publishes no ImageNet weights for the model (the message names the ones it does).</exception>
    public static PretrainedWeightFile ImageNet(string modelName, bool includeTop = true) =>
        TryGetImageNet(modelName, includeTop, out var file)
            ? file!
            : throw new ArgumentException(
                $"Keras publishes no ImageNet weights for '{modelName}'; it does for resnet50, resnet101, resnet152, efficientnetb0 ... efficientnetb7 and mobilenetv2 at alpha {string.Join(", ", Models.Architectures.ApplicationOptions.MobileNetV2Alphas.Select(a => a.ToString(CultureInfo.InvariantCulture)))}.",
                nameof(modelName));

    /// <summary>As <see cref="ImageNet"/>, returning false instead of throwing.</summary>
    public static bool TryGetImageNet(string modelName, bool includeTop, out PretrainedWeightFile? file)
    {
        ArgumentNullException.ThrowIfNull(modelName);
        file = null;
        string name = modelName.Trim().ToLowerInvariant();
        if (s_resNetHashes.TryGetValue(name, out var resNet))
        {
            // keras/src/applications/resnet.py: f"{weights_name}_weights_tf_dim_ordering_tf_kernels[_notop].h5".
            string fileName = $"{name}_weights_tf_dim_ordering_tf_kernels{(includeTop ? "" : "_notop")}.h5";
            file = new PretrainedWeightFile(ResNetBaseUrl + fileName, includeTop ? resNet.Top : resNet.NoTop, WeightHashAlgorithm.Md5);
            return true;
        }
        var efficientNet = Regex.Match(name, "^efficientnetb([0-7])$");
        if (efficientNet.Success)
        {
            var hashes = s_efficientNetHashes[efficientNet.Groups[1].Value[0] - '0'];
            string fileName = name + (includeTop ? ".h5" : "_notop.h5");
            file = new PretrainedWeightFile(EfficientNetBaseUrl + fileName, includeTop ? hashes.Top : hashes.NoTop, WeightHashAlgorithm.Md5);
            return true;
        }
        var mobileNet = Regex.Match(name, @"^mobilenetv2_(\d+(?:\.\d+)?)_(\d+)$");
        if (mobileNet.Success
            && double.TryParse(mobileNet.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double alpha)
            && int.TryParse(mobileNet.Groups[2].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int rows))
        {
            var published = Models.Architectures.ApplicationOptions.MobileNetV2Alphas.Where(a => Math.Abs(a - alpha) < 1e-9).ToArray();
            if (published.Length == 0) return false;
            // Keras: a size it has no weights for loads the 224 weights (with a warning).
            if (!MobileNetV2Resolutions.Contains(rows)) rows = 224;
            // Python's f"{float(alpha)}": 0.35, 0.5, 0.75, 1.0, 1.3, 1.4.
            string alphaText = published[0].ToString("R", CultureInfo.InvariantCulture);
            if (!alphaText.Contains('.', StringComparison.Ordinal)) alphaText += ".0";
            string fileName = includeTop
                ? $"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alphaText}_{rows}.h5"
                : $"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alphaText}_{rows}_no_top.h5";
            file = new PretrainedWeightFile(MobileNetV2BaseUrl + fileName, null, WeightHashAlgorithm.None);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Where <paramref name="url"/> is fetched from with the mirror <paramref name="mirror"/>
    /// (<see cref="PretrainedWeightsOptions.MirrorUrl"/> or <c>NATIVECNN_WEIGHTS_URL</c>): the URL itself when the mirror is
    /// null or empty. An http(s) mirror replaces the scheme and host (and port) and keeps its own path as a prefix:
    /// with <c>http://127.0.0.1:8123/cache</c>, <c>https://storage.googleapis.com/tensorflow/keras-applications/resnet/x.h5</c>
    /// becomes <c>http://127.0.0.1:8123/cache/tensorflow/keras-applications/resnet/x.h5</c>. A local folder or a
    /// <c>file://</c> URL is a folder mirror: the file is <c>FOLDER/tensorflow/keras-applications/resnet/x.h5</c> or, when
    /// that does not exist, <c>FOLDER/x.h5</c>; the path returned is then a local file path.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="url"/> is not an absolute http(s) URL, or the mirror is neither an http(s) URL nor a folder.</exception>
    public static string MirrorUrl(string url, string? mirror)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var original) || original.Scheme is not ("http" or "https"))
            throw new ArgumentException($"'{url}' is not an absolute http(s) URL.", nameof(url));
        if (string.IsNullOrWhiteSpace(mirror)) return url;
        mirror = mirror.Trim();
        string pathAndQuery = original.PathAndQuery;
        if (Uri.TryCreate(mirror, UriKind.Absolute, out var target) && target.Scheme is "http" or "https")
        {
            if (target.Query.Length > 0 || target.Fragment.Length > 0)
                throw new ArgumentException($"{PretrainedWeightsOptions.MirrorVariable} '{mirror}' must be a scheme, a host and an optional path prefix, without a query.", nameof(mirror));
            return $"{target.Scheme}://{target.Authority}{target.AbsolutePath.TrimEnd('/')}{pathAndQuery}";
        }
        string folder;
        if (Uri.TryCreate(mirror, UriKind.Absolute, out var fileUri) && fileUri.IsFile) folder = fileUri.LocalPath;
        else if (mirror.Contains("://", StringComparison.Ordinal))
            throw new ArgumentException($"{PretrainedWeightsOptions.MirrorVariable} '{mirror}' is neither an http(s) URL, a file:// URL nor a folder.", nameof(mirror));
        else folder = Path.GetFullPath(mirror);
        string relative = Uri.UnescapeDataString(original.AbsolutePath).TrimStart('/').Replace('/', Path.DirectorySeparatorChar);
        string nested = Path.Combine(folder, relative);
        if (File.Exists(nested)) return nested;
        string flat = Path.Combine(folder, Path.GetFileName(relative));
        return File.Exists(flat) ? flat : nested;
    }

    /// <summary>
    /// The cached, verified copy of <paramref name="file"/>, downloaded first when it is missing or no longer matches its
    /// hash; see the class remarks for the cache. <paramref name="validate"/> is called on a downloaded file that has no
    /// published hash before it is kept, and must throw when the file is not the expected weights.
    /// </summary>
    /// <returns>The path of the cached file.</returns>
    /// <exception cref="WeightDownloadException">The download failed or the file does not match its hash; the message names the URL.</exception>
    /// <exception cref="InvalidDataException"><paramref name="validate"/> refused the file; the message names the URL.</exception>
    /// <exception cref="ArgumentException"><paramref name="file"/> or <paramref name="options"/> is invalid.</exception>
    public static string Fetch(PretrainedWeightFile file, PretrainedWeightsOptions? options = null, Action<string>? validate = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        // Off the caller's synchronization context, so that a UI thread calling the synchronous API cannot deadlock.
        return Task.Run(() => FetchAsync(file, options, validate, cancellationToken), cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>As <see cref="Fetch"/>, asynchronously.</summary>
    /// <exception cref="WeightDownloadException">The download failed or the file does not match its hash; the message names the URL.</exception>
    /// <exception cref="InvalidDataException"><paramref name="validate"/> refused the file; the message names the URL.</exception>
    /// <exception cref="ArgumentException"><paramref name="file"/> or <paramref name="options"/> is invalid.</exception>
    public static Task<string> FetchAsync(PretrainedWeightFile file, PretrainedWeightsOptions? options = null, Action<string>? validate = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        options ??= new PretrainedWeightsOptions();
        file.Validate();
        options.Validate();
        return new WeightCache(file, options, validate).FetchAsync(cancellationToken);
    }
}
