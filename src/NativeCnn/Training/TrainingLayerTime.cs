namespace NativeCnn.Training;

/// <summary>One layer call's time in a training plan's last timed step (<see cref="TrainingPlan.TimesLayers"/>).</summary>
/// <param name="Layer">The layer's name.</param>
/// <param name="ClassName">The layer's Keras class (<c>Conv2D</c>, <c>BatchNormalization</c>, …).</param>
/// <param name="ForwardMilliseconds">Its training-mode forward pass.</param>
/// <param name="BackwardMilliseconds">Its backward pass (input and weight gradients); zero where it did not run backward.</param>
public readonly record struct TrainingLayerTime(string Layer, string ClassName, double ForwardMilliseconds, double BackwardMilliseconds);
