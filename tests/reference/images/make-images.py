#!/usr/bin/python3
"""Writes the imaging test corpus and PIL's decodes and resizes of it into the directory given as argument.

Run by tests/NativeCnn.Tests/Imaging with Debian's PIL (apt-get install python3-pil python3-numpy).
PNG and PPM/PGM files come from the small writers below, so every color type, bit depth, filter and
interlace mode appears; baseline JPEGs come from PIL's encoder (libjpeg), and the JPEGs with restart
intervals from the minimal baseline encoder below (PIL cannot write restart markers).
Every expected result is PIL's own decode, Image.open(f).convert("RGB"), as Keras load_img uses.

manifest.txt, one case per line:
  decode <image file> <width> <height> <expected RGB file> <max abs diff allowed>
  resize <source RGB file> <width> <height> <nearest|bilinear> <out width> <out height> <expected RGB file>
"""
import io
import math
import struct
import sys
import zlib

import numpy as np
from PIL import Image

out = sys.argv[1]
rng = np.random.default_rng(20261123)
manifest = []


def photo(w, h, seed):
    """A smooth, photo-like RGB test image (gradients, a disc, mild noise) as uint8 HxWx3."""
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([
        255 * x / max(w - 1, 1),
        255 * y / max(h - 1, 1),
        128 + 100 * np.sin(x / 3.0) * np.cos(y / 4.0)], axis=-1)
    disc = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2
    img[disc] = [230, 40, 90]
    img += r.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def save_expected(name, rgb, tolerance, src):
    h, w = rgb.shape[:2]
    rgb_name = name + ".rgb"
    with open(f"{out}/{rgb_name}", "wb") as f:
        f.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
    manifest.append(f"decode {src} {w} {h} {rgb_name} {tolerance}")


def pil_rgb(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# ---------------------------------------------------------------- PNG
def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """Packs one row of integer samples (already interleaved) at the given bit depth, big-endian."""
    if depth == 16:
        return b"".join(struct.pack(">H", int(s)) for s in samples)
    if depth == 8:
        return bytes(int(s) for s in samples)
    bits = "".join(format(int(s), f"0{depth}b") for s in samples)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def filter_rows(rows, bpp, first_filter):
    """Applies filter (first_filter + row index) % 5 to each row, so every filter type appears."""
    outb = bytearray()
    prior = bytes(len(rows[0])) if rows else b""
    for i, row in enumerate(rows):
        ft = (first_filter + i) % 5
        res = bytearray()
        for j, v in enumerate(row):
            a = row[j - bpp] if j >= bpp else 0
            b = prior[j]
            c = prior[j - bpp] if j >= bpp else 0
            if ft == 0: p = 0
            elif ft == 1: p = a
            elif ft == 2: p = b
            elif ft == 3: p = (a + b) >> 1
            else:
                pp = a + b - c
                pa, pb, pc = abs(pp - a), abs(pp - b), abs(pp - c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            res.append((v - p) & 0xFF)
        outb.append(ft)
        outb += res
        prior = row
    return bytes(outb)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, samples, color_type, depth, interlace, palette=None):
    h, w, ch = samples.shape
    bpp = max(1, ch * depth // 8)
    raw = b""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for k, (x0, y0, dx, dy) in enumerate(passes):
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        rows = [pack_row(sub[r].reshape(-1), depth) for r in range(sub.shape[0])]
        raw += filter_rows(rows, bpp, k)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, interlace))
    if palette is not None:
        data += png_chunk(b"PLTE", bytes(palette))
    data += png_chunk(b"tEXt", b"Comment\x00imaging test")
    z = zlib.compress(raw, 9)
    # Split the zlib stream over several IDAT chunks so concatenation is exercised.
    for i in range(0, len(z), 97):
        data += png_chunk(b"IDAT", z[i:i + 97])
    data += png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
