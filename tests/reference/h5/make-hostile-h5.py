"""Writes small HDF5 files whose structure makes a naive reader decode the same bytes over and over (hard links to a
large object, many references to one heap object, shared symbol tables and continuation blocks), plus expected.json.
Each file is a few MB, and reading it naively would take over 1 GB. Used by tests/NativeCnn.Tests/Weights/
Hdf5AmplificationTests.cs (run with Debian's /usr/bin/python3 and python3-h5py).

Files:
  hardlinks.h5          /target: a group with a 1.1 MB object header (20 attributes of 7,000 float64) and a small
                        dataset; /links/l0000..l0999: hard links to it (legal HDF5)
  keras3_hardlinks.h5   Keras 3 layout whose layers/k0000..k0999 are hard links to one group with a large header
                        and no vars group (a naive reader finds 0 layers)
  legacy_hardlinks.h5   Keras 2 save_weights layout: layer_names lists 1,000 layers, all hard links to one group
  weight_links.h5       Keras 2 layout: one layer whose weight_names lists 1,000 hard links to one 1.1 MB dataset;
                        /data/l0000..l0999 are hard links to the same dataset
  vlen_big.h5           Keras 2 layout whose layer_names has 3,500 variable-length strings, patched to all point at
                        one 1 MiB heap object
  vlen_dup.h5           the same with a short string, whose layer group exists: layer_names lists it 3,500 times
  shared_heap.h5        /g0000..g0999: groups whose symbol tables were patched to name the B-tree and local heap of
                        /shared (3 datasets), whose heap was patched to span 1.1 MB
  shared_block.h5       /g0000..g0999: groups whose attribute message was patched into a continuation pointing at the
                        1.1 MB continuation block of /target

Usage: /usr/bin/python3 make-hostile-h5.py OUT_DIR
"""
import json
import os
import re
import struct
import sys

import h5py
import numpy as np

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
LINKS = 1000
rng = np.random.default_rng(20261202)
expected = {}


def path(name):
    return os.path.join(OUT, name)


def big_header_group(g):
    """Makes g's object header about 1.1 MB: v1 header messages hold at most 64 KB, so 20 attributes of 56 KB."""
    for i in range(20):
        g.attrs[f"a{i:02d}"] = rng.standard_normal(7000)


def header_address(obj):
    return h5py.h5o.get_info(obj.id).addr


def find_message(data, header, wanted):
    """Body offsets (and sizes) of every message of type `wanted` in the v1 object header at `header`."""
    assert data[header] == 1, "not a version 1 object header"
    blocks = [(header + 16, struct.unpack_from("<I", data, header + 8)[0])]
    found = []
    while blocks:
        start, length = blocks.pop(0)
        p = start
        while p + 8 <= start + length:
            kind, size = struct.unpack_from("<HH", data, p)
            if kind == wanted:
                found.append((p + 8, size))
            if kind == 0x10:
                blocks.append(struct.unpack_from("<QQ", data, p + 8))
            p += 8 + size
    return found


def legacy_attrs(f, layer_names):
    f.attrs["layer_names"] = layer_names
    f.attrs["backend"] = b"tensorflow"
    f.attrs["keras_version"] = b"2.15.0"


# --- hard links to a group with a large header ----------------------------------------------------------------------
with h5py.File(path("hardlinks.h5"), "w") as f:
    t = f.create_group("target")
    big_header_group(t)
    w = rng.standard_normal(4).astype(np.float32)
    t["w"] = w
    for i in range(LINKS):
        f[f"links/l{i:04d}"] = t
    expected["hardlinks.h5"] = {"links": LINKS, "w": [float(x) for x in w], "a00": [float(x) for x in t.attrs["a00"][:3]]}

with h5py.File(path("keras3_hardlinks.h5"), "w") as f:
    t = f.create_group("big")
    big_header_group(t)
    for i in range(LINKS):
        f[f"layers/k{i:04d}"] = t

with h5py.File(path("legacy_hardlinks.h5"), "w") as f:
    names = [f"layer_{i:04d}" for i in range(LINKS)]
    legacy_attrs(f, [n.encode() for n in names])
    g = f.create_group(names[0])
    big_header_group(g)
    g.attrs["weight_names"] = [f"{names[0]}/kernel:0".encode()]
    g[f"{names[0]}/kernel:0"] = rng.standard_normal((2, 2)).astype(np.float32)
    for n in names[1:]:
        f[n] = g

