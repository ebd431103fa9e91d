using System.Buffers.Binary;

namespace NativeCnn.Imaging;

/// <summary>
/// Baseline (SOF0) and 8-bit extended sequential Huffman (SOF1) JPEG with 1 (gray) or 3 (YCbCr or RGB) components,
/// any integral chroma subsampling, interleaved or not, with restart markers.
/// </summary>
/// <remarks>
/// Decoding follows libjpeg(-turbo)'s defaults, which PIL uses: the integer "islow" IDCT (jidctint.c) with its
/// range-limit table, fancy (triangle-filter) upsampling for 2×1, 2×2 and 1×2 subsampling (jdsample.c; plain
/// replication for other ratios and for chroma 2 samples wide or less, as libjpeg does), and jdcolor.c's
/// fixed-point YCbCr→RGB. The color transform is chosen as libjpeg does: JFIF means YCbCr, else an Adobe
/// APP14 transform flag, else component ids 'R','G','B' mean RGB. Progressive, lossless, hierarchical and
/// arithmetic-coded files, 12-bit samples and CMYK/YCCK throw <see cref="NotSupportedException"/> naming the feature.
/// </remarks>
internal ref struct JpegDecoder
{
    private const string Format = "JPEG";

    private readonly ReadOnlySpan<byte> _data;
    private readonly ushort[]?[] _quantTables = new ushort[4][];
    private readonly JpegHuffmanTable?[] _dcTables = new JpegHuffmanTable[4];
    private readonly JpegHuffmanTable?[] _acTables = new JpegHuffmanTable[4];
    private readonly short[] _block = new short[64];
    private readonly int[] _workspace = new int[64];
    private Component[]? _components;
    private int _width, _height, _maxH, _maxV, _mcusX, _mcusY, _restartInterval, _adobeTransform = -1;
    private bool _jfif;

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
    }

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
                        if (c.Plane.Length == 0) throw ImageFormatErrors.Corrupt(Format, markerAt, $"EOI before any scan of component {c.Id}");
                    return Output();
                case 0xC0 or 0xC1:
                    if (_components is not null) throw ImageFormatErrors.Corrupt(Format, markerAt, "second SOF marker");
                    ParseFrame(Segment(ref pos), pos);
                    break;
                case 0xC2: throw ImageFormatErrors.Unsupported(Format, "progressive JPEG (SOF2)");
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
                    int headerOffset = markerAt + 4;
                    var scanComponents = ParseScanHeader(Segment(ref pos), headerOffset);
                    pos = DecodeScan(scanComponents, pos);
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

    private readonly Component[] ParseScanHeader(ReadOnlySpan<byte> body, int offset)
    {
        if (body.Length < 1) throw ImageFormatErrors.Corrupt(Format, offset, "SOS segment too short");
        int count = body[0];
        if (count < 1 || count > _components!.Length || body.Length != 4 + 2 * count)
            throw ImageFormatErrors.Corrupt(Format, offset, $"SOS with {count} components does not fit the frame or its length");
        var scan = new Component[count];
        for (int i = 0; i < count; i++)
        {
            int id = body[1 + 2 * i], tables = body[2 + 2 * i];
            var c = Array.Find(_components, x => x.Id == id)
                ?? throw ImageFormatErrors.Corrupt(Format, offset + 1 + 2 * i, $"scan names unknown component {id}");
            c.DcIndex = tables >> 4;
            c.AcIndex = tables & 15;
            if (c.DcIndex > 3 || c.AcIndex > 3 || _dcTables[c.DcIndex] is null || _acTables[c.AcIndex] is null)
                throw ImageFormatErrors.Corrupt(Format, offset + 2 + 2 * i, $"component {id} uses an undefined Huffman table");
            c.Quant = _quantTables[c.QuantIndex]
                ?? throw ImageFormatErrors.Corrupt(Format, offset + 2 + 2 * i, $"component {id} uses undefined quantization table {c.QuantIndex}");
            scan[i] = c;
        }
        int ss = body[1 + 2 * count], se = body[2 + 2 * count], approximation = body[3 + 2 * count];
        if (ss != 0 || se != 63 || approximation != 0)
            throw ImageFormatErrors.Corrupt(Format, offset + 1 + 2 * count, $"spectral selection {ss}..{se} / approximation {approximation} in a sequential scan");
        return scan;
    }

    /// <summary>Decodes one scan's entropy-coded data from <paramref name="start"/>; returns the offset of the marker after it.</summary>
    private int DecodeScan(Component[] scan, int start)
    {
        // Every block costs at least 2 bits (a DC code and an end-of-block code), so a scan that cannot fit in the
        // remaining data is refused before its component planes are allocated.
        long blocks = 0;
        foreach (var c in scan)
            blocks += scan.Length == 1 ? (long)((c.Width + 7) / 8) * ((c.Height + 7) / 8) : (long)_mcusX * _mcusY * c.H * c.V;
        if (blocks * 2 > (_data.Length - (long)start) * 8)
            throw ImageFormatErrors.Corrupt(Format, start, $"truncated: {blocks} blocks cannot fit in the {_data.Length - start} bytes left");
        foreach (var c in scan)
            if (c.Plane.Length == 0) c.Plane = new byte[c.Stride * c.BlocksPerColumn * 8];
        _pos = start;
        ResetBits();
        foreach (var c in scan) c.DcPredictor = 0;
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
                DecodeBlock(c, mcu / blocksX, mcu % blocksX);
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
                            DecodeBlock(c, mcuY * c.V + v, mcuX * c.H + h);
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

    /// <summary>Byte-aligns at a restart boundary: the next marker must be the expected RSTn; DC predictions restart at 0.</summary>
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
