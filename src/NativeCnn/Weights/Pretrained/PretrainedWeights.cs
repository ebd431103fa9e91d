using System.Globalization;
using System.Text.RegularExpressions;

namespace NativeCnn.Weights.Pretrained;

/// <summary>
/// Keras's <c>weights="imagenet"</c>: the catalog of the Keras application weight files (the URLs and hashes of
/// <c>keras/src/applications/{resnet,resnet_v2,mobilenet,mobilenet_v2,mobilenet_v3,efficientnet,efficientnet_v2}.py</c>)
/// and a verified download cache for them.
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
/// Where Keras publishes no hash (MobileNet, MobileNetV2) the caller's check (loading the file into the model) must pass before
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

    /// <summary>Keras's <c>mobilenet.BASE_WEIGHT_PATH</c>.</summary>
    public const string MobileNetBaseUrl = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/";

    /// <summary>Keras's <c>mobilenet_v3.BASE_WEIGHT_PATH</c>.</summary>
    public const string MobileNetV3BaseUrl = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/";

    /// <summary>Keras's <c>efficientnet_v2.BASE_WEIGHTS_PATH</c>.</summary>
    public const string EfficientNetV2BaseUrl = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/";

    /// <summary>The input sizes Keras publishes MobileNet (v1) weights for; other sizes load the 224 weights, as in Keras.</summary>
    public static IReadOnlyList<int> MobileNetResolutions { get; } = [128, 160, 192, 224];

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
        ["resnet50v2"] = ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
        ["resnet101v2"] = ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
        ["resnet152v2"] = ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
    };

    // keras/src/applications/efficientnet_v2.py WEIGHTS_HASHES (MD5: include_top, notop), by the suffix of the model name.
    private static readonly Dictionary<string, (string Top, string NoTop)> s_efficientNetV2Hashes = new(StringComparer.Ordinal)
    {
        ["b0"] = ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
        ["b1"] = ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
        ["b2"] = ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
        ["b3"] = ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
        ["s"] = ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
        ["m"] = ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
        ["l"] = ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
    };

    // keras/src/applications/mobilenet_v3.py WEIGHTS_HASHES (MD5: include_top, notop), keyed as Keras keys them.
    private static readonly Dictionary<string, (string Top, string NoTop)> s_mobileNetV3Hashes = new(StringComparer.Ordinal)
    {
        ["large_224_0.75_float"] = ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
        ["large_224_1.0_float"] = ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
        ["large_minimalistic_224_1.0_float"] = ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
        ["small_224_0.75_float"] = ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
        ["small_224_1.0_float"] = ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
        ["small_minimalistic_224_1.0_float"] = ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
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
    /// <c>resnet50</c> … <c>resnet152v2</c>, <c>efficientnetb0</c> … <c>efficientnetb7</c>, <c>efficientnetv2-b0</c> …
    /// <c>efficientnetv2-l</c>, <c>mobilenet_0.25_128</c>, <c>mobilenetv2_0.35_96</c>; for MobileNetV3, whose Keras model name
    /// does not say its width, Keras's weights key <c>small_224_0.75_float</c>, <c>large_minimalistic_224_1.0_float</c>, …);
    /// <paramref name="includeTop"/> false takes the <c>_notop</c> file.
    /// </summary>
    /// <exception cref="ArgumentException">Keras publishes no ImageNet weights for the model (the message names the ones it does).</exception>
    public static PretrainedWeightFile ImageNet(string modelName, bool includeTop = true) =>
        TryGetImageNet(modelName, includeTop, out var file)
            ? file!
            : throw new ArgumentException(
                $"Keras publishes no ImageNet weights for '{modelName}'; it does for resnet50, resnet101, resnet152 and their v2, efficientnetb0 ... efficientnetb7, efficientnetv2-b0 ... efficientnetv2-l, mobilenet at alpha 0.25, 0.5, 0.75, 1.0 (depth multiplier 1), mobilenetv2 at alpha {string.Join(", ", Models.Architectures.ApplicationOptions.MobileNetV2Alphas.Select(a => a.ToString(CultureInfo.InvariantCulture)))} and mobilenetv3small/large at alpha 0.75 and 1.0 (minimalistic at 1.0).",
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
        var efficientNetV2 = Regex.Match(name, "^efficientnetv2-(b[0-3]|s|m|l)$");
        if (efficientNetV2.Success)
        {
            var hashes = s_efficientNetV2Hashes[efficientNetV2.Groups[1].Value];
            string fileName = name + (includeTop ? ".h5" : "_notop.h5");
            file = new PretrainedWeightFile(EfficientNetV2BaseUrl + fileName, includeTop ? hashes.Top : hashes.NoTop, WeightHashAlgorithm.Md5);
            return true;
        }
        if (s_mobileNetV3Hashes.TryGetValue(name, out var mobileNetV3))
        {
            string fileName = includeTop ? $"weights_mobilenet_v3_{name}.h5" : $"weights_mobilenet_v3_{name}_no_top_v2.h5";
            file = new PretrainedWeightFile(MobileNetV3BaseUrl + fileName, includeTop ? mobileNetV3.Top : mobileNetV3.NoTop, WeightHashAlgorithm.Md5);
            return true;
        }
        var mobileNetV1 = Regex.Match(name, @"^mobilenet_(\d+(?:\.\d+)?)_(\d+)$");
        if (mobileNetV1.Success
            && double.TryParse(mobileNetV1.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double width)
            && int.TryParse(mobileNetV1.Groups[2].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int size))
        {
            // mobilenet.py: alpha_text "1_0", "7_5", "5_0", else "2_5"; a size without weights loads the 224 ones.
            string? alphaText = width switch { 1.0 => "1_0", 0.75 => "7_5", 0.5 => "5_0", 0.25 => "2_5", _ => null };
            if (alphaText is null) return false;
            if (!MobileNetResolutions.Contains(size)) size = 224;
            string fileName = includeTop ? $"mobilenet_{alphaText}_{size}_tf.h5" : $"mobilenet_{alphaText}_{size}_tf_no_top.h5";
            file = new PretrainedWeightFile(MobileNetBaseUrl + fileName, null, WeightHashAlgorithm.None);
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