# --- hard links to one large dataset ------------------------------------------------------------------------------------
with h5py.File(path("weight_links.h5"), "w") as f:
    legacy_attrs(f, [b"dense"])
    g = f.create_group("dense")
    weight_names = [f"dense/k{i:04d}:0" for i in range(LINKS)]
    g.attrs["weight_names"] = [n.encode() for n in weight_names]
    blob = g.create_dataset(weight_names[0], data=rng.standard_normal(280_000).astype(np.float32))
    for n in weight_names[1:]:
        g[n] = blob
    for i in range(LINKS):
        f[f"data/l{i:04d}"] = blob

# --- many variable-length strings pointing at one heap object ----------------------------------------------------------
def vlen_patched(name, first, count, with_group):
    """layer_names = [first, 'n00001', ...]; then every element's heap ID is overwritten with element 0's."""
    with h5py.File(path(name), "w") as f:
        legacy_attrs(f, [first] + [f"n{i:05d}" for i in range(1, count)])
        if with_group:
            f.create_group(first).attrs["weight_names"] = []
    data = bytearray(open(path(name), "rb").read())
    element = re.escape(struct.pack("<I", len(first.encode()))) + rb".{12}(?:\x06\x00\x00\x00.{12})" + b"{%d}" % (count - 1)
    matches = [m.start() for m in re.finditer(element, data, re.S)]
    assert len(matches) == 1, f"{name}: {len(matches)} candidate layer_names arrays"
    start = matches[0]
    for i in range(1, count):
        data[start + 16 * i:start + 16 * (i + 1)] = data[start:start + 16]
    open(path(name), "wb").write(data)
    return start


expected["vlen_big.h5"] = {"elements": vlen_patched("vlen_big.h5", "A" * (1 << 20), 3500, False), "count": 3500}
expected["vlen_dup.h5"] = {"elements": vlen_patched("vlen_dup.h5", "dense", 3500, True), "count": 3500}

# --- groups sharing one symbol table (B-tree and local heap) ------------------------------------------------------------
with h5py.File(path("shared_heap.h5"), "w") as f:
    shared = f.create_group("shared")
    values = {}
    for i in range(3):
        v = rng.standard_normal(5).astype(np.float32)
        shared[f"d{i}"] = v
        values[f"d{i}"] = [float(x) for x in v]
    f["blob"] = np.zeros(280_000, np.float32)  # after the heap, so that the stretched heap covers it
    for i in range(LINKS):
        f.create_group(f"g{i:04d}")
    addresses = {n: header_address(f[n]) for n in ["shared"] + [f"g{i:04d}" for i in range(LINKS)]}
data = bytearray(open(path("shared_heap.h5"), "rb").read())
(table, _), = find_message(data, addresses["shared"], 0x11)
btree, heap = struct.unpack_from("<QQ", data, table)
assert data[heap:heap + 4] == b"HEAP"
heap_data = struct.unpack_from("<Q", data, heap + 24)[0]
struct.pack_into("<Q", data, heap + 8, len(data) - heap_data)  # the rest of the file is now "free space" of the heap
for i in range(LINKS):
    (body, _), = find_message(data, addresses[f"g{i:04d}"], 0x11)
    struct.pack_into("<QQ", data, body, btree, heap)
open(path("shared_heap.h5"), "wb").write(data)
expected["shared_heap.h5"] = {"groups": LINKS, "heap_bytes": len(data) - heap_data, "values": values}

# --- headers sharing one continuation block -----------------------------------------------------------------------------
with h5py.File(path("shared_block.h5"), "w") as f:
    big_header_group(f.create_group("target"))
    for i in range(LINKS):
        f.create_group(f"g{i:04d}").attrs["x"] = np.int64(i)
    addresses = {n: header_address(f[n]) for n in ["target"] + [f"g{i:04d}" for i in range(LINKS)]}
data = bytearray(open(path("shared_block.h5"), "rb").read())
blocks = find_message(data, addresses["target"], 0x10)
block_address, block_length = max((struct.unpack_from("<QQ", data, b) for b, _ in blocks), key=lambda b: b[1])
for i in range(LINKS):
    (body, size), = find_message(data, addresses[f"g{i:04d}"], 0x0C)
    assert size >= 16
    struct.pack_into("<H", data, body - 8, 0x10)
    struct.pack_into("<QQ", data, body, block_address, block_length)
open(path("shared_block.h5"), "wb").write(data)
expected["shared_block.h5"] = {"block_bytes": block_length}

with open(path("expected.json"), "w") as fp:
    json.dump(expected, fp, indent=0)
