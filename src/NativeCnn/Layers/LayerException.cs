namespace NativeCnn.Layers;

/// <summary>A layer was given inputs it cannot take; the message names the layer, what it expected and what it got.</summary>
public sealed class LayerException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="layerName"/>.</summary>
    public LayerException(string layerName, string problem) : base($"{layerName}: {problem}")
    {
        LayerName = layerName;
    }

    /// <summary>The name of the layer that refused its inputs.</summary>
    public string LayerName { get; }
}
