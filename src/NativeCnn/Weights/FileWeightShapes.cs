using NativeCnn.Layers;
using NativeCnn.Layers.Config;

namespace NativeCnn.Weights;

/// <summary>
/// The shapes of the tensors a model file holds, consulted while the model its config describes is built, before any
/// weight is allocated. Every way weights are assigned (by name, by Keras 3 key, by layer order) pairs each model weight
/// with a distinct file tensor of exactly its shape, so a weight whose shape the file holds no more of can never load:
/// refusing it before its allocation costs nothing that could have worked, and bounds what a config can make the loader
/// allocate by what the file really holds (a 674-byte file declaring <c>filters: 37000000</c> allocates nothing).
/// </summary>
internal sealed class FileWeightShapes : IWeightSource
{
    private readonly string _source;
    private readonly Dictionary<string, int> _left = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int[]> _shapeByName = new(StringComparer.Ordinal);

    /// <summary>The tensors of <paramref name="source"/> (a file path, for messages) by Keras name and shape.</summary>
    public FileWeightShapes(string source, IEnumerable<(string Name, int[] Shape)> tensors)
    {
        _source = source;
        foreach (var (name, shape) in tensors)
        {
            _shapeByName.TryAdd(name, shape);
            string key = Key(shape);
            _left[key] = _left.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>The tensors that <paramref name="weights"/> (as a <see cref="Keras.KerasFile"/> read them) hold.</summary>
    public FileWeightShapes(string source, IEnumerable<WeightTensor> weights) : this(source, weights.Select(w => (w.Name, w.Shape))) { }

    /// <inheritdoc/>
    public void Reserve(Layer layer, string name, TensorShape shape)
    {
        string key = Key(shape.ToArray());
        if (_left.TryGetValue(key, out int left) && left > 0)
        {
            _left[key] = left - 1;
            return;
        }
        string fullName = $"{layer.Name}/{name}";
        int[]? fileShape = _shapeByName.GetValueOrDefault(fullName);
        foreach (string alias in KerasLayerRegistry.FileWeightAliases(layer, name)) fileShape ??= _shapeByName.GetValueOrDefault($"{layer.Name}/{alias}");
        string named = fileShape is not null
            ? $"its '{fullName}' is ({string.Join(", ", fileShape)})"
            : $"it has no '{fullName}'";
        string what = left == 0 && _left.ContainsKey(key)
            ? "no tensor of that shape that an earlier weight has not already taken"
            : "no tensor of that shape";
        throw new InvalidDataException(
            $"{_source}: layer '{layer.Name}' ({layer.ClassName}) declares weight '{name}' of shape {shape} "
            + $"({shape.ElementCount} values), but the file holds {what} ({named}); refused before allocating it.");
    }

    // Keras scalars (Normalization's count) are shape () in files and (1,) in models; the assignment accepts either.
    private static string Key(int[] shape) => shape.Length == 0 ? "1" : string.Join('x', shape);
}