DEPTHS = {0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]}
for size_index, (w, h) in enumerate([(37, 23), (1, 1), (3, 2), (9, 10)]):
    for ct, depths in DEPTHS.items():
        for depth in depths:
            for interlace in (0, 1):
                if size_index > 0 and depth not in (1, 8):
                    continue
                maxv = (1 << depth) - 1
                samples = rng.integers(0, maxv + 1, size=(h, w, CHANNELS[ct]))
                palette = None
                if ct == 3:
                    entries = 1 << depth
                    palette = rng.integers(0, 256, size=entries * 3).tolist()
                name = f"png-{w}x{h}-ct{ct}-d{depth}-i{interlace}"
                path = f"{out}/{name}.png"
                write_png(path, samples, ct, depth, interlace, palette)
                with Image.open(path) as im:
                    if im.mode == "I":
                        # PIL keeps 16-bit gray as 32-bit "I" and would clip it converting to RGB;
                        # NativeCnn keeps the high byte, as PIL does for every other 16-bit mode.
                        g = (np.asarray(im).astype(np.int64) >> 8).astype(np.uint8)
                        expected = np.repeat(g[:, :, None], 3, axis=2)
                    else:
                        expected = np.asarray(im.convert("RGB"))
                save_expected(name, expected, 0, f"{name}.png")

# A palette shorter than the indices used: PIL reads the missing entries as a gray ramp.
samples = np.arange(16).reshape(4, 4, 1)
write_png(f"{out}/png-short-palette.png", samples, 3, 4, 0, [10, 20, 30, 40, 50, 60, 70, 80, 90])
save_expected("png-short-palette", pil_rgb(f"{out}/png-short-palette.png"), 0, "png-short-palette.png")

# ---------------------------------------------------------------- PPM / PGM
def write_pnm(path, magic, samples, maxval):
    h, w = samples.shape[:2]
    header = f"{magic}\n# imaging test\n{w} {h}\n# maxval next\n{maxval}\n".encode()
    flat = samples.reshape(-1)
    if magic in ("P2", "P3"):
        body = "\n".join(" ".join(str(int(v)) for v in flat[i:i + 17]) for i in range(0, len(flat), 17)).encode() + b"\n"
    elif maxval > 255:
        body = flat.astype(">u2").tobytes()
    else:
        body = flat.astype(np.uint8).tobytes()
    with open(path, "wb") as f:
        f.write(header + body)


for magic, maxval in [("P6", 255), ("P5", 255), ("P3", 255), ("P2", 255), ("P6", 100), ("P5", 7), ("P6", 1000), ("P3", 1000), ("P2", 15)]:
    ch = 3 if magic in ("P3", "P6") else 1
    samples = rng.integers(0, maxval + 1, size=(23, 37, ch))
    name = f"pnm-{magic}-{maxval}"
    path = f"{out}/{name}.{'ppm' if ch == 3 else 'pgm'}"
    write_pnm(path, magic, samples, maxval)
    save_expected(name, pil_rgb(path), 0, path.split("/")[-1])

# ---------------------------------------------------------------- JPEG (PIL's encoder)
for (w, h) in [(37, 23), (64, 48), (17, 33)]:
    rgb = photo(w, h, w * 1000 + h)
    for sub in (0, 1, 2):
        name = f"jpeg-{w}x{h}-sub{sub}"
        path = f"{out}/{name}.jpg"
        Image.fromarray(rgb).save(path, quality=90, subsampling=sub)
        save_expected(name, pil_rgb(path), 2, f"{name}.jpg")
    name = f"jpeg-{w}x{h}-gray"
    path = f"{out}/{name}.jpg"
    Image.fromarray(rgb).convert("L").save(path, quality=90)
    save_expected(name, pil_rgb(path), 2, f"{name}.jpg")
# An optimized-Huffman file and a low-quality one, where IDCT outputs overshoot 0..255.
rgb = photo(40, 30, 7)
for name, args in [("jpeg-optimize", dict(quality=90, optimize=True)), ("jpeg-q20", dict(quality=20, subsampling=2))]:
    path = f"{out}/{name}.jpg"
    Image.fromarray(rgb).save(path, **args)
    save_expected(name, pil_rgb(path), 2, f"{name}.jpg")
