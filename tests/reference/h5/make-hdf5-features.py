"""Writes HDF5 files that use the storage features real Keras files can carry (issue 14), plus expected.json.

  chunked.h5         default libver: layout v3 (v1 B-tree chunk index), filter pipeline v1: chunked, edge chunks,
                     gzip 1/9, shuffle+gzip, fletcher32, many chunks (a multi-level B-tree), lzf (unsupported filter)
  chunked_latest.h5  libver='latest': layout v4 with single-chunk, implicit, fixed-array (paged and not), extensible
                     array and v2 B-tree chunk indexes, filter pipeline v2
  dense.h5           libver='latest': dense link storage (>8 links, with and without track_order), dense attributes
  strings.h5         fixed-length string attributes: NUL-terminated, NUL-padded, space-padded, ASCII and UTF-8, arrays
  keras_plain.h5 / keras_gzip.h5 / keras_latest.h5
                     one Keras 2 save_weights layout: contiguous, chunked+shuffle+gzip, and libver='latest' with dense
                     links and attributes; the same values in all three
  hostile_*.h5       zip-bomb chunk, corrupt fletcher32, chunk address beyond the file, B-tree cycle, a chunk claimed
                     twice (patched copies of h5py files)

expected.json: {"datasets": {file: {path: [values]}}, "strings": {attribute: [values]}, ...}.
Usage: /usr/bin/python3 make-hdf5-features.py OUT_DIR
"""
import json
import os
import struct
import sys
import zlib

import h5py
import numpy as np

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20261203)
expected = {"datasets": {}, "dense": {}, "strings": {}, "hostile": {}}


def values_json(v):
    return [float(x) for x in np.asarray(v, dtype=np.float32).reshape(-1)]


def put(f, file_name, path, data, **kwargs):
    f.create_dataset(path, data=data, **kwargs)
    expected["datasets"].setdefault(file_name, {})["/" + path] = values_json(data)


def normal(shape, dtype="f4"):
    return rng.standard_normal(shape).astype(dtype)


# --- layout v3, filter pipeline v1 ---------------------------------------------------------------------------------
with h5py.File(os.path.join(OUT, "chunked.h5"), "w") as f:
    n = "chunked.h5"
    base = normal((6, 8))
    put(f, n, "contiguous", base)
    put(f, n, "chunked_exact", base, chunks=(3, 4))
    put(f, n, "edges", normal((7, 5, 3)), chunks=(4, 2, 2))
    put(f, n, "edges_1d", normal((37,)), chunks=(8,))
    put(f, n, "gzip1", normal((50, 9)), chunks=(16, 4), compression="gzip", compression_opts=1)
    put(f, n, "gzip9", normal((50, 9)), chunks=(16, 4), compression="gzip", compression_opts=9)
    put(f, n, "shuffle_gzip", normal((3, 3, 16, 24)), chunks=(3, 3, 8, 8), shuffle=True, compression="gzip")
    put(f, n, "fletcher32", normal((20, 6)), chunks=(7, 6), fletcher32=True)
    put(f, n, "all_filters", normal((40, 10)), chunks=(9, 4), shuffle=True, compression="gzip", fletcher32=True)
    put(f, n, "many_chunks", normal((64, 64)), chunks=(4, 4))  # 256 chunks: a v1 B-tree of more than one level
    put(f, n, "float64_gzip", normal((10, 10), "f8"), chunks=(4, 4), compression="gzip")
    put(f, n, "int32_shuffle", rng.integers(-10**6, 10**6, size=(33,)).astype(np.int32), chunks=(10,), shuffle=True)
    put(f, n, "big_endian_gzip", normal((5, 7), ">f4"), chunks=(2, 3), compression="gzip", shuffle=True)
    f.create_dataset("lzf", data=np.zeros((64,), np.float32), chunks=(32,), compression="lzf")
    # lzf cannot shrink 16 random bytes, so h5py's optional lzf filter is skipped (flagged in each chunk's filter mask).
    put(f, n, "lzf_skipped", normal((8,)), chunks=(4,), compression="lzf")

