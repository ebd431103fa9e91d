namespace NativeCnn.Training;

/// <summary>
/// One slot of optimizer state (a momentum, a velocity, …) for one trainable variable, named as Keras names it:
/// the variable's path with '/' replaced by '_', then '_' and the slot, e.g. <c>dense_kernel_momentum</c>.
/// </summary>
public sealed class OptimizerVariable
{
    internal OptimizerVariable(string name, string slot, TrainableVariable variable)
    {
        Name = name;
        Slot = slot;
        Variable = variable;
        Values = new float[variable.Length];
    }

    /// <summary>The Keras name, e.g. <c>dense_kernel_velocity</c>.</summary>
    public string Name { get; }

    /// <summary>The slot: <c>momentum</c>, <c>velocity</c>, <c>velocity_hat</c> or <c>average_gradient</c>.</summary>
    public string Slot { get; }

    /// <summary>The trainable variable this slot belongs to.</summary>
    public TrainableVariable Variable { get; }

    /// <summary>The state, as long as the variable; read it to checkpoint, write it to restore.</summary>
    public float[] Values { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Values.Length})";
}
