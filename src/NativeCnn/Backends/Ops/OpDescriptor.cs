namespace NativeCnn.Backends;

/// <summary>
/// An immutable description of one operation, produced by a layer and consumed by a backend.
/// A backend never sees a layer; it sees this, the buffers and the weights.
/// </summary>
public abstract record OpDescriptor;
