using System.Text.Json;
using NativeCnn.Backends;

namespace NativeCnn.Layers.Config;

/// <summary>
/// Typed, validated access to one layer's Keras config arguments (the <c>config</c> object of <c>get_config</c>), as a
/// <see cref="KerasLayerEntry"/> reads them. Every accessor checks the value's kind and range; errors name the layer,
/// its class, the argument, what was expected and what the config holds.
/// </summary>
/// <remarks>
/// Configs come from files and are untrusted. An absent argument and an explicit <c>null</c> both mean "not given":
/// the fallback is used, or the argument is reported missing. Values are described in messages as the config writes
/// them, cut short so that a huge value cannot flood the message.
/// </remarks>
public sealed class KerasConfigReader
{
    private readonly JsonElement _config;

    internal KerasConfigReader(string layerName, string className, JsonElement config, int kerasMajorVersion = 3)
    {
        LayerName = layerName;
        ClassName = className;
        _config = config;
        KerasMajorVersion = kerasMajorVersion;
    }

    /// <summary>
    /// The major version of the Keras that wrote the config (3, or 2 for Keras 2 and TensorFlow.js), for the few names
    /// whose meaning changed between them (<c>hard_sigmoid</c>).
    /// </summary>
    public int KerasMajorVersion { get; }

    /// <summary>The layer's name (<c>config.name</c>), which the layer built from this config must carry.</summary>
    public string LayerName { get; }

    /// <summary>The Keras class name the config was written for.</summary>
    public string ClassName { get; }

    /// <summary>An error for an argument value this library does not implement: <c>"conv (Conv2D): groups other than 1 is not supported."</c></summary>
    /// <param name="what">The refused value, e.g. <c>"negative_slope (leaky ReLU)"</c>.</param>
    public NotSupportedException Unsupported(string what) => new($"{LayerName} ({ClassName}): {what} is not supported.");

    /// <summary>Whether <paramref name="argument"/> is given (present and not <c>null</c>).</summary>
    public bool Has(string argument) => TryGet(argument, out _);

    /// <summary>Refuses a <c>data_format</c> other than <c>channels_last</c>; an absent one is Keras's default, channels last.</summary>
    /// <exception cref="InvalidDataException">data_format is not a string.</exception>
    /// <exception cref="NotSupportedException">data_format is not <c>channels_last</c>.</exception>
    public void RequireChannelsLast()
    {
        if (!TryGet("data_format", out var format)) return;
        if (format.ValueKind != JsonValueKind.String) throw Invalid("data_format", format, "a string");
        if (format.GetString() != "channels_last") throw Unsupported($"data_format '{Shorten(format.GetString()!)}'");
    }

    /// <summary>A 32-bit integer argument (not 3.5, not 2^32, not "3").</summary>
    /// <param name="argument">The Keras argument name.</param>
    /// <param name="fallback">The value when the argument is not given; null makes it required.</param>
    /// <exception cref="InvalidDataException">The value is not a 32-bit integer, or it is required and not given.</exception>
    public int Int(string argument, int? fallback = null)
    {
        if (!TryGet(argument, out var value)) return fallback ?? throw Missing(argument);
        return TryInt(value, out int result) ? result : throw Invalid(argument, value, "a 32-bit integer");
    }

    /// <summary>A finite number argument.</summary>
    /// <exception cref="InvalidDataException">The value is not a finite number, or it is required and not given.</exception>
    public double Double(string argument, double? fallback = null) => OptionalDouble(argument) ?? fallback ?? throw Missing(argument);

