using System.Buffers.Binary;
using System.Numerics;

namespace NativeCnn.Imaging;

/// <summary>
/// Baseline (SOF0), 8-bit extended sequential Huffman (SOF1) and progressive Huffman (SOF2) JPEG with 1 (gray) or
/// 3 (YCbCr or RGB) components, any integral chroma subsampling, interleaved or not, with restart markers.
/// </summary>
/// <remarks>
/// Decoding follows libjpeg(-turbo)'s defaults, which PIL uses: the integer "islow" IDCT (jidctint.c) with its
/// range-limit table, fancy (triangle-filter) upsampling for 2×1, 2×2 and 1×2 subsampling (jdsample.c; plain
/// replication for other ratios and for chroma 2 samples wide or less, as libjpeg does), and jdcolor.c's
/// fixed-point YCbCr→RGB. The color transform is chosen as libjpeg does: JFIF means YCbCr, else an Adobe
/// APP14 transform flag, else component ids 'R','G','B' mean RGB. Lossless, hierarchical and
/// arithmetic-coded files, 12-bit samples and CMYK/YCCK throw <see cref="NotSupportedException"/> naming the feature.
/// <para>
/// Progressive scans follow jdphuff.c (spectral selection, successive approximation, EOB runs, correction bits) into a
/// coefficient buffer for the whole image, which then goes through the same IDCT, upsampling and colour path. The
/// buffer is refused above <see cref="ImageDecoder.MaxJpegCoefficientBytes"/>, and a file above
/// <see cref="MaxProgressiveScans"/> scans is refused, since each scan can revisit every block for a few bytes of data.
/// A file whose scans leave coefficients 1..9 of a component not fully refined is decoded as it stands, where libjpeg
/// would apply its block smoothing (jdcoefct.c); the usual scan scripts (libjpeg's, so PIL's and jpegtran's) refine
/// every coefficient.
/// </para>
/// </remarks>
internal ref struct JpegDecoder
{
    private const string Format = "JPEG";

    /// <summary>
    /// The most scans a progressive file may have: libjpeg's default script has 10 (6 for gray), and every scan can
    /// revisit every block of a component, so a limit bounds the decoding time of a small hostile file.
    /// </summary>
    internal const int MaxProgressiveScans = 256;

    private readonly ReadOnlySpan<byte> _data;
    private readonly ushort[]?[] _quantTables = new ushort[4][];
    private readonly JpegHuffmanTable?[] _dcTables = new JpegHuffmanTable[4];
    private readonly JpegHuffmanTable?[] _acTables = new JpegHuffmanTable[4];
    private readonly short[] _block = new short[64];
    private readonly int[] _workspace = new int[64];
    private Component[]? _components;
    private int _width, _height, _maxH, _maxV, _mcusX, _mcusY, _restartInterval, _adobeTransform = -1, _scanCount;
    private bool _jfif, _progressive;

    // Progressive AC scans: the number of blocks left in the current end-of-band run (jdphuff.c's EOBRUN).
    private int _eobRun;

    // Entropy-coded data is read through a left-aligned 64-bit buffer. Past a marker or the end of the data,
    // zero bytes are appended (as libjpeg does) and counted, so consuming any of them is detected as corruption.
    private int _pos;
    private ulong _bits;
    private int _bitCount, _fakeBits;
    private int _markerOffset = -1;

    private JpegDecoder(ReadOnlySpan<byte> data) => _data = data;

    private sealed class Component
    {
        public int Id, H, V, QuantIndex, DcIndex, AcIndex, DcPredictor;
        public int BlocksPerLine, BlocksPerColumn, Stride, Width, Height;
        public byte[] Plane = [];
        public ushort[] Quant = [];

        /// <summary>Progressive files only: 64 coefficients per block in zig-zag order, blocks row-major.</summary>
        public short[] Coefficients = [];

        /// <summary>
        /// Progressive files only: per block, bit k set where zig-zag coefficient k (k ≥ 1) is nonzero, so a block in a
        /// refinement's end-of-band run costs its nonzero coefficients (each reads a bit of data), not its band.
        /// </summary>
        public ulong[] NonzeroMasks = [];
    }

    /// <summary>A scan header: its components, spectral band <c>Ss..Se</c> and successive approximation bits <c>Ah</c>, <c>Al</c>.</summary>
    private readonly record struct Scan(Component[] Components, int SpectralStart, int SpectralEnd, int ApproximationHigh,
        int ApproximationLow, int Offset);

    public static RgbImage Decode(ReadOnlySpan<byte> data) => new JpegDecoder(data).Run();

    private RgbImage Run()
    {
        int pos = 2;
        bool scanned = false;
        while (true)
        {
            int markerAt = pos;
            int marker = ReadMarker(ref pos);
            switch (marker)
            {
                case 0xD9:
                    if (!scanned) throw ImageFormatErrors.Corrupt(Format, markerAt, "EOI before any scan");
                    foreach (var c in _components!)
                        if (c.Plane.Length == 0 && c.Coefficients.Length == 0)
                            throw ImageFormatErrors.Corrupt(Format, markerAt, $"EOI before any scan of component {c.Id}");
                    if (_progressive) InverseTransformCoefficients();
                    return Output();
                case 0xC0 or 0xC1 or 0xC2:
                    if (_components is not null) throw ImageFormatErrors.Corrupt(Format, markerAt, "second SOF marker");
                    _progressive = marker == 0xC2;
                    ParseFrame(Segment(ref pos), pos);
                    break;
                case 0xC3: throw ImageFormatErrors.Unsupported(Format, "lossless JPEG (SOF3)");
                case 0xC5 or 0xC6 or 0xC7: throw ImageFormatErrors.Unsupported(Format, $"hierarchical JPEG (SOF{marker - 0xC0})");
                case 0xC9 or 0xCA or 0xCB or 0xCD or 0xCE or 0xCF:
                    throw ImageFormatErrors.Unsupported(Format, $"arithmetic-coded JPEG (SOF{marker - 0xC0})");
                case 0xCC: throw ImageFormatErrors.Unsupported(Format, "arithmetic coding (DAC)");
                case 0xDC: throw ImageFormatErrors.Unsupported(Format, "height defined by DNL");
                case 0xC4:
                    ParseHuffmanTables(Segment(ref pos), markerAt + 4);
                    break;
                case 0xDB:
                    ParseQuantTables(Segment(ref pos), markerAt + 4);
                    break;
                case 0xDD:
                {
                    var body = Segment(ref pos);
                    if (body.Length != 2) throw ImageFormatErrors.Corrupt(Format, markerAt, "DRI segment is not 2 bytes");
                    _restartInterval = BinaryPrimitives.ReadUInt16BigEndian(body);
                    break;
                }
                case 0xE0:
                    _jfif |= Segment(ref pos).StartsWith("JFIF\0"u8);
                    break;
                case 0xEE:
                {
                    var body = Segment(ref pos);
                    if (body.Length >= 12 && body.StartsWith("Adobe"u8)) _adobeTransform = body[11];
                    break;
                }
                case 0xDA:
                {
                    if (_components is null) throw ImageFormatErrors.Corrupt(Format, markerAt, "SOS before SOF");
                    if (_progressive && ++_scanCount > MaxProgressiveScans)
                        throw ImageFormatErrors.Corrupt(Format, markerAt, $"more than {MaxProgressiveScans} progressive scans");
                    var scan = ParseScanHeader(Segment(ref pos), markerAt + 4);
                    pos = DecodeScan(scan, pos);
                    scanned = true;
                    break;
                }
                case >= 0xD0 and <= 0xD7:
                    throw ImageFormatErrors.Corrupt(Format, markerAt, $"RST{marker - 0xD0} marker outside entropy-coded data");
                case 0xD8:
                    throw ImageFormatErrors.Corrupt(Format, markerAt, "second SOI marker");
                default:
                    // APPn, COM and anything else with a length: skipped.
                    Segment(ref pos);
                    break;
            }
        }
    }

    /// <summary>Reads the marker at or after <paramref name="pos"/>, skipping 0xFF fill bytes, and returns its code.</summary>
    private readonly int ReadMarker(scoped ref int pos)
    {
        // Bytes before the 0xFF are skipped, as libjpeg's next_marker does (with a warning) for sloppy encoders.
        while (pos < _data.Length && _data[pos] != 0xFF) pos++;
        if (pos >= _data.Length) throw ImageFormatErrors.Corrupt(Format, pos, "truncated: marker expected (no EOI)");
        while (pos < _data.Length && _data[pos] == 0xFF) pos++;
        if (pos >= _data.Length) throw ImageFormatErrors.Corrupt(Format, pos, "truncated inside a marker");
        if (_data[pos] == 0) throw ImageFormatErrors.Corrupt(Format, pos - 1, "stuffed 0xFF00 outside entropy-coded data");
        return _data[pos++];
    }

    /// <summary>The body of a length-prefixed segment starting at <paramref name="pos"/>, which is moved past it.</summary>
    private readonly ReadOnlySpan<byte> Segment(scoped ref int pos)
    {
        if (_data.Length - pos < 2) throw ImageFormatErrors.Corrupt(Format, pos, "truncated segment length");
        int length = BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(pos));
        if (length < 2 || length > _data.Length - pos)
            throw ImageFormatErrors.Corrupt(Format, pos, $"segment length {length} runs past the end of the data");
        var body = _data.Slice(pos + 2, length - 2);
        pos += length;
        return body;
    }

    private void ParseFrame(ReadOnlySpan<byte> body, int end)
    {
        int offset = end - body.Length;
        if (body.Length < 6) throw ImageFormatErrors.Corrupt(Format, offset, "SOF segment too short");
        if (body[0] != 8) throw ImageFormatErrors.Unsupported(Format, $"{body[0]}-bit samples (only 8-bit)");
        _height = BinaryPrimitives.ReadUInt16BigEndian(body.Slice(1));
        _width = BinaryPrimitives.ReadUInt16BigEndian(body.Slice(3));
        int count = body[5];
        if (_height == 0) throw ImageFormatErrors.Unsupported(Format, "height defined by DNL");
        ImageFormatErrors.CheckSize(Format, offset + 1, _width, _height);
        if (count == 4) throw ImageFormatErrors.Unsupported(Format, "CMYK/YCCK (4-component) JPEG");
        if (count is not (1 or 3)) throw ImageFormatErrors.Unsupported(Format, $"{count}-component JPEG");
        if (body.Length != 6 + 3 * count) throw ImageFormatErrors.Corrupt(Format, offset, "SOF length does not match its component count");
        var components = new Component[count];
        for (int i = 0; i < count; i++)
        {
            var c = body.Slice(6 + 3 * i, 3);
            int h = c[1] >> 4, v = c[1] & 15;
            if (h is < 1 or > 4 || v is < 1 or > 4) throw ImageFormatErrors.Corrupt(Format, offset + 7 + 3 * i, $"sampling factors {h}x{v} outside 1..4");
            if (c[2] > 3) throw ImageFormatErrors.Corrupt(Format, offset + 8 + 3 * i, $"quantization table {c[2]} outside 0..3");
            components[i] = new Component { Id = c[0], H = h, V = v, QuantIndex = c[2] };
            _maxH = Math.Max(_maxH, h);
            _maxV = Math.Max(_maxV, v);
        }
        _mcusX = (_width + 8 * _maxH - 1) / (8 * _maxH);
        _mcusY = (_height + 8 * _maxV - 1) / (8 * _maxV);
        foreach (var c in components)
        {
            if (_maxH % c.H != 0 || _maxV % c.V != 0)
                throw ImageFormatErrors.Unsupported(Format, $"fractional subsampling ({c.H}x{c.V} against {_maxH}x{_maxV})");
            c.Width = (_width * c.H + _maxH - 1) / _maxH;
            c.Height = (_height * c.V + _maxV - 1) / _maxV;
            c.BlocksPerLine = _mcusX * c.H;
            c.BlocksPerColumn = _mcusY * c.V;
            c.Stride = c.BlocksPerLine * 8;
        }
        if (_progressive)
        {
            long coefficientBytes = components.Sum(c => (long)c.BlocksPerLine * c.BlocksPerColumn * 64 * sizeof(short));
            if (coefficientBytes > ImageDecoder.MaxJpegCoefficientBytes)
                throw ImageFormatErrors.Corrupt(Format, offset + 1, $"a progressive {_width}x{_height} image needs {coefficientBytes} bytes of " +
                    $"coefficients, more than the {ImageDecoder.MaxJpegCoefficientBytes} allowed");
        }
        _components = components;
    }

    private readonly void ParseQuantTables(ReadOnlySpan<byte> body, int offset)
    {
        int p = 0;
        while (p < body.Length)
        {
            int precision = body[p] >> 4, index = body[p] & 15;
            if (precision > 1 || index > 3) throw ImageFormatErrors.Corrupt(Format, offset + p, $"DQT precision {precision} or index {index} invalid");
            int size = precision == 0 ? 64 : 128;
            if (body.Length - p - 1 < size) throw ImageFormatErrors.Corrupt(Format, offset + p, "DQT segment too short");
            var table = new ushort[64];
            for (int k = 0; k < 64; k++)
                table[ZigZag[k]] = precision == 0 ? body[p + 1 + k] : BinaryPrimitives.ReadUInt16BigEndian(body.Slice(p + 1 + 2 * k));
            _quantTables[index] = table;
            p += 1 + size;
        }
    }

    private readonly void ParseHuffmanTables(ReadOnlySpan<byte> body, int offset)
    {
        int p = 0;
        while (p < body.Length)
        {
            int tableClass = body[p] >> 4, index = body[p] & 15;
            if (tableClass > 1 || index > 3) throw ImageFormatErrors.Corrupt(Format, offset + p, $"DHT class {tableClass} or index {index} invalid");
            if (body.Length - p < 17) throw ImageFormatErrors.Corrupt(Format, offset + p, "DHT segment too short");
            var counts = body.Slice(p + 1, 16);
            int total = 0;
            foreach (byte n in counts) total += n;
            if (total > 256 || body.Length - p - 17 < total) throw ImageFormatErrors.Corrupt(Format, offset + p, $"DHT declares {total} symbols");
            var table = new JpegHuffmanTable(counts, body.Slice(p + 17, total), offset + p);
            (tableClass == 0 ? _dcTables : _acTables)[index] = table;
            p += 17 + total;
        }
    }

    private readonly Scan ParseScanHeader(ReadOnlySpan<byte> body, int offset)
    {
        if (body.Length < 1) throw ImageFormatErrors.Corrupt(Format, offset, "SOS segment too short");
        int count = body[0];
        if (count < 1 || count > _components!.Length || body.Length != 4 + 2 * count)
            throw ImageFormatErrors.Corrupt(Format, offset, $"SOS with {count} components does not fit the frame or its length");
        int ss = body[1 + 2 * count], se = body[2 + 2 * count], ah = body[3 + 2 * count] >> 4, al = body[3 + 2 * count] & 15;
        int selectionOffset = offset + 1 + 2 * count;
        if (!_progressive && (ss != 0 || se != 63 || ah != 0 || al != 0))
            throw ImageFormatErrors.Corrupt(Format, selectionOffset, $"spectral selection {ss}..{se} / approximation {body[3 + 2 * count]} in a sequential scan");
        // jdphuff.c's JERR_BAD_PROGRESSION checks: DC alone, AC bands of one component, one bit refined at a time.
        bool badBand = ss == 0 ? se != 0 : se < ss || se > 63 || count != 1;
        if (_progressive && (badBand || ah != 0 && al != ah - 1 || al > 13))
            throw ImageFormatErrors.Corrupt(Format, selectionOffset, $"invalid progressive scan: spectral selection {ss}..{se}, approximation {ah}/{al}, {count} components");
        // A DC refinement reads no Huffman codes, and progressive DC and AC scans each use one kind of table.
        bool usesDc = !_progressive || ss == 0 && ah == 0, usesAc = !_progressive || ss > 0;
        var components = new Component[count];
        for (int i = 0; i < count; i++)
        {
            int id = body[1 + 2 * i], tables = body[2 + 2 * i];
            var c = Array.Find(_components, x => x.Id == id)
                ?? throw ImageFormatErrors.Corrupt(Format, offset + 1 + 2 * i, $"scan names unknown component {id}");
            // Spec G.1.1.1.1: a component's first progressive scan is a DC first scan, which allocates its coefficients.
            if (_progressive && !(ss == 0 && ah == 0) && c.Coefficients.Length == 0)
                throw ImageFormatErrors.Corrupt(Format, offset + 1 + 2 * i, $"component {id} has a refinement or AC scan before its first DC scan");
            c.DcIndex = tables >> 4;
            c.AcIndex = tables & 15;
            if (c.DcIndex > 3 || c.AcIndex > 3 || usesDc && _dcTables[c.DcIndex] is null || usesAc && _acTables[c.AcIndex] is null)
                throw ImageFormatErrors.Corrupt(Format, offset + 2 + 2 * i, $"component {id} uses an undefined Huffman table");
            // libjpeg latches a component's quantization table at its first scan (jdinput.c latch_quant_tables).
            if (c.Quant.Length == 0)
                c.Quant = _quantTables[c.QuantIndex]
                    ?? throw ImageFormatErrors.Corrupt(Format, offset + 2 + 2 * i, $"component {id} uses undefined quantization table {c.QuantIndex}");
            components[i] = c;
        }
        return new Scan(components, ss, se, ah, al, offset);
    }

    /// <summary>Decodes one scan's entropy-coded data from <paramref name="start"/>; returns the offset of the marker after it.</summary>
    private int DecodeScan(in Scan header, int start)
    {
        var scan = header.Components;
        if (!_progressive || header.SpectralStart == 0 && header.ApproximationHigh == 0)
        {
            // Every block costs at least 2 bits in a sequential scan (a DC code and an end-of-block code) and 1 bit in
            // a progressive DC first scan, so a scan that cannot fit in the remaining data is refused before its
            // component planes or coefficients are allocated.
            long blocks = 0;
            foreach (var c in scan)
                blocks += scan.Length == 1 ? (long)((c.Width + 7) / 8) * ((c.Height + 7) / 8) : (long)_mcusX * _mcusY * c.H * c.V;
            if (blocks * (_progressive ? 1 : 2) > (_data.Length - (long)start) * 8)
                throw ImageFormatErrors.Corrupt(Format, start, $"truncated: {blocks} blocks cannot fit in the {_data.Length - start} bytes left");
            foreach (var c in scan)
            {
                if (_progressive && c.Coefficients.Length == 0)
                {
                    c.Coefficients = new short[c.BlocksPerLine * c.BlocksPerColumn * 64];
                    c.NonzeroMasks = new ulong[c.BlocksPerLine * c.BlocksPerColumn];
                }
                else if (!_progressive && c.Plane.Length == 0) c.Plane = new byte[c.Stride * c.BlocksPerColumn * 8];
            }
        }
        _pos = start;
        ResetBits();
        foreach (var c in scan) c.DcPredictor = 0;
        _eobRun = 0;
        int restartIndex = 0;
        if (scan.Length == 1)
        {
            // A non-interleaved scan codes only the blocks that cover the component, one block per MCU.
            var c = scan[0];
            int blocksX = (c.Width + 7) / 8, blocksY = (c.Height + 7) / 8;
            int total = blocksX * blocksY;
            for (int mcu = 0; mcu < total; mcu++)
            {
                if (_restartInterval > 0 && mcu > 0 && mcu % _restartInterval == 0) Restart(scan, ref restartIndex);
                if (_progressive) DecodeProgressiveBlock(c, mcu / blocksX, mcu % blocksX, header);
                else DecodeBlock(c, mcu / blocksX, mcu % blocksX);
            }
        }
        else
        {
            int total = _mcusX * _mcusY;
            for (int mcu = 0; mcu < total; mcu++)
            {
                if (_restartInterval > 0 && mcu > 0 && mcu % _restartInterval == 0) Restart(scan, ref restartIndex);
                int mcuY = mcu / _mcusX, mcuX = mcu % _mcusX;
                foreach (var c in scan)
                    for (int v = 0; v < c.V; v++)
                        for (int h = 0; h < c.H; h++)
                            if (_progressive) DecodeProgressiveBlock(c, mcuY * c.V + v, mcuX * c.H + h, header);
                            else DecodeBlock(c, mcuY * c.V + v, mcuX * c.H + h);
            }
        }
        return FindMarker();
    }

    private void ResetBits()
    {
        _bits = 0;
        _bitCount = 0;
        _fakeBits = 0;
        _markerOffset = -1;
    }

    /// <summary>The offset of the next marker: where the bit reader stopped, or the first one after the bytes it has read.</summary>
    private readonly int FindMarker()
    {
        if (_markerOffset >= 0) return _markerOffset;
        for (int p = _pos; p + 1 < _data.Length; p++)
            if (_data[p] == 0xFF && _data[p + 1] is not (0x00 or 0xFF)) return p;
        return _data.Length;
    }

    /// <summary>Byte-aligns at a restart boundary: the next marker must be the expected RSTn; DC predictions and EOB runs restart at 0.</summary>
    private void Restart(Component[] scan, ref int restartIndex)
    {
        int at = FindMarker();
        int expected = 0xD0 + (restartIndex & 7);
        if (at + 1 >= _data.Length || _data[at + 1] != expected)
            throw ImageFormatErrors.Corrupt(Format, at, $"expected restart marker RST{restartIndex & 7}");
        restartIndex++;
        _pos = at + 2;
        ResetBits();
        foreach (var c in scan) c.DcPredictor = 0;
        _eobRun = 0;
    }

    private void Fill()
    {
        while (_bitCount <= 56)
        {
            int b = 0;
            if (_markerOffset >= 0)
            {
                _fakeBits += 8;
            }
            else if (_pos >= _data.Length)
            {
                _markerOffset = _pos;
                continue;
            }
            else
            {
                b = _data[_pos];
                if (b == 0xFF)
                {
                    int p = _pos + 1;
                    while (p < _data.Length && _data[p] == 0xFF) p++;
                    if (p < _data.Length && _data[p] == 0)
                    {
                        _pos = p + 1;
                    }
                    else
                    {
                        _markerOffset = _pos;
                        continue;
                    }
                }
                else
                {
                    _pos++;
                }
            }
            _bits |= (ulong)b << (56 - _bitCount);
            _bitCount += 8;
        }
    }

    private void Consume(int n)
    {
        if (n > _bitCount - _fakeBits)
        {
            bool end = _markerOffset >= _data.Length;
            throw ImageFormatErrors.Corrupt(Format, _markerOffset,
                end ? "truncated entropy-coded data" : "entropy-coded data runs into a marker");
        }
        _bits <<= n;
        _bitCount -= n;
    }

    private int DecodeHuffman(JpegHuffmanTable table)
    {
        if (_bitCount < 16) Fill();
        int entry = table.Lookup[(int)(_bits >> (64 - JpegHuffmanTable.LookupBits))];
        if (entry != 0)
        {
            Consume(entry >> 8);
            return entry & 0xFF;
        }
        int code16 = (int)(_bits >> 48);
        for (int length = JpegHuffmanTable.LookupBits + 1; length <= 16; length++)
        {
            int code = code16 >> (16 - length);
            if (code <= table.MaxCode[length])
            {
                Consume(length);
                return table.Symbols[code + table.SymbolOffset[length]];
            }
        }
        throw ImageFormatErrors.Corrupt(Format, _pos, "invalid Huffman code");
    }

    /// <summary>Reads <paramref name="count"/> (1..16) bits as an unsigned number.</summary>
    private int ReadBits(int count)
    {
        if (_bitCount < count) Fill();
        int value = (int)(_bits >> (64 - count));
        Consume(count);
        return value;
    }

    /// <summary>Reads <paramref name="size"/> bits and sign-extends them as JPEG's EXTEND procedure (F.2.2.1).</summary>
    private int ReceiveExtend(int size)
    {
        if (size == 0) return 0;
        if (_bitCount < size) Fill();
        int value = (int)(_bits >> (64 - size));
        Consume(size);
        return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
    }

    private void DecodeBlock(Component c, int blockRow, int blockColumn)
    {
        var block = _block;
        Array.Clear(block);
        int dcSize = DecodeHuffman(_dcTables[c.DcIndex]!);
        if (dcSize > 16) throw ImageFormatErrors.Corrupt(Format, _pos, $"DC difference of {dcSize} bits");
        c.DcPredictor += ReceiveExtend(dcSize);
        block[0] = (short)c.DcPredictor;
        var ac = _acTables[c.AcIndex]!;
        for (int k = 1; k < 64; k++)
        {
            int rs = DecodeHuffman(ac);
            int run = rs >> 4, size = rs & 15;
            if (size == 0)
            {
                if (run != 15) break;
                k += 15;
                continue;
            }
            k += run;
            if (k > 63) throw ImageFormatErrors.Corrupt(Format, _pos, "AC coefficients run past the end of the block");
            block[ZigZag[k]] = (short)ReceiveExtend(size);
        }
        JpegIdct.InverseDctIslow(block, c.Quant, _workspace, c.Plane.AsSpan(blockRow * 8 * c.Stride + blockColumn * 8), c.Stride);
    }

    /// <summary>Decodes one block's part of a progressive scan into its coefficients, as jdphuff.c's four decode_mcu variants.</summary>
    private void DecodeProgressiveBlock(Component c, int blockRow, int blockColumn, in Scan scan)
    {
        int block = blockRow * c.BlocksPerLine + blockColumn;
        var coefficients = c.Coefficients.AsSpan(block * 64, 64);
        if (scan.SpectralStart > 0)
        {
            ref ulong nonzero = ref c.NonzeroMasks[block];
            var table = _acTables[c.AcIndex]!;
            if (scan.ApproximationHigh == 0) DecodeAcFirst(coefficients, ref nonzero, table, scan.SpectralStart, scan.SpectralEnd, scan.ApproximationLow);
            else DecodeAcRefinement(coefficients, ref nonzero, table, scan.SpectralStart, scan.SpectralEnd, scan.ApproximationLow);
        }
        else if (scan.ApproximationHigh == 0)
        {
            int dcSize = DecodeHuffman(_dcTables[c.DcIndex]!);
            if (dcSize > 16) throw ImageFormatErrors.Corrupt(Format, _pos, $"DC difference of {dcSize} bits");
            c.DcPredictor += ReceiveExtend(dcSize);
            coefficients[0] = (short)(c.DcPredictor << scan.ApproximationLow);
        }
        else if (ReadBits(1) != 0)
        {
            coefficients[0] |= (short)(1 << scan.ApproximationLow);
        }
    }

    /// <summary>An AC first scan (decode_mcu_AC_first): run/size codes scaled by 2^Al, or a share of an end-of-band run.</summary>
    private void DecodeAcFirst(Span<short> coefficients, ref ulong nonzero, JpegHuffmanTable table, int start, int end, int shift)
    {
        if (_eobRun > 0)
        {
            _eobRun--;
            return;
        }
        for (int k = start; k <= end; k++)
        {
            int rs = DecodeHuffman(table);
            int run = rs >> 4, size = rs & 15;
            if (size == 0)
            {
                if (run == 15)
                {
                    k += 15;
                    continue;
                }
                // EOBr: this block and 2^r - 1 + (r more bits) following ones end here.
                _eobRun = (1 << run) - 1;
                if (run > 0) _eobRun += ReadBits(run);
                return;
            }
            k += run;
            if (k > end) throw ImageFormatErrors.Corrupt(Format, _pos, $"AC coefficients run past the end of the spectral band {start}..{end}");
            short value = (short)(ReceiveExtend(size) << shift);
            coefficients[k] = value;
            nonzero = value != 0 ? nonzero | 1UL << k : nonzero & ~(1UL << k);
        }
    }

    /// <summary>
    /// An AC refinement scan (decode_mcu_AC_refine): each code places one newly nonzero coefficient of ±2^Al after
    /// skipping a run of zero ones, and every already nonzero coefficient passed on the way, or left in the band after
    /// an end-of-band, reads one correction bit.
    /// </summary>
    private void DecodeAcRefinement(Span<short> coefficients, ref ulong nonzero, JpegHuffmanTable table, int start, int end, int shift)
    {
        int plus = 1 << shift, minus = -1 << shift;
        int k = start;
        if (_eobRun == 0)
        {
            for (; k <= end; k++)
            {
                int rs = DecodeHuffman(table);
                int run = rs >> 4, size = rs & 15;
                int value = 0;
                if (size != 0)
                {
                    // Only size 1 is valid; libjpeg warns about others and reads the one sign bit all the same.
                    value = ReadBits(1) != 0 ? plus : minus;
                }
                else if (run != 15)
                {
                    _eobRun = 1 << run;
                    if (run > 0) _eobRun += ReadBits(run);
                    break;
                }
                // Skip `run` zero coefficients, refining the nonzero ones on the way, and stop on the next zero one.
                for (; k <= end; k++)
                {
                    ref short coefficient = ref coefficients[k];
                    if (coefficient != 0) Refine(ref coefficient, plus, minus);
                    else if (--run < 0) break;
                }
                if (value != 0)
                {
                    if (k > end) throw ImageFormatErrors.Corrupt(Format, _pos, $"AC refinement runs past the end of the spectral band {start}..{end}");
                    coefficients[k] = (short)value;
                    nonzero |= 1UL << k;
                }
            }
        }
        if (_eobRun > 0)
        {
            // Inside an end-of-band run only the nonzero coefficients left in the band read a bit, in order; a
            // refinement never makes a nonzero coefficient zero, so the mask stays exact.
            ulong rest = k > end ? 0 : nonzero & (ulong.MaxValue >> (63 - end)) & (ulong.MaxValue << k);
            for (; rest != 0; rest &= rest - 1) Refine(ref coefficients[BitOperations.TrailingZeroCount(rest)], plus, minus);
            _eobRun--;
        }
    }

    /// <summary>A correction bit: 1 adds 2^Al to the magnitude of a nonzero coefficient that does not have that bit yet.</summary>
    private void Refine(ref short coefficient, int plus, int minus)
    {
        if (ReadBits(1) != 0 && (coefficient & plus) == 0) coefficient = (short)(coefficient + (coefficient >= 0 ? plus : minus));
    }

    /// <summary>Progressive files: the IDCT of every block's final coefficients into the component planes.</summary>
    private readonly void InverseTransformCoefficients()
    {
        var block = _block;
        foreach (var c in _components!)
        {
            c.Plane = new byte[c.Stride * c.BlocksPerColumn * 8];
            var coefficients = c.Coefficients;
            for (int row = 0; row < c.BlocksPerColumn; row++)
                for (int column = 0; column < c.BlocksPerLine; column++)
                {
                    var zigZag = coefficients.AsSpan((row * c.BlocksPerLine + column) * 64, 64);
                    for (int k = 0; k < 64; k++) block[ZigZag[k]] = zigZag[k];
                    JpegIdct.InverseDctIslow(block, c.Quant, _workspace, c.Plane.AsSpan(row * 8 * c.Stride + column * 8), c.Stride);
                }
            c.Coefficients = [];
            c.NonzeroMasks = [];
        }
    }

    private readonly RgbImage Output()
    {
        var components = _components!;
        var image = new RgbImage(_width, _height);
        var rows = new byte[components.Length][];
        for (int i = 0; i < rows.Length; i++) rows[i] = new byte[_width];
        var columnSums = new int[components.Max(c => c.Width) + 2];
        bool rgb = components.Length == 3 && IsRgb(components);
        var pixels = image.Pixels;
        for (int y = 0; y < _height; y++)
        {
            for (int i = 0; i < components.Length; i++) JpegUpsampler.Row(components[i].Plane, components[i].Stride, components[i].Width,
                components[i].Height, _maxH / components[i].H, _maxV / components[i].V, y, rows[i], columnSums);
            int o = y * _width * 3;
            if (components.Length == 1)
            {
                var gray = rows[0];
                for (int x = 0; x < _width; x++, o += 3) pixels[o] = pixels[o + 1] = pixels[o + 2] = gray[x];
            }
            else if (rgb)
            {
                for (int x = 0; x < _width; x++, o += 3)
                {
                    pixels[o] = rows[0][x];
                    pixels[o + 1] = rows[1][x];
                    pixels[o + 2] = rows[2][x];
                }
            }
            else
            {
                JpegColor.YCbCrToRgb(rows[0], rows[1], rows[2], pixels.AsSpan(o, _width * 3));
            }
        }
        return image;
    }

    /// <summary>libjpeg's default_decompress_parms: JFIF means YCbCr; otherwise Adobe's transform flag; otherwise ids 'R','G','B'.</summary>
    private readonly bool IsRgb(Component[] components)
    {
        if (_jfif) return false;
        if (_adobeTransform >= 0) return _adobeTransform == 0;
        return components[0].Id == 'R' && components[1].Id == 'G' && components[2].Id == 'B';
    }

    /// <summary>Zig-zag position → natural (row-major) index within an 8×8 block.</summary>
    private static ReadOnlySpan<byte> ZigZag =>
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];
}
