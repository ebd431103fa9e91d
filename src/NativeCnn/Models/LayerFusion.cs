using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models;

/// <summary>
/// Groups layers that a plan runs as one op, so that intermediate tensors never reach memory:
/// <list type="bullet">
/// <item>[ZeroPadding2D (as the convolution's explicit padding)] →
/// Conv2D / DepthwiseConv2D → BatchNormalization (folded into the kernel and bias, in float64) → elementwise
/// activation (the kernel's epilogue);</item>
/// <item>Conv2D → BatchNormalization → [Dropout] → Add(shortcut) → [activation]: the residual add as a row epilogue;</item>
/// <item>consecutive per-channel affine layers (Rescaling, Normalization, BatchNormalization), such as EfficientNet's
/// input preprocessing, composed into one affine map (in float64) → [activation];</item>
/// <item>squeeze-and-excitation: GlobalAveragePooling2D → [Reshape] → Conv2D 1x1 → Conv2D 1x1 (sigmoid) → Multiply;</item>
/// <item>when the backend can, squeeze-and-excitation's Multiply moves into the pointwise convolution after it (EfficientNet's
/// projection), which scales its input channels as it reads them: the group above then ends at the excitation, and the
/// scaled tensor is never written;</item>
/// <item>when the backend can, ZeroPadding2D → 'valid' MaxPooling2D (ResNet's <c>pool1_pad</c>, <c>pool1_pool</c>): the padding
/// becomes the pooling's explicit padding, with padded cells counted as the zeros Keras pads with.</item>
/// </list>
/// A layer joins a group only when the group is its output's sole consumer, so every tensor another layer reads is
/// still produced; the outputs of layers inside a group are not kept.
/// </summary>
internal static class LayerFusion
{
    /// <summary>One step of a plan: the layers it covers, its op and weights, and the nodes it reads.</summary>
    internal sealed record Group(Node Output, IReadOnlyList<Node> Members, IReadOnlyList<Node> Inputs, OpDescriptor Op,
                                 IReadOnlyList<Tensor> Weights, IReadOnlyList<Tensor> OwnedWeights);

    /// <summary>Every non-input node as its own group (no fusion).</summary>
    public static IEnumerable<(Node Output, Func<Func<Node, TensorShape>, Group> Create)> Unfused(Model model) =>
        model.Nodes.Where(n => n != model.Input).Select(n => (n, (Func<Func<Node, TensorShape>, Group>)(shapeOf => Single(n, shapeOf))));

    /// <summary>
    /// The groups of <paramref name="model"/> in an executable order; each group runs where its last member stood.
    /// <paramref name="supports"/> says which ops the backend runs, for fusions only some backends have.
    /// </summary>
    public static IEnumerable<(Node Output, Func<Func<Node, TensorShape>, Group> Create)> Fused(Model model, Func<OpDescriptor, bool> supports)
    {
        var consumers = model.Nodes.ToDictionary(n => n, _ => new List<Node>());
        foreach (var node in model.Nodes)
            foreach (var input in node.Inputs) consumers[input].Add(node);

        // Only the sole consumer of a node that is not the model output may join its group.
        Node? SoleConsumer(Node node) => node != model.Output && consumers[node].Count == 1 ? consumers[node][0] : null;

        var claimed = new HashSet<Node>();
        // Squeeze-and-excitation Multiply nodes that join the convolution after them → the excitation they scale by.
        var scaledBy = new Dictionary<Node, Node>();
        var groups = new List<(int Position, Node Output, Func<Func<Node, TensorShape>, Group> Create)>();
        var position = model.Nodes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        foreach (var node in model.Nodes)
        {
            if (node == model.Input || claimed.Contains(node)) continue;
            var members = SqueezeExcitation(node, SoleConsumer) ?? ConvolutionChain(node, SoleConsumer, claimed, scaledBy)
                          ?? AffineChain(node, SoleConsumer) ?? PaddedMaxPooling(node, SoleConsumer, supports) ?? [node];
            if (members[^1].Layer is Multiply && members[0].Layer is GlobalAveragePooling2D
                && ScalesIntoConvolution(members, SoleConsumer, supports))
            {
                scaledBy[members[^1]] = members[^2];
                members.RemoveAt(members.Count - 1);
            }
            foreach (var m in members) claimed.Add(m);
            var last = members[^1];
            groups.Add((position[last], last, shapeOf => Create(members, shapeOf, scaledBy)));
        }
        return groups.OrderBy(g => g.Position).Select(g => (g.Output, g.Create));
    }