    /// <summary>A finite number argument, or null when it is not given.</summary>
    /// <exception cref="InvalidDataException">The value is not a finite number.</exception>
    public double? OptionalDouble(string argument)
    {
        if (!TryGet(argument, out var value)) return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double result) && double.IsFinite(result)
            ? result
            : throw Invalid(argument, value, "a finite number");
    }

    /// <summary>A boolean argument.</summary>
    /// <exception cref="InvalidDataException">The value is not true or false.</exception>
    public bool Bool(string argument, bool fallback)
    {
        if (!TryGet(argument, out var value)) return fallback;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(argument, value, "true or false"),
        };
    }

    /// <summary>A string argument of at most 80 characters (names and modes, e.g. <c>interpolation</c>).</summary>
    /// <exception cref="InvalidDataException">The value is not a string, or it is required and not given.</exception>
    /// <exception cref="NotSupportedException">The string is longer than 80 characters (no Keras mode is).</exception>
    public string String(string argument, string? fallback = null)
    {
        if (!TryGet(argument, out var value)) return fallback ?? throw Missing(argument);
        if (value.ValueKind != JsonValueKind.String) throw Invalid(argument, value, "a string");
        string text = value.GetString()!;
        return text.Length <= 80 ? text : throw Unsupported($"{argument} '{Shorten(text)}'");
    }

    /// <summary>An (int, int) argument, written as one integer or a list of two.</summary>
    /// <param name="argument">The Keras argument name.</param>
    /// <param name="fallback">Both values when the argument is not given; null makes it required.</param>
    /// <exception cref="InvalidDataException">The value is neither, or it is required and not given.</exception>
    public (int, int) Pair(string argument, int? fallback = null)
    {
        if (!TryGet(argument, out var value)) return fallback is { } f ? (f, f) : throw Missing(argument);
        if (TryInt(value, out int single)) return (single, single);
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 2 && TryInt(value[0], out int first) && TryInt(value[1], out int second))
            return (first, second);
        throw Invalid(argument, value, "a 32-bit integer or a list of two");
    }

    /// <summary>A square window argument (a pooling's <c>pool_size</c>, 2 when not given).</summary>
    /// <exception cref="InvalidDataException">The value is not an integer or a pair.</exception>
    /// <exception cref="NotSupportedException">The pair is not square.</exception>
    public int SquarePool(string argument)
    {
        var (h, w) = Pair(argument, 2);
        return h == w ? h : throw Unsupported($"non-square {argument} ({h}, {w})");
    }

    /// <summary>As <see cref="SquarePool"/>, or null when the argument is not given.</summary>
    public int? OptionalSquarePool(string argument) => TryGet(argument, out _) ? SquarePool(argument) : null;

    /// <summary>The <c>padding</c> mode: <c>valid</c> (the default) or <c>same</c>.</summary>
    /// <exception cref="InvalidDataException">padding is not a string.</exception>
    /// <exception cref="NotSupportedException">padding is another mode (<c>causal</c>, …).</exception>
    public Padding Padding()
    {
        if (!TryGet("padding", out var value)) return Backends.Padding.Valid;
        if (value.ValueKind != JsonValueKind.String) throw Invalid("padding", value, "'valid' or 'same'");
        string padding = value.GetString()!;
        return padding switch
        {
            "valid" => Backends.Padding.Valid,
            "same" => Backends.Padding.Same,
            _ => throw Unsupported($"padding '{Shorten(padding)}'"),
        };
    }

    /// <summary>ZeroPadding2D's <c>padding</c>: <c>p</c>, <c>(ph, pw)</c> or <c>((top, bottom), (left, right))</c>; 1 on every side when not given.</summary>
    /// <exception cref="InvalidDataException">The value is none of these forms of 32-bit integers.</exception>
    public Padding2D ZeroPadding() => Sides("padding", 1);

    /// <summary>
    /// An argument for the four sides of height and width (ZeroPadding2D's <c>padding</c>, Cropping2D's <c>cropping</c>):
    /// <c>p</c>, <c>(ph, pw)</c> or <c>((top, bottom), (left, right))</c>; <paramref name="fallback"/> on every side when not given.
    /// </summary>
    /// <exception cref="InvalidDataException">The value is none of these forms of 32-bit integers.</exception>
    public Padding2D Sides(string argument, int fallback)
    {
        if (!TryGet(argument, out var value)) return new Padding2D(fallback, fallback, fallback, fallback);
        if (TryInt(value, out int p)) return new Padding2D(p, p, p, p);
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 2)
        {
            if (TryInt(value[0], out int h) && TryInt(value[1], out int w)) return new Padding2D(h, h, w, w);
            if (TryIntPair(value[0], out int top, out int bottom) && TryIntPair(value[1], out int left, out int right))
                return new Padding2D(top, bottom, left, right);
        }
        throw Invalid(argument, value, "an integer, a pair, or a pair of pairs of 32-bit integers");
    }

    /// <summary>The <c>activation</c>: a name (Keras 2, TF.js) or a serialized function object (Keras 3's <c>{"config": {"name": ...}}</c>); linear when not given.</summary>
    /// <exception cref="InvalidDataException">The value is neither form.</exception>
    /// <exception cref="NotSupportedException">The activation is not one this library implements.</exception>
    public ActivationFunction Activation()
    {
        if (!TryGet("activation", out var value)) return ActivationFunction.Linear;
        string? activation = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object
                                      && c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String => n.GetString(),
            _ => throw Invalid("activation", value, "an activation name or a Keras 3 function object"),
        };
        if (activation is { Length: > 80 }) throw Unsupported($"Activation '{Shorten(activation)}'");
        try
        {
            return ActivationFunction.FromKerasName(activation, KerasMajorVersion);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{LayerName} ({ClassName}): {e.Message}", e);
        }
    }

    /// <summary>An axis that Keras 2 may write as a one-element list.</summary>
    /// <exception cref="InvalidDataException">The value is neither a 32-bit integer nor a list of one.</exception>
    public int AxisOrFirst(string argument, int fallback)
    {
        if (!TryGet(argument, out var value)) return fallback;
        if (TryInt(value, out int axis)) return axis;
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1 && TryInt(value[0], out axis)) return axis;
        throw Invalid(argument, value, "an axis (a 32-bit integer or a list of one)");
    }

    /// <summary>A 32-bit integer or a list of them (PReLU's <c>shared_axes</c>).</summary>
    /// <exception cref="InvalidDataException">The value is neither, or it is not given.</exception>
    public int[] IntOrList(string argument)
    {
        if (TryGet(argument, out var value) && TryInt(value, out int single)) return [single];
        return IntList(argument);
    }

    /// <summary>A required list of dimensions in which <c>null</c> (as TensorFlow.js writes an unknown one) reads as <c>-1</c>
    /// (Reshape's <c>target_shape</c>).</summary>
    /// <exception cref="InvalidDataException">The value is not such a list, or it is not given.</exception>
    public int[] DimensionList(string argument) => IntegerList(argument, nullAs: -1);

    /// <summary>A required list of 32-bit integers (<c>dims</c>).</summary>
    /// <exception cref="InvalidDataException">The value is not such a list, or it is not given.</exception>
    public int[] IntList(string argument) => IntegerList(argument, nullAs: null);

    /// <summary>A required list of 32-bit integers in which <c>null</c> reads as <paramref name="nullAs"/>, or is refused when that is null.</summary>
    private int[] IntegerList(string argument, int? nullAs)
    {
        if (!TryGet(argument, out var value)) throw Missing(argument);
        string expected = nullAs is null ? "a list of 32-bit integers" : "a list of 32-bit integers or nulls";
        if (value.ValueKind != JsonValueKind.Array) throw Invalid(argument, value, "a list of 32-bit integers");
        var list = new int[value.GetArrayLength()];
        for (int i = 0; i < list.Length; i++)
        {
            if (nullAs is { } substitute && value[i].ValueKind == JsonValueKind.Null) list[i] = substitute;
            else if (!TryInt(value[i], out list[i])) throw Invalid(argument, value, expected);
        }
        return list;
    }

    /// <summary>A float32 number or a list of them, as one or more values (Rescaling's <c>scale</c>).</summary>
    /// <param name="argument">The Keras argument name.</param>
    /// <param name="fallback">The single value when the argument is not given; null makes it required.</param>
    /// <exception cref="InvalidDataException">A value is not a finite float32 number, or the argument is required and not given.</exception>
    public float[] FloatOrList(string argument, float? fallback = null)
    {
        if (!TryGet(argument, out _)) return fallback is { } f ? [f] : throw Missing(argument);
        return OptionalFloatList(argument)!;
    }

    /// <summary>As <see cref="FloatOrList"/>, or null when the argument is not given.</summary>
    /// <exception cref="InvalidDataException">A value is not a finite float32 number.</exception>
    public float[]? OptionalFloatList(string argument)
    {
        if (!TryGet(argument, out var value)) return null;
        if (TryFloat(value, out float single)) return [single];
        if (value.ValueKind != JsonValueKind.Array) throw Invalid(argument, value, "a float32 number or a list of them");
        var list = new float[value.GetArrayLength()];
        for (int i = 0; i < list.Length; i++)
        {
            if (!TryFloat(value[i], out list[i])) throw Invalid(argument, value, "a list of finite float32 numbers");
        }
        return list;
    }

    /// <summary>A value for a message: its JSON text, cut short so that a huge value cannot flood it.</summary>
    internal static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => $"an object {Shorten(value.GetRawText())}",
        JsonValueKind.Array => $"a list {Shorten(value.GetRawText())}",
        JsonValueKind.String => $"the string {Shorten(value.GetRawText())}",
        _ => Shorten(value.GetRawText()),
    };

    /// <summary>Text for a message, at most 80 characters.</summary>
    internal static string Shorten(string text) => text.Length <= 80 ? text : $"{text[..77]}...";

    /// <summary>A JSON number that is a 32-bit integer (not 3.5, not 2^32, not "3").</summary>
    internal static bool TryInt(JsonElement value, out int result)
    {
        result = 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out result);
    }

    private InvalidDataException Invalid(string argument, JsonElement value, string expected) =>
        new($"{LayerName} ({ClassName}): argument '{argument}' is {Describe(value)}, not {expected}.");

    private InvalidDataException Missing(string argument) => new($"{LayerName} ({ClassName}): missing argument '{argument}'.");

    private bool TryGet(string argument, out JsonElement value) =>
        _config.TryGetProperty(argument, out value) && value.ValueKind != JsonValueKind.Null;

    private static bool TryIntPair(JsonElement value, out int first, out int second)
    {
        first = second = 0;
        return value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 2 && TryInt(value[0], out first) && TryInt(value[1], out second);
    }

    private static bool TryFloat(JsonElement value, out float result)
    {
        result = 0;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d) || !(Math.Abs(d) <= float.MaxValue)) return false;
        result = (float)d;
        return true;
    }
}