# Larger files with PIL's defaults (quality 75, 4:2:0), as typical inputs are.
for (w, h) in [(640, 480), (333, 251)]:
    name = f"jpeg-{w}x{h}-default"
    path = f"{out}/{name}.jpg"
    Image.fromarray(photo(w, h, w)).save(path)
    save_expected(name, pil_rgb(path), 2, f"{name}.jpg")
# Progressive files from PIL's encoder (libjpeg's scan script: DC and AC bands, successive approximation).
for (w, h) in [(17, 9), (101, 67), (37, 23)]:
    rgb = photo(w, h, w * 1000 + h + 1)
    for sub in (0, 1, 2):
        for quality in ((90,) if w != 101 else (20, 50, 90, 100)):
            name = f"progressive-{w}x{h}-sub{sub}-q{quality}"
            Image.fromarray(rgb).save(f"{out}/{name}.jpg", quality=quality, subsampling=sub, progressive=True)
            save_expected(name, pil_rgb(f"{out}/{name}.jpg"), 0, f"{name}.jpg")
    for quality in (50, 95):
        name = f"progressive-{w}x{h}-gray-q{quality}"
        Image.fromarray(rgb).convert("L").save(f"{out}/{name}.jpg", quality=quality, progressive=True)
        save_expected(name, pil_rgb(f"{out}/{name}.jpg"), 0, f"{name}.jpg")
for name, image in [("progressive-1x1", Image.new("RGB", (1, 1), (200, 30, 70))), ("progressive-640x480-default", Image.fromarray(photo(640, 480, 640)))]:
    image.save(f"{out}/{name}.jpg", progressive=True)
    save_expected(name, pil_rgb(f"{out}/{name}.jpg"), 0, f"{name}.jpg")


# ---------------------------------------------------------------- JPEG (minimal baseline encoder)
ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
          35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63]
DCT = np.array([[(math.sqrt(0.125) if u == 0 else 0.5) * math.cos((2 * x + 1) * u * math.pi / 16) for x in range(8)] for u in range(8)])


def huffman_lengths(freq):
    """Code lengths for the symbols in freq (a dict), with one reserved all-ones code point, as libjpeg reserves."""
    import heapq
    heap = [(f, i, [s]) for i, (s, f) in enumerate(sorted(freq.items()))] + [(0, -1, [None])]
    heapq.heapify(heap)
    lengths = {s: 0 for s in freq}
    lengths[None] = 0
    counter = len(heap)
    while len(heap) > 1:
        f1, _, s1 = heapq.heappop(heap)
        f2, _, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            lengths[s] += 1
        heapq.heappush(heap, (f1 + f2, counter, s1 + s2))
        counter += 1
    assert max(lengths.values()) <= 16, "Huffman code longer than 16 bits"
    # The reserved point must take a longest code so that no real code is all ones.
    longest = max(lengths.values())
    if lengths[None] != longest:
        other = next(s for s, l in lengths.items() if l == longest and s is not None)
        lengths[None], lengths[other] = longest, lengths[None]
    symbols = sorted((l, s) for s, l in lengths.items() if s is not None)
    counts = [0] * 16
    codes, code, prev = {}, 0, 0
    for l, s in symbols:
        code <<= (l - prev)
        prev = l
        codes[s] = (code, l)
        code += 1
        counts[l - 1] += 1
    return counts, [s for _, s in symbols], codes


def bits_for(v):
    n = 0 if v == 0 else int(abs(v)).bit_length()
    return n, (v if v >= 0 else v + (1 << n) - 1)