    /// <summary>
    /// Whether a squeeze-and-excitation group's Multiply can move into the pointwise convolution that alone reads it,
    /// with the backend running both halves.
    /// </summary>
    private static bool ScalesIntoConvolution(List<Node> se, Func<Node, Node?> soleConsumer, Func<OpDescriptor, bool> supports)
    {
        var multiply = se[^1];
        if (soleConsumer(multiply) is not { Layer: Conv2D conv }) return false;
        var convOp = (Conv2DOp)conv.CreateOp([multiply.OutputShape]) with { ScalesInputChannels = true };
        var reduce = (Conv2D)se[^3].Layer;
        return convOp.IsPointwise && supports(convOp) && supports(new SqueezeExcitationOp(reduce.Filters, reduce.Activation, ExcitationOnly: true));
    }

    private static List<Node>? ConvolutionChain(Node start, Func<Node, Node?> soleConsumer, HashSet<Node> claimed, Dictionary<Node, Node> scaledBy)
    {
        var members = new List<Node>();
        // Squeeze-and-excitation's scale, applied by the convolution to its input channels.
        if (scaledBy.ContainsKey(start) && soleConsumer(start) is { Layer: Conv2D } scaledConv)
        {
            members.Add(start);
            start = scaledConv;
        }
        // A ZeroPadding2D before a 'valid' convolution becomes the convolution's own explicit padding (Keras's
        // correct_pad before stride-2 convolutions), so the padded copy is never written.
        if (start.Layer is ZeroPadding2D && soleConsumer(start) is { Layer: Conv2D or DepthwiseConv2D } padded && PaddingOf(padded.Layer) == Padding.Valid)
        {
            members.Add(start);
            start = padded;
        }
        if (start.Layer is not (Conv2D or DepthwiseConv2D)) return null;
        var activation = start.Layer is Conv2D c ? c.Activation : ((DepthwiseConv2D)start.Layer).Activation;
        members.Add(start);
        var current = start;
        if (activation.Kind == ActivationKind.Linear && soleConsumer(current) is { Layer: BatchNormalization } bn)
        {
            members.Add(bn);
            current = bn;
        }
        if (activation.Kind == ActivationKind.Linear && soleConsumer(current) is { } act && ElementwiseActivation(act.Layer) is not null)
        {
            members.Add(act);
            return members;
        }
        if (start.Layer is not Conv2D || activation.Kind != ActivationKind.Linear) return members.Count > 1 ? members : null;

        // A residual add (through identity Dropouts), then an optional activation after it, as in ResNet.
        var path = new List<Node>();
        var next = soleConsumer(current);
        while (next is { Layer: Dropout })
        {
            path.Add(next);
            next = soleConsumer(next);
        }
        // Both branches of a residual block may end in a convolution; the first one in graph order takes the add.
        if (next is { Layer: Add } add && !claimed.Contains(add) && add.Inputs.Count == 2 && add.Inputs[0] != add.Inputs[1])
        {
            members.AddRange(path);
            members.Add(add);
            if (soleConsumer(add) is { } after && ElementwiseActivation(after.Layer) is not null) members.Add(after);
        }
        return members.Count > 1 ? members : null;
    }

    /// <summary>A ZeroPadding2D read only by a 'valid' MaxPooling2D, when the backend pools with padded cells as zeros.</summary>
    private static List<Node>? PaddedMaxPooling(Node start, Func<Node, Node?> soleConsumer, Func<OpDescriptor, bool> supports)
    {
        if (start.Layer is not ZeroPadding2D zeroPadding
            || soleConsumer(start) is not { Layer: Pooling2D { Mode: PoolingMode.Max, Padding: Padding.Valid } } pool) return null;
        return supports(PaddedPoolingOp(zeroPadding, (Pooling2D)pool.Layer, start.OutputShape)) ? [start, pool] : null;
    }

    /// <summary>
    /// The pooling of the padded tensor, run on the unpadded one: a 'valid' window over the padded tensor is the same window
    /// with explicit padding, and the zeros it reads are padded cells counted as zeros.
    /// </summary>
    private static Pooling2DOp PaddedPoolingOp(ZeroPadding2D zeroPadding, Pooling2D pool, TensorShape paddedShape) =>
        (Pooling2DOp)pool.CreateOp([paddedShape]) with { Padding = zeroPadding.Padding, PaddedCellsAreZeros = true };

    private static bool IsChannelAffine(Layer layer) => layer is Rescaling or Normalization or BatchNormalization;

