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
# A progressive file, which the decoder must refuse by name.
Image.fromarray(rgb).save(f"{out}/progressive.jpg", quality=90, progressive=True)

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
