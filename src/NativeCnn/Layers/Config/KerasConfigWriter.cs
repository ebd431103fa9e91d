using System.Text.Json;
using NativeCnn.Backends;

namespace NativeCnn.Layers.Config;

/// <summary>
/// Writes one layer's Keras config arguments (the <c>config</c> object of <c>get_config</c>) in the forms Keras 2 and
/// TensorFlow.js write and <see cref="KerasConfigReader"/> reads back: a pair as <c>[h, w]</c>, a padding mode as
/// <c>"same"</c>/<c>"valid"</c>, an activation by its Keras name.
/// </summary>
/// <remarks>
/// Arguments are written in call order; the model config writer has already written <c>name</c> and
/// <c>trainable</c>. Only the arguments that define the computation belong here, not initializers or regularizers.
/// </remarks>
public sealed class KerasConfigWriter
{
    private readonly Utf8JsonWriter _json;

    internal KerasConfigWriter(Utf8JsonWriter json) => _json = json;

    /// <summary>Writes an integer argument.</summary>
    public void Int(string argument, int value) => _json.WriteNumber(argument, value);

    /// <summary>Writes a float32 argument, in the shortest text that reads back as the same float32.</summary>
    public void Float(string argument, float value) => _json.WriteNumber(argument, value);

    /// <summary>Writes a float64 argument (an epsilon, a rate).</summary>
    public void Double(string argument, double value) => _json.WriteNumber(argument, value);

    /// <summary>Writes a boolean argument.</summary>
    public void Bool(string argument, bool value) => _json.WriteBoolean(argument, value);

    /// <summary>Writes a string argument (a mode or a name).</summary>
    public void String(string argument, string value) => _json.WriteString(argument, value);

    /// <summary>Writes <c>null</c>, Keras's <c>None</c>.</summary>
    public void Null(string argument) => _json.WriteNull(argument);

    /// <summary>Writes an (int, int) argument as <c>[first, second]</c>.</summary>
    public void Pair(string argument, (int, int) value)
    {
        _json.WritePropertyName(argument);
        WritePair(value);
    }

    /// <summary>Writes <c>[[a, b], [c, d]]</c> (ZeroPadding2D's <c>((top, bottom), (left, right))</c>).</summary>
    public void PairOfPairs(string argument, (int, int) first, (int, int) second)
    {
        _json.WriteStartArray(argument);
        WritePair(first);
        WritePair(second);
        _json.WriteEndArray();
    }

    /// <summary>Writes a list of integers.</summary>
    public void IntList(string argument, IEnumerable<int> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _json.WriteStartArray(argument);
        foreach (int v in values) _json.WriteNumberValue(v);
        _json.WriteEndArray();
    }

    /// <summary>Writes a list of dimensions, -1 as <c>null</c> (the unknown batch of a <c>noise_shape</c>).</summary>
    public void DimensionList(string argument, IEnumerable<int> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _json.WriteStartArray(argument);
        foreach (int v in values)
        {
            if (v == -1) _json.WriteNullValue();
            else _json.WriteNumberValue(v);
        }
        _json.WriteEndArray();
    }

    /// <summary>Writes one float32 value as a number, as Keras writes a scalar argument, and several as a list.</summary>
    public void FloatOrList(string argument, IReadOnlyList<float> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 1)
        {
            _json.WriteNumber(argument, values[0]);
            return;
        }
        _json.WriteStartArray(argument);
        foreach (float v in values) _json.WriteNumberValue(v);
        _json.WriteEndArray();
    }

    /// <summary>Writes <c>"padding": "same"</c> or <c>"valid"</c>.</summary>
    public void Padding(Padding padding) => _json.WriteString("padding", padding == Backends.Padding.Same ? "same" : "valid");

    /// <summary>Writes <c>"activation"</c> as its Keras name.</summary>
    public void Activation(ActivationFunction activation)
    {
        if (activation.Kind == ActivationKind.HardSigmoid)
        {
            if (activation.IsKeras2HardSigmoid) WritesKeras2HardSigmoid = true;
            else WritesKeras3HardSigmoid = true;
        }
        _json.WriteString("activation", activation.KerasName);
    }

    /// <summary>Whether an activation written so far was Keras 2's <c>hard_sigmoid</c>, which only a Keras 2 config names.</summary>
    public bool WritesKeras2HardSigmoid { get; private set; }

    /// <summary>Whether an activation written so far was Keras 3's <c>hard_sigmoid</c>, which only a Keras 3 config names.</summary>
    public bool WritesKeras3HardSigmoid { get; private set; }

    /// <summary>Writes <c>"data_format": "channels_last"</c>, the only layout this library has.</summary>
    public void ChannelsLast() => _json.WriteString("data_format", "channels_last");

    private void WritePair((int First, int Second) value)
    {
        _json.WriteStartArray();
        _json.WriteNumberValue(value.First);
        _json.WriteNumberValue(value.Second);
        _json.WriteEndArray();
    }
}