    private static List<Node>? AffineChain(Node start, Func<Node, Node?> soleConsumer)
    {
        if (!IsChannelAffine(start.Layer)) return null;
        var members = new List<Node> { start };
        var next = soleConsumer(start);
        for (; next is not null && IsChannelAffine(next.Layer); next = soleConsumer(next)) members.Add(next);
        if (next is not null && ElementwiseActivation(next.Layer) is not null) members.Add(next);
        return members.Count > 1 ? members : null;
    }

    private static List<Node>? SqueezeExcitation(Node start, Func<Node, Node?> soleConsumer)
    {
        if (start.Layer is not GlobalAveragePooling2D) return null;
        var members = new List<Node> { start };
        var next = soleConsumer(start);
        if (next is { Layer: Reshape })
        {
            members.Add(next);
            next = soleConsumer(next);
        }
        if (next is not { Layer: Conv2D reduce } || !IsPointwiseWithBias(reduce)) return null;
        var expand = soleConsumer(next);
        if (expand is not { Layer: Conv2D expandLayer } || !IsPointwiseWithBias(expandLayer) || expandLayer.Activation.Kind != ActivationKind.Sigmoid) return null;
        var multiply = soleConsumer(expand);
        var source = start.Inputs[0];
        if (multiply is not { Layer: Multiply } || multiply.Inputs.Count != 2 || !multiply.Inputs.Contains(source)) return null;
        if (expand.OutputShape.Rank != 4 || expand.OutputShape.Height != 1 || expand.OutputShape.Width != 1) return null;
        members.AddRange([next, expand, multiply]);
        return members;
    }

    private static Padding PaddingOf(Layer convolution) => convolution is Conv2D conv ? conv.Padding : ((DepthwiseConv2D)convolution).Padding;

    private static bool IsPointwiseWithBias(Conv2D conv) =>
        conv.KernelSize == (1, 1) && conv.Strides == (1, 1) && conv.DilationRate == (1, 1) && conv.UseBias && conv.Activation.IsElementwise;

    private static ActivationFunction? ElementwiseActivation(Layer layer) =>
        layer is Activation a && a.Function.IsElementwise && a.Function.Kind != ActivationKind.Linear ? a.Function : null;

    private static Group Single(Node node, Func<Node, TensorShape> shapeOf) =>
        new(node, [node], node.Inputs, node.Layer.CreateOp(node.Inputs.Select(shapeOf).ToArray()), node.Layer.Weights.Select(w => w.Value).ToArray(), []);

    private static Group Create(List<Node> members, Func<Node, TensorShape> shapeOf, Dictionary<Node, Node> scaledBy)
    {
        if (members.Count == 1) return Single(members[0], shapeOf);
        if (members[0].Layer is GlobalAveragePooling2D)
        {
            var convs = members.Select(m => m.Layer).OfType<Conv2D>().ToArray();
            var (reduce, expand) = (convs[0], convs[1]);
            var source = members[0].Inputs[0];
            return new Group(members[^1], members, [source],
                new SqueezeExcitationOp(reduce.Filters, reduce.Activation, ExcitationOnly: members[^1].Layer is not Multiply),
                [reduce.GetWeight("kernel").Value, reduce.GetWeight("bias").Value, expand.GetWeight("kernel").Value, expand.GetWeight("bias").Value], []);
        }

        if (IsChannelAffine(members[0].Layer)) return ComposedAffine(members, shapeOf);

        if (members[0].Layer is ZeroPadding2D zeroPad && members[1].Layer is Pooling2D pooling)
        {
            var source = members[0].Inputs[0];
            return new Group(members[^1], members, [source], PaddedPoolingOp(zeroPad, pooling, zeroPad.ComputeOutputShape([shapeOf(source)])), [], []);
        }

        var first = members.First(m => m.Layer is Conv2D or DepthwiseConv2D);
        var zeroPadding = members[0].Layer as ZeroPadding2D;
        // The convolution's own activation, unless it is linear and a later member brings one: a group that merely
        // folds a ZeroPadding2D or an excitation into the convolution keeps the convolution's activation.
        var activation = first.Layer is Conv2D ownConv ? ownConv.Activation : ((DepthwiseConv2D)first.Layer).Activation;
        var bn = members.Select(m => m.Layer).OfType<BatchNormalization>().FirstOrDefault();
        var add = members.FirstOrDefault(m => m.Layer is Add);
        foreach (var m in members) if (ElementwiseActivation(m.Layer) is { } f) activation = f;
        // The chain's own input comes first; a residual add's other operand second; the excitation that scales the input last.
        var excitation = scaledBy.GetValueOrDefault(members[0]);
        var chainInput = members[0].Inputs.First(i => i != excitation);
        var residual = add?.Inputs.First(i => !members.Contains(i));
        Node[] inputs = [chainInput, .. residual is null ? [] : new[] { residual }, .. excitation is null ? [] : new[] { excitation }];
        var firstShapes = new[] { zeroPadding is null ? shapeOf(chainInput) : zeroPadding.ComputeOutputShape([shapeOf(chainInput)]) };
        var padding = zeroPadding?.Padding;

        var owned = new List<Tensor>();
        var (kernel, bias) = FoldedWeights(first.Layer, bn, owned);
        OpDescriptor op = first.Layer switch
        {
            Conv2D conv => WithPadding((Conv2DOp)conv.CreateOp(firstShapes), padding) with
            {
                UseBias = true, Activation = activation, AddsResidual = residual is not null, ScalesInputChannels = excitation is not null,
            },
            DepthwiseConv2D depthwise => WithPadding((DepthwiseConv2DOp)depthwise.CreateOp(firstShapes), padding) with { UseBias = true, Activation = activation },
            _ => throw new InvalidOperationException($"{first.Name}: not a convolution."),
        };
        return new Group(members[^1], members, inputs, op, [kernel, bias], owned);
    }

