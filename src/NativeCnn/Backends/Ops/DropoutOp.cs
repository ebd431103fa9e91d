namespace NativeCnn.Backends;

/// <summary>
/// Dropout in training mode, as Keras's inverted dropout: each value (or, with <see cref="PerSample"/>, each whole
/// sample: Keras <c>noise_shape=(None, 1, 1, 1)</c>, EfficientNet's drop-connect) is kept with probability
/// <c>1 − Rate</c> and scaled by <c>1 / (1 − Rate)</c>, or zeroed. The mask comes from a generator seeded by
/// <see cref="Seed"/> and the step, so a run can be repeated. Outside a training step it is the identity.
/// </summary>
public sealed record DropoutOp(double Rate, bool PerSample, int Seed) : TrainingOpDescriptor;
