namespace NativeCnn.Backends;

/// <summary>
/// A backend that can train: it prepares ops that run forward in training mode, keeping what their backward pass
/// needs, and backward, adding gradients into bound buffers. Training plans ask for it; a backend without it cannot train.
/// </summary>
public interface ITrainingBackend : IBackend
{
    /// <summary>Whether this backend can train <paramref name="op"/>; if not, <paramref name="reason"/> says why.</summary>
    bool SupportsTraining(OpDescriptor op, out string? reason);

    /// <summary>
    /// Prepares <paramref name="op"/> for training, bound to its buffers, weights and gradient buffers. Scratch memory is
    /// allocated here, so <see cref="ITrainingOp.Forward"/> and <see cref="ITrainingOp.Backward"/> allocate nothing.
    /// </summary>
    /// <exception cref="BackendException">The op cannot be trained here, or the buffers do not fit it.</exception>
    ITrainingOp PrepareTraining(OpDescriptor op, TrainingBinding binding);

    /// <summary>
    /// Which of <paramref name="op"/>'s forward tensors (its <paramref name="inputCount"/> inputs and its output) the
    /// backward pass of its training op reads. A training plan keeps a layer output until the last backward pass that
    /// reads it, and reuses its memory as soon as no forward or backward pass will read it again. A backend that does
    /// not know says <see cref="BackwardReads.All"/>.
    /// </summary>
    BackwardReads BackwardReads(OpDescriptor op, int inputCount) => Backends.BackwardReads.All(inputCount);
}

/// <summary>Which forward tensors of one layer call its backward pass reads (<see cref="ITrainingBackend.BackwardReads"/>).</summary>
/// <param name="Inputs">Per input, in the layer's input order, whether backward reads it.</param>
/// <param name="Output">Whether backward reads the layer's output.</param>
public sealed record BackwardReads(IReadOnlyList<bool> Inputs, bool Output)
{
    /// <summary>Backward reads every input and the output (the safe answer for an op a backend does not describe).</summary>
    public static BackwardReads All(int inputCount) => new(Enumerable.Repeat(true, inputCount).ToArray(), true);

    /// <summary>Backward reads no forward tensor (a sum, a copy, padding): only the output gradient.</summary>
    public static BackwardReads None(int inputCount) => new(new bool[inputCount], false);

    /// <summary>Backward reads the inputs, or not, all alike, and the output, or not.</summary>
    public static BackwardReads Of(int inputCount, bool inputs, bool output) => new(Enumerable.Repeat(inputs, inputCount).ToArray(), output);
}

/// <summary>What a training op reads and writes.</summary>
/// <param name="LayerName">The layer the op comes from, for error messages.</param>
/// <param name="Inputs">Input buffers, in the layer's input order.</param>
/// <param name="Output">The output buffer.</param>
/// <param name="InputGradients">
/// Per input, the buffer that receives the loss gradient with respect to it, or null where none is needed (the model
/// input, or a branch with nothing to train before it).
/// </param>
/// <param name="OutputGradient">The loss gradient with respect to the output, read by the backward pass.</param>
/// <param name="Weights">The layer's weights in Keras order and layout, read live: an optimizer step between two
/// forward passes is seen by the second.</param>
/// <param name="WeightGradients">Per weight, the buffer that receives its gradient, or null for a weight that is not
/// trained (moving statistics, a frozen layer).</param>
public sealed record TrainingBinding(string LayerName, IReadOnlyList<IDeviceBuffer> Inputs, IDeviceBuffer Output,
                                     IReadOnlyList<IDeviceBuffer?> InputGradients, IDeviceBuffer OutputGradient,
                                     IReadOnlyList<Tensor> Weights, IReadOnlyList<Tensor?> WeightGradients);

/// <summary>One layer's forward and backward pass of a training step, bound to its buffers.</summary>
/// <remarks>
/// Gradients are <em>added</em> into <see cref="TrainingBinding.InputGradients"/> and
/// <see cref="TrainingBinding.WeightGradients"/>, so that a tensor read by several layers (a residual or
/// squeeze-and-excitation branch) or a layer called twice sums its gradients; the plan zeroes them before each backward pass.
/// </remarks>
public interface ITrainingOp : IDisposable
{
    /// <summary>
    /// Runs forward. With <paramref name="training"/>, in training mode (batch statistics, dropout; moving statistics
    /// updated), keeping what <see cref="Backward"/> needs; without it, as at inference.
    /// </summary>
    void Forward(bool training);

    /// <summary>
    /// Adds the gradients of the loss with respect to the inputs and trained weights, from the output gradient and what
    /// the last training-mode <see cref="Forward"/> kept.
    /// </summary>
    void Backward();
}