    /// <summary>One affine map for a chain of them: <c>(x·a₁ + b₁)·a₂ + b₂ = x·(a₁a₂) + (b₁a₂ + b₂)</c>, composed in float64.</summary>
    private static Group ComposedAffine(List<Node> members, Func<Node, TensorShape> shapeOf)
    {
        var shape = shapeOf(members[0].Inputs[0]);
        var scale = Enumerable.Repeat(1.0, shape.Channels).ToArray();
        var shift = new double[shape.Channels];
        var activation = ActivationFunction.Linear;
        foreach (var member in members)
        {
            if (ElementwiseActivation(member.Layer) is { } f)
            {
                activation = f;
                continue;
            }
            var op = (ChannelAffineOp)member.Layer.CreateOp([shape]);
            for (int c = 0; c < scale.Length; c++)
            {
                scale[c] *= op.Scale[c];
                shift[c] = shift[c] * op.Scale[c] + op.Shift[c];
            }
        }
        var composed = new ChannelAffineOp(scale.Select(v => (float)v).ToArray(), shift.Select(v => (float)v).ToArray(), activation);
        return new Group(members[^1], members, [members[0].Inputs[0]], composed, [], []);
    }

    private static Conv2DOp WithPadding(Conv2DOp op, Padding2D? padding) => padding is { } p ? op with { Padding = p } : op;

    private static DepthwiseConv2DOp WithPadding(DepthwiseConv2DOp op, Padding2D? padding) => padding is { } p ? op with { Padding = p } : op;

    /// <summary>The convolution's kernel and bias with the BatchNormalization folded in (new tensors the plan owns).</summary>
    private static (Tensor Kernel, Tensor Bias) FoldedWeights(Layer conv, BatchNormalization? bn, List<Tensor> owned)
    {
        var kernel = conv.Weights[0].Value;
        bool useBias = conv is Conv2D c ? c.UseBias : ((DepthwiseConv2D)conv).UseBias;
        var bias = useBias ? conv.GetWeight("bias").Value.Span : default;
        var foldedKernel = new Tensor(kernel.Shape);
        int channels = conv is Conv2D ? kernel.Shape[3] : kernel.Shape[2] * kernel.Shape[3];
        var foldedBias = new Tensor(new TensorShape(channels));
        owned.Add(foldedKernel);
        owned.Add(foldedBias);
        if (bn is null)
        {
            kernel.Span.CopyTo(foldedKernel.Span);
            if (useBias) bias.CopyTo(foldedBias.Span);
            return (foldedKernel, foldedBias);
        }
        var affine = (ChannelAffineOp)bn.CreateOp([TensorShape.Nhwc(1, 1, 1, channels)]);
        if (conv is Conv2D) BatchNormalizationMath.FoldIntoConv2D(kernel.Span, bias, affine.Scale, affine.Shift, foldedKernel.Span, foldedBias.Span);
        else BatchNormalizationMath.FoldIntoDepthwiseConv2D(kernel.Span, bias, affine.Scale, affine.Shift, foldedKernel.Span, foldedBias.Span);
        return (foldedKernel, foldedBias);
    }
}
