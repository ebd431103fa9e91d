using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models;

/// <summary>One prepared layer of an <see cref="ExecutionPlan"/>: what runs, on what shapes, and how long it last took.</summary>
public sealed class PlanStep
{
    /// <summary>The layers, op and inputs this step runs, as fusion grouped them.</summary>
    private readonly LayerFusion.Group _group;

    internal PlanStep(LayerFusion.Group group, IPreparedOp prepared, IReadOnlyList<TensorShape> inputShapes, IDeviceBuffer output, long multiplyAccumulates)
    {
        _group = group;
        Prepared = prepared;
        InputShapes = inputShapes;
        Output = output;
        MultiplyAccumulates = multiplyAccumulates;
    }

    /// <summary>The graph node whose output this step produces (the last layer of a fused step).</summary>
    public Node Node => _group.Output;

    /// <summary>The layers this step runs: one, or several fused into one op (in graph order).</summary>
    public IReadOnlyList<Node> Layers => _group.Members;

    /// <summary>The layer name.</summary>
    public string Name => Node.Name;

    /// <summary>The op the backend prepared.</summary>
    public OpDescriptor Op => _group.Op;

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
