using NativeCnn.Layers;
using NativeCnn.Models;

namespace NativeCnn.Training;

/// <summary>
/// One gradient buffer per trained weight of a model (by Keras path, <c>layer/weight</c>), and the
/// <see cref="TrainableVariable"/>s that pair them with the weights for an <see cref="Optimizer"/>. Which weights are
/// trained is fixed when this is created: those with <see cref="LayerWeight.Trainable"/> in layers with
/// <see cref="Layer.Trainable"/>. Training plans of several batch sizes over one model share one set.
/// </summary>
public sealed class ModelGradients : IDisposable
{
    private readonly Dictionary<LayerWeight, Tensor> _byWeight = [];
    private readonly Dictionary<string, Tensor> _byName = new(StringComparer.Ordinal);

    /// <summary>Allocates a zero gradient for every trained weight of <paramref name="model"/>.</summary>
    public ModelGradients(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        var variables = new List<TrainableVariable>();
        foreach (var layer in model.Layers)
        {
            if (!layer.Trainable) continue;
            foreach (var weight in layer.Weights)
            {
                if (!weight.Trainable) continue;
                var gradient = new Tensor(weight.Shape);
                _byWeight.Add(weight, gradient);
                _byName.Add(weight.FullName, gradient);
                variables.Add(TrainableVariable.FromTensors(weight.FullName, weight.Value, gradient));
            }
        }
        Variables = variables;
    }

    /// <summary>The model whose weights these are gradients of.</summary>
    public Model Model { get; }

    /// <summary>The trained weights with their gradients, in model order: what <see cref="Optimizer.Build"/> takes.</summary>
    public IReadOnlyList<TrainableVariable> Variables { get; }

    /// <summary>The Keras paths of the trained weights, in model order.</summary>
    public IEnumerable<string> Names => Variables.Select(v => v.Name);

    /// <summary>The gradient of <paramref name="weight"/>, or null when it is not trained.</summary>
    public Tensor? Find(LayerWeight weight) => _byWeight.GetValueOrDefault(weight);

    /// <summary>The gradient of the weight at Keras path <paramref name="name"/> (<c>dense/kernel</c>), from the last backward pass.</summary>
    /// <exception cref="KeyNotFoundException">No trained weight has that path; the message says whether it exists but is frozen.</exception>
    public ReadOnlySpan<float> this[string name] => Get(name).Span;

    /// <summary>The gradient tensor of the weight at Keras path <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No trained weight has that path.</exception>
    public Tensor Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out var gradient)) return gradient;
        bool exists = Model.Weights.Any(w => w.FullName == name);
        throw new KeyNotFoundException(exists
            ? $"{Model.Name}: weight '{name}' is not trained (a frozen layer, or a non-trainable weight such as moving statistics)."
            : $"{Model.Name}: no weight '{name}'; trained weights are e.g. {string.Join(", ", _byName.Keys.Take(4))}.");
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void Clear()
    {
        foreach (var gradient in _byWeight.Values) gradient.Span.Clear();
    }

    /// <summary>Frees the gradient buffers.</summary>
    public void Dispose()
    {
        foreach (var gradient in _byWeight.Values) gradient.Dispose();
    }
}