# --- layout v4, filter pipeline v2 ---------------------------------------------------------------------------------
with h5py.File(os.path.join(OUT, "chunked_latest.h5"), "w", libver="latest") as f:
    n = "chunked_latest.h5"
    put(f, n, "single_chunk", normal((6, 10)), chunks=(6, 10))
    put(f, n, "single_chunk_gzip", normal((6, 10)), chunks=(6, 10), compression="gzip", shuffle=True)
    put(f, n, "fixed_array", normal((7, 10)), chunks=(4, 4))
    put(f, n, "fixed_array_gzip", normal((7, 10)), chunks=(4, 4), compression="gzip", fletcher32=True)
    put(f, n, "fixed_array_paged", normal((64, 64)), chunks=(1, 2))  # 2048 chunks: more than one 1024-entry page
    put(f, n, "fixed_array_maxshape", normal((5, 6)), chunks=(2, 4), maxshape=(9, 6))
    # Implicit index: early allocation and no filters.
    implicit = normal((9, 7))
    space = h5py.h5s.create_simple((9, 7))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((4, 3))
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    ds = h5py.h5d.create(f.id, b"implicit", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, implicit)
    expected["datasets"][n]["/implicit"] = values_json(implicit)
    put(f, n, "extensible_array", normal((7, 4)), chunks=(2, 4), maxshape=(None, 4))
    put(f, n, "extensible_array_gzip", normal((7, 5)), chunks=(2, 2), maxshape=(None, 5), compression="gzip", fletcher32=True)
    # 300 chunks: past the index block's data blocks, into super blocks.
    put(f, n, "extensible_array_super", normal((300, 3)), chunks=(1, 3), maxshape=(None, 3))
    # The unlimited dimension second: HDF5 "swizzles" it to the front of the chunk order.
    put(f, n, "extensible_array_swizzled", normal((5, 7)), chunks=(2, 2), maxshape=(5, None))
    put(f, n, "extensible_array_3d", normal((3, 4, 5)), chunks=(2, 3, 2), maxshape=(3, None, 5))
    put(f, n, "btree2", normal((7, 5)), chunks=(2, 4), maxshape=(None, None))
    put(f, n, "btree2_gzip", normal((7, 5)), chunks=(2, 4), maxshape=(None, None), compression="gzip", shuffle=True)

# --- dense links and attributes ------------------------------------------------------------------------------------
with h5py.File(os.path.join(OUT, "dense.h5"), "w", libver="latest") as f:
    ordered = f.create_group("ordered", track_order=True)
    names = [f"layer_{(i * 7919) % 101:03d}" for i in range(40)]
    for i, name in enumerate(names):
        ordered.create_group(name).attrs["index"] = i
    v = normal((3,))
    ordered["a_dataset"] = v
    expected["datasets"].setdefault("dense.h5", {})["/ordered/a_dataset"] = values_json(v)
    expected["dense"]["ordered"] = names + ["a_dataset"]
    by_name = f.create_group("by_name")
    for i in range(30):
        by_name.create_group(f"g{i:02d}")
    expected["dense"]["by_name"] = [f"g{i:02d}" for i in range(30)]
    attrs = f.create_group("attributes", track_order=True)
    for i in range(25):
        attrs.attrs[f"n{i:02d}"] = np.float64(i) * 1.5
    attrs.attrs["text"] = "a variable-length string in dense storage"
    attrs.attrs["names"] = [b"conv/kernel:0", b"conv/bias:0"]
    attrs.attrs["fixed"] = np.bytes_(b"fixed in dense storage")
    expected["dense"]["attributes"] = [f"n{i:02d}" for i in range(25)] + ["text", "names", "fixed"]
    plain = f.create_group("attributes_by_name")
    for i in range(12):
        plain.attrs[f"m{i:02d}"] = i
    # A large attribute: Keras's model_config can be hundreds of kilobytes.
    big = ("{\"config\": \"" + "x" * 200000 + "\"}")
    plain.attrs["model_config"] = big
    plain.attrs["model_config_bytes"] = big.encode("utf8")  # h5py stores bytes as a variable-length string
    plain.attrs["model_config_fixed"] = np.bytes_(big.encode("utf8"))  # fixed-length: too big for a managed heap object
    expected["dense"]["model_config_length"] = len(big)

