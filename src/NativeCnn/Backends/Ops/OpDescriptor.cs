namespace NativeCnn.Backends;

/// <summary>
/// An immutable description of one operation, produced by a layer and consumed by a backend.
/// A backend never sees a layer; it sees this, the buffers and the weights.
/// </summary>
public abstract record OpDescriptor;

/// <summary>
/// An operation that exists only in a training step (BatchNormalization with batch statistics, dropout), which
/// inference plans never emit: backends prepare it through <see cref="ITrainingBackend.PrepareTraining"/>.
/// </summary>
public abstract record TrainingOpDescriptor : OpDescriptor;