def quantized_components(rgb, factors, gray, ids, quant_divisor=1):
    """The components of an image as the writers below code them: sampling factors, sizes and quantized
    coefficients in zig-zag order (block row, block column, 64), plus the MCU counts and the two quantization tables."""
    h_img, w_img = rgb.shape[:2]
    rgbf = rgb.astype(np.float64)
    if gray:
        planes = [0.299 * rgbf[..., 0] + 0.587 * rgbf[..., 1] + 0.114 * rgbf[..., 2]]
    elif ids == (82, 71, 66):
        planes = [rgbf[..., 0], rgbf[..., 1], rgbf[..., 2]]
    else:
        y = 0.299 * rgbf[..., 0] + 0.587 * rgbf[..., 1] + 0.114 * rgbf[..., 2]
        planes = [y, 128 - 0.168736 * rgbf[..., 0] - 0.331264 * rgbf[..., 1] + 0.5 * rgbf[..., 2],
                  128 + 0.5 * rgbf[..., 0] - 0.418688 * rgbf[..., 1] - 0.081312 * rgbf[..., 2]]
    hmax = max(f[0] for f in factors)
    vmax = max(f[1] for f in factors)
    mx, my = -(-w_img // (8 * hmax)), -(-h_img // (8 * vmax))
    quant = [np.array([(8 + (i * 7) % 23) for i in range(64)]), np.array([(12 + (i * 5) % 29) for i in range(64)])]
    quant = [np.maximum(1, q // quant_divisor) for q in quant]
    comps = []
    for ci, plane in enumerate(planes):
        ch, cv = factors[ci]
        cw, chh = -(-w_img * ch // hmax), -(-h_img * cv // vmax)
        sub = plane.reshape(h_img, w_img)
        # Box-average down to the component size (any samples will do: the reference is PIL's decode).
        fy, fx = vmax // cv, hmax // ch
        padded = np.pad(sub, ((0, chh * fy - h_img), (0, cw * fx - w_img)), mode="edge")
        small = padded.reshape(chh, fy, cw, fx).mean(axis=(1, 3))
        full = np.pad(small, ((0, my * cv * 8 - chh), (0, mx * ch * 8 - cw)), mode="edge")
        q = quant[0 if ci == 0 else 1]
        by, bx = full.shape[0] // 8, full.shape[1] // 8
        blocks = full.reshape(by, 8, bx, 8).transpose(0, 2, 1, 3) - 128
        coef = np.einsum("ux,abxy,vy->abuv", DCT, blocks, DCT).reshape(by, bx, 64)
        zz = np.round(coef[:, :, ZIGZAG] / q[ZIGZAG]).astype(int)
        comps.append(dict(h=ch, v=cv, w=cw, hgt=chh, zz=zz, tq=0 if ci == 0 else 1, tbl=0 if ci == 0 else 1))
    return comps, mx, my, quant


def scan_units(comps, mx, my, scan):
    """(component index, block row, block column) in coding order, grouped into MCUs."""
    if len(scan) == 1:
        c = comps[scan[0]]
        return [[(scan[0], r, col)] for r in range(-(-c["hgt"] // 8)) for col in range(-(-c["w"] // 8))]
    mcus = []
    for r in range(my):
        for col in range(mx):
            mcus.append([(ci, r * comps[ci]["v"] + v, col * comps[ci]["h"] + hh)
                         for ci in scan for v in range(comps[ci]["v"]) for hh in range(comps[ci]["h"])])
    return mcus


def jpeg_segment(marker, body):
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def jpeg_header(comps, h_img, w_img, quant, sof, ids, jfif=True, adobe=None):
    """SOI, APP0/APP14, DQT and SOF segments."""
    data = b"\xff\xd8"
    if jfif:
        data += jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if adobe is not None:
        data += jpeg_segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00" + bytes([adobe]))
    for t in range(2 if len(comps) > 1 else 1):
        data += jpeg_segment(0xDB, bytes([t]) + bytes(int(quant[t][ZIGZAG[k]]) for k in range(64)))
    data += jpeg_segment(sof, struct.pack(">BHHB", 8, h_img, w_img, len(comps)) +
                         b"".join(bytes([ids[i], (c["h"] << 4) | c["v"], c["tq"]]) for i, c in enumerate(comps)))
    return data


def entropy_coded(items, codes):
    """Packs ("sym", table key, symbol), ("bits", value, count) and ("rst", n) items into stuffed bytes, 1-padded."""
    acc, nbits, outb = 0, 0, bytearray()
    def put(value, n):
        nonlocal acc, nbits
        acc = (acc << n) | value
        nbits += n
        while nbits >= 8:
            byte = (acc >> (nbits - 8)) & 0xFF
            outb.append(byte)
            if byte == 0xFF:
                outb.append(0)
            nbits -= 8
        acc &= (1 << nbits) - 1
    def flush():
        if nbits:
            put((1 << (8 - nbits)) - 1, 8 - nbits)
    for item in items:
        if item[0] == "rst":
            flush()
            outb += bytes([0xFF, 0xD0 + item[1]])
        elif item[0] == "sym":
            put(*codes[item[1]][item[2]])
        elif item[2]:
            put(item[1], item[2])
    flush()
    return bytes(outb)


def write_jpeg(path, rgb, factors, restart, interleaved=True, ids=(1, 2, 3), jfif=True, adobe=None, gray=False, quant_divisor=1):
    """Baseline JPEG writer: factors = per-component (h, v); restart = DRI interval in MCUs (0 for none)."""
    h_img, w_img = rgb.shape[:2]
    comps, mx, my, quant = quantized_components(rgb, factors, gray, ids, quant_divisor)

    scans = [list(range(len(comps)))] if interleaved else [[i] for i in range(len(comps))]
    # First pass: symbol statistics per table, for optimal (valid, length-limited) Huffman tables.
    freq = [[{}, {}], [{}, {}]]  # [dc/ac][table]
    def symbols(scan_mcus):
        out = []
        pred = {}
        for m, mcu in enumerate(scan_mcus):
            if restart and m and m % restart == 0:
                out.append(("rst", (m // restart - 1) % 8))
                pred = {}
            for ci, r, col in mcu:
                c = comps[ci]
                zz = c["zz"][r, col]
                diff = zz[0] - pred.get(ci, 0)
                pred[ci] = zz[0]
                n, bits = bits_for(diff)
                out.append((0, c["tbl"], n, n, bits))
                run = 0
                last = max([k for k in range(1, 64) if zz[k] != 0], default=0)
                for k in range(1, last + 1):
                    if zz[k] == 0:
                        run += 1
                        continue
                    while run > 15:
                        out.append((1, c["tbl"], 0xF0, 0, 0))
                        run -= 16
                    n, bits = bits_for(zz[k])
                    out.append((1, c["tbl"], (run << 4) | n, n, bits))
                    run = 0
                if last < 63:
                    out.append((1, c["tbl"], 0x00, 0, 0))
        return out
    streams = [symbols(scan_units(comps, mx, my, scan)) for scan in scans]
    for st in streams:
        for item in st:
            if item[0] != "rst":
                freq[item[0]][item[1]][item[2]] = freq[item[0]][item[1]].get(item[2], 0) + 1
    tables = [[huffman_lengths(freq[k][t]) if freq[k][t] else None for t in range(2)] for k in range(2)]

    seg = jpeg_segment
    data = jpeg_header(comps, h_img, w_img, quant, 0xC0, ids, jfif, adobe)
    for k in range(2):
        for t in range(2):
            if tables[k][t]:
                counts, syms, _ = tables[k][t]
                data += seg(0xC4, bytes([(k << 4) | t]) + bytes(counts) + bytes(syms))
    if restart:
        data += seg(0xDD, struct.pack(">H", restart))
    for scan, st in zip(scans, streams):
        data += seg(0xDA, bytes([len(scan)]) + b"".join(bytes([ids[ci], (comps[ci]["tbl"] << 4) | comps[ci]["tbl"]]) for ci in scan) + b"\x00\x3f\x00")
        acc, nbits, outb = 0, 0, bytearray()
        def put(value, n):
            nonlocal acc, nbits
            acc = (acc << n) | value
            nbits += n
            while nbits >= 8:
                byte = (acc >> (nbits - 8)) & 0xFF
                outb.append(byte)
                if byte == 0xFF:
                    outb.append(0)
                nbits -= 8
            acc &= (1 << nbits) - 1
        def flush():
            if nbits:
                put((1 << (8 - nbits)) - 1, 8 - nbits)
        for item in st:
            if item[0] == "rst":
                flush()
                outb += bytes([0xFF, 0xD0 + item[1]])
                continue
            k, t, sym, n, bits = item
            code, length = tables[k][t][2][sym]
            put(code, length)
            if n:
                put(bits, n)
        flush()
        data += bytes(outb)
    data += b"\xff\xd9"
    with open(path, "wb") as f:
        f.write(data)


OWN_JPEGS = [
    ("jpeg-own-420-rst2", (45, 29), dict(factors=[(2, 2), (1, 1), (1, 1)], restart=2)),
    ("jpeg-own-422-rst1", (37, 23), dict(factors=[(2, 1), (1, 1), (1, 1)], restart=1)),
    ("jpeg-own-444-rst5", (37, 23), dict(factors=[(1, 1), (1, 1), (1, 1)], restart=5)),
    ("jpeg-own-440", (37, 23), dict(factors=[(1, 2), (1, 1), (1, 1)], restart=0)),
    ("jpeg-own-411", (45, 23), dict(factors=[(4, 1), (1, 1), (1, 1)], restart=3)),
    ("jpeg-own-gray-rst3", (37, 23), dict(factors=[(1, 1)], restart=3, gray=True)),
    ("jpeg-own-noninterleaved-420-rst4", (45, 29), dict(factors=[(2, 2), (1, 1), (1, 1)], restart=4, interleaved=False)),
    ("jpeg-own-rgb-ids", (21, 13), dict(factors=[(1, 1), (1, 1), (1, 1)], restart=0, ids=(82, 71, 66), jfif=False)),
    ("jpeg-own-adobe-ycc", (21, 13), dict(factors=[(2, 2), (1, 1), (1, 1)], restart=0, jfif=False, adobe=1)),
    ("jpeg-own-narrow-chroma", (4, 9), dict(factors=[(2, 2), (1, 1), (1, 1)], restart=0)),
]
for name, (w, h), args in OWN_JPEGS:
    path = f"{out}/{name}.jpg"
    write_jpeg(path, photo(w, h, w + 31 * h), **args)
    save_expected(name, pil_rgb(path), 2, f"{name}.jpg")


# ---------------------------------------------------------------- progressive JPEG (minimal encoder)
def progressive_scan_items(comps, mx, my, scan, ss, se, ah, al, restart):
    """One progressive scan's symbols and bits, as libjpeg's jcphuff.c codes them: DC first/refine, AC first with
    EOB runs, AC refine with its correction bits buffered behind the next code or EOB run."""
    items, pred = [], {}
    eob = {"run": 0, "bits": []}

    def sym(kind, symbol):
        items.append(("sym", kind, symbol))

    def bits(value, n):
        items.append(("bits", value, n))

    def emit_eobrun():
        if eob["run"]:
            n = eob["run"].bit_length() - 1
            sym("ac", n << 4)
            bits(eob["run"] & ((1 << n) - 1), n)
            for b in eob["bits"]:
                bits(b, 1)
            eob["run"], eob["bits"] = 0, []

    for m, mcu in enumerate(scan_units(comps, mx, my, scan)):
        if restart and m and m % restart == 0:
            emit_eobrun()
            items.append(("rst", (m // restart - 1) % 8))
            pred = {}
        for ci, r, col in mcu:
            zz = [int(v) for v in comps[ci]["zz"][r, col]]
            if ss == 0 and ah == 0:
                value = zz[0] >> al
                n, b = bits_for(value - pred.get(ci, 0))
                pred[ci] = value
                sym("dc", n)
                bits(b, n)
            elif ss == 0:
                bits((zz[0] >> al) & 1, 1)
            elif ah == 0:
                run = 0
                for k in range(ss, se + 1):
                    a = abs(zz[k]) >> al
                    if a == 0:
                        run += 1
                        continue
                    emit_eobrun()
                    while run > 15:
                        sym("ac", 0xF0)
                        run -= 16
                    n = a.bit_length()
                    sym("ac", (run << 4) | n)
                    bits(a if zz[k] > 0 else (~a) & ((1 << n) - 1), n)
                    run = 0
                if run:
                    eob["run"] += 1
                    if eob["run"] == 0x7FFF:
                        emit_eobrun()
            else:
                absolute = [abs(v) >> al for v in zz]
                last_new = max([k for k in range(ss, se + 1) if absolute[k] == 1], default=-1)
                run, pending = 0, []
                for k in range(ss, se + 1):
                    a = absolute[k]
                    if a == 0:
                        run += 1
                        continue
                    while run > 15 and k <= last_new:
                        emit_eobrun()
                        sym("ac", 0xF0)
                        run -= 16
                        for b in pending:
                            bits(b, 1)
                        pending = []
                    if a > 1:
                        pending.append(a & 1)
                        continue
                    emit_eobrun()
                    sym("ac", (run << 4) | 1)
                    bits(1 if zz[k] > 0 else 0, 1)
                    for b in pending:
                        bits(b, 1)
                    pending, run = [], 0
                if run or pending:
                    eob["run"] += 1
                    eob["bits"] += pending
                    if eob["run"] == 0x7FFF or len(eob["bits"]) > 937:
                        emit_eobrun()
    emit_eobrun()
    return items


def write_progressive_jpeg(path, rgb, factors, restart, script, gray=False, quant_divisor=1):
    """Progressive (SOF2) writer: script = [(component indices, Ss, Se, Ah, Al)], each scan with its own optimal
    Huffman table (DC table 0 or AC table 0) defined just before it, as libjpeg does."""
    h_img, w_img = rgb.shape[:2]
    ids = (1, 2, 3)
    comps, mx, my, quant = quantized_components(rgb, factors, gray, ids, quant_divisor)
    data = jpeg_header(comps, h_img, w_img, quant, 0xC2, ids)
    if restart:
        data += jpeg_segment(0xDD, struct.pack(">H", restart))
    for scan, ss, se, ah, al in script:
        items = progressive_scan_items(comps, mx, my, scan, ss, se, ah, al, restart)
        freq = {}
        for item in items:
            if item[0] == "sym":
                freq[item[2]] = freq.get(item[2], 0) + 1
        codes = {}
        if freq:
            kind = "dc" if ss == 0 else "ac"
            counts, syms, table = huffman_lengths(freq)
            data += jpeg_segment(0xC4, bytes([0 if kind == "dc" else 0x10]) + bytes(counts) + bytes(syms))
            codes[kind] = table
        data += jpeg_segment(0xDA, bytes([len(scan)]) + b"".join(bytes([ids[ci], 0x00]) for ci in scan) + bytes([ss, se, (ah << 4) | al]))
        data += entropy_coded(items, codes)
    data += b"\xff\xd9"
    with open(path, "wb") as f:
        f.write(data)


# libjpeg's jpeg_simple_progression scripts (jcparam.c), which PIL writes too.
SIMPLE_COLOR = [([0, 1, 2], 0, 0, 0, 1), ([0], 1, 5, 0, 2), ([2], 1, 63, 0, 1), ([1], 1, 63, 0, 1), ([0], 6, 63, 0, 2),
                ([0], 1, 63, 2, 1), ([0, 1, 2], 0, 0, 1, 0), ([2], 1, 63, 1, 0), ([1], 1, 63, 1, 0), ([0], 1, 63, 1, 0)]
SIMPLE_GRAY = [([0], 0, 0, 0, 1), ([0], 1, 5, 0, 2), ([0], 6, 63, 0, 2), ([0], 1, 63, 2, 1), ([0], 0, 0, 1, 0), ([0], 1, 63, 1, 0)]
# Spectral selection alone, DC scans not interleaved.
SPECTRAL_ONLY = [([0], 0, 0, 0, 0), ([1], 0, 0, 0, 0), ([2], 0, 0, 0, 0), ([0], 1, 2, 0, 0), ([0], 3, 63, 0, 0),
                 ([1], 1, 63, 0, 0), ([2], 1, 63, 0, 0)]
# Successive approximation three bits deep, one refinement scan per bit.
DEEP_APPROXIMATION = ([([0, 1, 2], 0, 0, 0, 3)] + [([c], 1, 63, 0, 3) for c in range(3)] +
                      [s for al in (2, 1, 0) for s in [([0, 1, 2], 0, 0, al + 1, al)] + [([c], 1, 63, al + 1, al) for c in range(3)]])
OWN_PROGRESSIVE = [
    ("progressive-own-420-rst2", (45, 29), dict(factors=[(2, 2), (1, 1), (1, 1)], restart=2, script=SIMPLE_COLOR)),
    ("progressive-own-444-rst1-deep", (21, 13), dict(factors=[(1, 1), (1, 1), (1, 1)], restart=1, script=DEEP_APPROXIMATION, quant_divisor=8)),
    ("progressive-own-422-rst5-spectral", (37, 23), dict(factors=[(2, 1), (1, 1), (1, 1)], restart=5, script=SPECTRAL_ONLY)),
    ("progressive-own-gray-rst3", (37, 23), dict(factors=[(1, 1)], restart=3, script=SIMPLE_GRAY, gray=True)),
    ("progressive-own-101x67-420-deep", (101, 67), dict(factors=[(2, 2), (1, 1), (1, 1)], restart=0, script=DEEP_APPROXIMATION, quant_divisor=4)),
    ("progressive-own-411-rst7", (45, 23), dict(factors=[(4, 1), (1, 1), (1, 1)], restart=7, script=SIMPLE_COLOR)),
]
for name, (w, h), args in OWN_PROGRESSIVE:
    path = f"{out}/{name}.jpg"
    rgb = photo(w, h, w + 17 * h)
    write_progressive_jpeg(path, rgb, **args)
    decoded = pil_rgb(path)
    # The writer's own check: the same coefficients written as one baseline scan decode to the same pixels in libjpeg.
    write_jpeg(f"{out}/{name}-baseline.jpg", rgb, args["factors"], 0, gray=args.get("gray", False), quant_divisor=args.get("quant_divisor", 1))
    assert np.array_equal(decoded, pil_rgb(f"{out}/{name}-baseline.jpg")), f"{name}: progressive writer disagrees with baseline"
    save_expected(name, decoded, 0, f"{name}.jpg")

# ---------------------------------------------------------------- resize (PIL's NEAREST and BILINEAR)
for (sw, sh) in [(37, 23), (64, 48)]:
    src = photo(sw, sh, 99 + sw)
    src_name = f"resize-src-{sw}x{sh}.rgb"
    with open(f"{out}/{src_name}", "wb") as f:
        f.write(src.tobytes())
    for (dw, dh) in [(16, 11), (53, 41), (37, 9), (10, 60), (1, 1), (224, 224), (sw, sh)]:
        for mode, resample in [("nearest", Image.NEAREST), ("bilinear", Image.BILINEAR)]:
            res = np.asarray(Image.fromarray(src).resize((dw, dh), resample))
            name = f"resize-{sw}x{sh}-{dw}x{dh}-{mode}.rgb"
            with open(f"{out}/{name}", "wb") as f:
                f.write(res.tobytes())
            manifest.append(f"resize {src_name} {sw} {sh} {mode} {dw} {dh} {name}")

with open(f"{out}/manifest.txt", "w") as f:
    f.write("\n".join(manifest) + "\n")
