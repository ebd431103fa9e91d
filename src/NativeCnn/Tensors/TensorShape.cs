using System.Text;

namespace NativeCnn.Tensors;

/// <summary>
/// The shape of a float32 tensor, rank 1 to 4, row-major. Rank-4 shapes are NHWC, as in Keras:
/// <c>(batch, height, width, channels)</c>; rank-2 shapes are <c>(batch, features)</c>.
/// </summary>
/// <remarks>Dimensions are stored inline, so a shape never allocates.</remarks>
public readonly struct TensorShape : IEquatable<TensorShape>
{
    /// <summary>The largest rank a shape can have.</summary>
    public const int MaxRank = 4;

    private readonly int _d0, _d1, _d2, _d3;

    /// <summary>Creates a shape from its dimensions.</summary>
    /// <exception cref="ArgumentException">The rank is 0 or above <see cref="MaxRank"/>, or the element count overflows 64 bits.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public TensorShape(params ReadOnlySpan<int> dimensions)
    {
        if (dimensions.Length is 0 or > MaxRank)
            throw new ArgumentException($"A tensor shape has rank 1 to {MaxRank}, got rank {dimensions.Length}.", nameof(dimensions));
        for (int i = 0; i < dimensions.Length; i++)
        {
            if (dimensions[i] < 0)
                throw new ArgumentOutOfRangeException(nameof(dimensions), $"Dimension {i} is negative ({dimensions[i]}) in {Format(dimensions)}.");
        }
        // A wrapped product would let a tensor allocate nothing for a huge shape (a zero dimension makes any product 0).
        if (!dimensions.Contains(0))
        {
            long count = 1;
            foreach (int d in dimensions)
            {
                if (count > long.MaxValue / d)
                    throw new ArgumentException($"The element count of {Format(dimensions)} does not fit in 64 bits.", nameof(dimensions));
                count *= d;
            }
        }
        Rank = dimensions.Length;
        _d0 = dimensions[0];
        _d1 = Rank > 1 ? dimensions[1] : 0;
        _d2 = Rank > 2 ? dimensions[2] : 0;
        _d3 = Rank > 3 ? dimensions[3] : 0;
    }

    /// <summary>Creates an NHWC shape <c>(batch, height, width, channels)</c>.</summary>
    public static TensorShape Nhwc(int batch, int height, int width, int channels) => new(batch, height, width, channels);

    /// <summary>The number of dimensions (0 for <c>default</c>).</summary>
    public int Rank { get; }

    /// <summary>The size of dimension <paramref name="axis"/>; a negative axis counts from the end, as in NumPy.</summary>
    public int this[int axis]
    {
        get
        {
            int a = axis < 0 ? axis + Rank : axis;
            if ((uint)a >= (uint)Rank)
                throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for shape {this}.");
            return a switch { 0 => _d0, 1 => _d1, 2 => _d2, _ => _d3 };
        }
    }

    /// <summary>The number of elements: the product of all dimensions.</summary>
    public long ElementCount
    {
        get
        {
            if (Rank == 0) return 0;
            long n = 1;
            for (int i = 0; i < Rank; i++) n *= this[i];
            return n;
        }
    }

    /// <summary>The first dimension (the batch size in NHWC and in <c>(batch, features)</c>).</summary>
    public int Batch => this[0];

    /// <summary>NHWC height (rank 4 only).</summary>
    public int Height => RequireRank4()._d1;

    /// <summary>NHWC width (rank 4 only).</summary>
    public int Width => RequireRank4()._d2;

    /// <summary>The last dimension: channels in NHWC, features in <c>(batch, features)</c>.</summary>
    public int Channels => this[Rank - 1];

    /// <summary>Copies the dimensions into a new array (for display and interop, not for hot paths).</summary>
    public int[] ToArray()
    {
        var dims = new int[Rank];
        for (int i = 0; i < Rank; i++) dims[i] = this[i];
        return dims;
    }

    /// <summary>Returns this shape with the first (batch) dimension replaced.</summary>
    /// <exception cref="InvalidOperationException">The shape is the default (rank 0) shape.</exception>
    public TensorShape WithBatch(int batch)
    {
        if (Rank == 0) throw new InvalidOperationException("The default (rank 0) shape has no batch dimension.");
        Span<int> dims = stackalloc int[Rank];
        for (int i = 0; i < Rank; i++) dims[i] = this[i];
        dims[0] = batch;
        return new TensorShape(dims);
    }

    private TensorShape RequireRank4() =>
        Rank == 4 ? this : throw new InvalidOperationException($"Shape {this} is not NHWC (rank 4).");

    /// <inheritdoc/>
    public bool Equals(TensorShape other) =>
        Rank == other.Rank && _d0 == other._d0 && _d1 == other._d1 && _d2 == other._d2 && _d3 == other._d3;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TensorShape other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Rank, _d0, _d1, _d2, _d3);

    /// <summary>Compares two shapes dimension by dimension.</summary>
    public static bool operator ==(TensorShape left, TensorShape right) => left.Equals(right);

    /// <summary>Compares two shapes dimension by dimension.</summary>
    public static bool operator !=(TensorShape left, TensorShape right) => !left.Equals(right);

    /// <summary>Formats as a Python tuple, like Keras: <c>(1, 112, 112, 32)</c>.</summary>
    public override string ToString() => Format(ToArray());

    /// <summary>Formats as Keras does in a summary, with the batch dimension shown as <c>None</c>.</summary>
    public string ToKerasString()
    {
        var sb = new StringBuilder("(None");
        for (int i = 1; i < Rank; i++) sb.Append(", ").Append(this[i]);
        return sb.Append(Rank == 1 ? ",)" : ")").ToString();
    }

    private static string Format(ReadOnlySpan<int> dims)
    {
        var sb = new StringBuilder("(");
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(dims[i]);
        }
        return sb.Append(dims.Length == 1 ? ",)" : ")").ToString();
    }
}
