using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models;

/// <summary>One prepared layer of an <see cref="ExecutionPlan"/>: what runs, on what shapes, and how long it last took.</summary>
public sealed class PlanStep
{
    internal PlanStep(Node node, IReadOnlyList<Node> layers, OpDescriptor op, IPreparedOp prepared, IReadOnlyList<TensorShape> inputShapes, IDeviceBuffer output, long multiplyAccumulates)
    {
        Node = node;
        Layers = layers;
        Op = op;
        Prepared = prepared;
        InputShapes = inputShapes;
        Output = output;
        MultiplyAccumulates = multiplyAccumulates;
    }

    /// <summary>The graph node whose output this step produces (the last layer of a fused step).</summary>
    public Node Node { get; }

    /// <summary>The layers this step runs: one, or several fused into one op (in graph order).</summary>
    public IReadOnlyList<Node> Layers { get; }

    /// <summary>The layer name.</summary>
    public string Name => Node.Name;

    /// <summary>The op the backend prepared.</summary>
    public OpDescriptor Op { get; }

    /// <summary>Input shapes at the plan's batch size.</summary>
    public IReadOnlyList<TensorShape> InputShapes { get; }

    /// <summary>The output buffer (its contents are this layer's activation after a run).</summary>
    public IDeviceBuffer Output { get; }

    /// <summary>Multiply-accumulates per run (whole batch).</summary>
    public long MultiplyAccumulates { get; }

    /// <summary>Wall time of this step in the last <see cref="ExecutionPlan.RunProfiled"/>, in milliseconds.</summary>
    public double LastMilliseconds { get; internal set; }

    internal IPreparedOp Prepared { get; }
}