# --- fixed-length strings ------------------------------------------------------------------------------------------
def fixed_string_attr(obj, name, values, pad, cset, size):
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(size)
    tid.set_strpad(pad)
    tid.set_cset(cset)
    data = np.array([v.encode("utf8") for v in values], dtype=f"S{size}")
    space = h5py.h5s.create_simple((len(values),)) if len(values) != 1 else h5py.h5s.create(h5py.h5s.SCALAR)
    attr = h5py.h5a.create(obj.id, name.encode(), tid, space)
    attr.write(data if len(values) != 1 else data.reshape(()), mtype=tid)
    expected["strings"][name] = values


for libver, file_name in (("earliest", "strings.h5"), ("latest", "strings_latest.h5")):
    with h5py.File(os.path.join(OUT, file_name), "w", libver=libver) as f:
        expected["strings"] = {}
        fixed_string_attr(f, "nullterm", ["keras"], h5py.h5t.STR_NULLTERM, h5py.h5t.CSET_ASCII, 8)
        fixed_string_attr(f, "nullpad", ["tensorflow"], h5py.h5t.STR_NULLPAD, h5py.h5t.CSET_ASCII, 16)
        fixed_string_attr(f, "spacepad", ["2.15.0"], h5py.h5t.STR_SPACEPAD, h5py.h5t.CSET_ASCII, 12)
        fixed_string_attr(f, "utf8", ["block\u00e9_\u03b2"], h5py.h5t.STR_NULLPAD, h5py.h5t.CSET_UTF8, 20)
        fixed_string_attr(f, "exact_fit", ["abcdefgh"], h5py.h5t.STR_NULLPAD, h5py.h5t.CSET_ASCII, 8)
        fixed_string_attr(f, "layer_names", ["input_1", "conv1", "bn_\u00e9", "predictions"], h5py.h5t.STR_NULLPAD,
                          h5py.h5t.CSET_UTF8, 16)
        fixed_string_attr(f, "weight_names", ["conv1/kernel:0", "conv1/bias:0"], h5py.h5t.STR_NULLTERM,
                          h5py.h5t.CSET_ASCII, 15)
        fixed_string_attr(f, "space_array", ["a", "bb", "ccc"], h5py.h5t.STR_SPACEPAD, h5py.h5t.CSET_ASCII, 5)
        f.attrs["vlen_array"] = ["x", "\u00fc\u00f1\u00ee", ""]
        expected["strings"]["vlen_array"] = ["x", "\u00fc\u00f1\u00ee", ""]
        f.attrs["vlen_scalar"] = "tensorflow"
        expected["strings"]["vlen_scalar"] = ["tensorflow"]

# --- one Keras 2 save_weights layout, three storage forms ----------------------------------------------------------
LAYERS = [("input_1", []), ("conv1", [("kernel", (3, 3, 3, 16)), ("bias", (16,))]),
          ("bn", [("gamma", (16,)), ("beta", (16,)), ("moving_mean", (16,)), ("moving_variance", (16,))]),
          ("relu", [])] + [(f"dense_{i}", [("kernel", (16, 10)), ("bias", (10,))]) for i in range(12)]
KERAS_VALUES = {f"{l}/{w}": normal(s) for l, ws in LAYERS for w, s in ws}


def write_keras(path, libver, **kwargs):
    with h5py.File(path, "w", libver=libver) as f:
        f.attrs["layer_names"] = [l.encode() for l, _ in LAYERS]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.15.0"
        for l, ws in LAYERS:
            g = f.create_group(l, track_order=libver == "latest")
            g.attrs["weight_names"] = [f"{l}/{w}:0".encode() for w, _ in ws]
            if libver == "latest":
                for i in range(10):
                    g.attrs[f"note{i}"] = i  # enough attributes for dense storage
            for w, _ in ws:
                v = KERAS_VALUES[f"{l}/{w}"]
                g.create_dataset(f"{l}/{w}:0", data=v, **(kwargs if v.ndim > 1 or v.size > 8 else {}))


