using NativeCnn.Backends;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Softmax</c> over the last axis.</summary>
public sealed class Softmax(string name) : Activation(name, ActivationFunction.Softmax);
