namespace NativeCnn.Backends;

/// <summary>
/// BatchNormalization in training mode, on the last axis: normalizes with the batch's mean and biased variance over
/// every other axis, then <c>y = x̂ · gamma + beta</c>, and moves the moving statistics by Keras's rule
/// <c>moving = moving·Momentum + batch·(1 − Momentum)</c>. Weights in Keras order: <c>gamma</c> (when
/// <see cref="Scale"/>), <c>beta</c> (when <see cref="Center"/>), <c>moving_mean</c>, <c>moving_variance</c>. Outside a
/// training step it runs with the moving statistics, as at inference.
/// </summary>
public sealed record BatchNormalizationOp(double Epsilon, double Momentum, bool Center, bool Scale) : TrainingOpDescriptor;