write_keras(os.path.join(OUT, "keras_plain.h5"), "earliest")
write_keras(os.path.join(OUT, "keras_gzip.h5"), "earliest", chunks=True, shuffle=True, compression="gzip")
write_keras(os.path.join(OUT, "keras_latest.h5"), "latest", chunks=True, compression="gzip", fletcher32=True)
expected["keras_layers"] = [l for l, _ in LAYERS]


# --- hostile files -------------------------------------------------------------------------------------------------
def chunk_info(path, dataset, index=0):
    with h5py.File(path, "r") as f:
        return f[dataset].id.get_chunk_info(index)


def patch(path, offset, data):
    with open(path, "r+b") as fp:
        fp.seek(offset)
        fp.write(data)


# A zip bomb: a 1 KiB chunk whose deflate stream inflates to 256 MiB.
bomb = os.path.join(OUT, "hostile_zip_bomb.h5")
with h5py.File(bomb, "w") as f:
    d = f.create_dataset("bomb", shape=(256,), dtype="f4", chunks=(256,), compression="gzip")
    d.id.write_direct_chunk((0,), zlib.compress(b"\0" * (256 << 20), 9), 0)
expected["hostile"]["zip_bomb"] = "/bomb"

# A fletcher32 chunk whose data no longer matches its checksum.
bad_sum = os.path.join(OUT, "hostile_fletcher32.h5")
with h5py.File(bad_sum, "w") as f:
    f.create_dataset("checked", data=normal((64,)), chunks=(16,), fletcher32=True)
info = chunk_info(bad_sum, "checked", 1)
with open(bad_sum, "r+b") as fp:
    fp.seek(info.byte_offset + 5)
    b = fp.read(1)
    fp.seek(info.byte_offset + 5)
    fp.write(bytes([b[0] ^ 0x40]))
expected["hostile"]["fletcher32"] = {"path": "/checked", "chunk_offset": info.byte_offset}


def find_once(data, needle, what):
    at = data.find(needle)
    assert at >= 0 and data.find(needle, at + 1) < 0, what
    return at


def chunked_file(path, shape, chunks):
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=normal(shape), chunks=chunks)


# A chunk address beyond the end of the file (patched in the B-tree leaf).
beyond = os.path.join(OUT, "hostile_chunk_beyond.h5")
chunked_file(beyond, (16, 16), (4, 4))
info = chunk_info(beyond, "data", 3)
raw = open(beyond, "rb").read()
patch(beyond, find_once(raw, struct.pack("<Q", info.byte_offset), "chunk address"), struct.pack("<Q", 1 << 40))
expected["hostile"]["chunk_beyond"] = "/data"


def tree_nodes(raw):
    """(offset, level) of every v1 B-tree node of chunks (type 1) in the file."""
    nodes, at = [], raw.find(b"TREE")
    while at >= 0:
        if raw[at + 4] == 1:
            nodes.append((at, raw[at + 5]))
        at = raw.find(b"TREE", at + 1)
    return nodes


# A B-tree whose root lists itself as a child.
cycle = os.path.join(OUT, "hostile_btree_cycle.h5")
chunked_file(cycle, (64, 64), (4, 4))
raw = open(cycle, "rb").read()
root, level = max(tree_nodes(raw), key=lambda n: n[1])
assert level >= 1
key_size = 4 + 4 + 3 * 8  # chunk size, filter mask, rank+1 offsets
patch(cycle, root + 8 + 2 * 8 + key_size, struct.pack("<Q", root))
expected["hostile"]["btree_cycle"] = "/data"

# Two B-tree keys that claim the same chunk.
twice = os.path.join(OUT, "hostile_chunk_twice.h5")
chunked_file(twice, (8, 8), (4, 4))
raw = open(twice, "rb").read()
leaf, _ = tree_nodes(raw)[0]
first_key = leaf + 8 + 2 * 8
second_key = first_key + key_size + 8
patch(twice, second_key + 8, raw[first_key + 8:first_key + key_size])
expected["hostile"]["chunk_twice"] = "/data"

with open(os.path.join(OUT, "expected.json"), "w") as fp:
    json.dump(expected, fp, indent=0)
