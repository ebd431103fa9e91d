"""Writes small HDF5 files laid out exactly as Keras writes weights, plus expected.json describing what a reader
must find in them. Used by tests/NativeCnn.Tests/Weights (run with Debian's /usr/bin/python3 and python3-h5py).

Layouts (see docs KERAS.md section 4):
  legacy_weights.h5   Keras 2 save_weights: root layer_names/backend/keras_version, one group per layer (sorted),
                      weight_names attribute, datasets "<layer>/<weight>:0"; float64 and float16 weights included
  legacy_model.h5     Keras 2 model.save: vlen str keras_version/backend, model_config JSON bytes, model_weights group
  fixedstr.h5         h5py 2.x style: every string attribute a fixed-length NumPy 'S' array
  split_names.h5      1500 long layer names: layer_names split into layer_names0..N (and a multi-level group B-tree)
  keras3.weights.h5   Keras 3 >= 3.6: layers/<key>/vars/<i> with a 'name' attribute, empty vars for weightless layers
  keras3_old.weights.h5  Keras 3 < 3.6: no 'name' attributes, no groups for weightless layers
  chunked.h5          save_weights layout with one chunked and one gzip dataset (read through the chunk index and the deflate filter)
  generic.h5          plain HDF5 features: big-endian, int, scalar, compact, numeric/vlen/empty attributes
  latest.h5           libver='latest': superblock v3, OHDR v2 headers, link messages, a creation-ordered group,
                      dense attribute and dense link storage (which the reader refuses)

Usage: /usr/bin/python3 make-keras-h5.py OUT_DIR
"""
import json
import os
import re
import sys

import h5py
import numpy as np

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
HDF5_OBJECT_HEADER_LIMIT = 64512  # Keras's split threshold

# (name, snake_case class, [(weight name, shape, dtype)]) in model.layers order.
F32, F64, F16, I64 = "float32", "float64", "float16", "int64"
LAYERS = [
    ("input_1", "input_layer", []),
    ("rescaling", "rescaling", []),
    ("normalization", "normalization", [("mean", (3,), F32), ("variance", (3,), F32), ("count", (), I64)]),
    ("stem_conv", "conv2d", [("kernel", (3, 3, 3, 8), F32)]),
    ("stem_bn", "batch_normalization", [("gamma", (8,), F32), ("beta", (8,), F32), ("moving_mean", (8,), F32),
                                        ("moving_variance", (8,), F32)]),
    ("stem_activation", "activation", []),
    ("block1a_dwconv", "depthwise_conv2d", [("depthwise_kernel", (3, 3, 8, 1), F32)]),
    ("block1a_se_reduce", "conv2d", [("kernel", (1, 1, 8, 2), F32), ("bias", (2,), F32)]),
    ("block1a_project_conv", "conv2d", [("kernel", (1, 1, 8, 4), F32)]),
    ("avg_pool", "global_average_pooling2d", []),
    ("dense_f64", "dense", [("kernel", (4, 3), F64), ("bias", (3,), F64)]),
    ("dense_f16", "dense", [("kernel", (3, 2), F16)]),
    ("predictions", "dense", [("kernel", (2, 5), F32), ("bias", (5,), F32)]),
]

rng = np.random.default_rng(20261123)
expected = {}


def value(shape, dtype):
    if dtype == I64:
        return np.array(rng.integers(0, 10**6), dtype=np.int64).reshape(shape)
    return rng.standard_normal(shape).astype(dtype)


def values_json(v):
    return [float(x) for x in np.asarray(v, dtype=np.float32).reshape(-1)]


def save_attr(group, name, data):
    """Keras's save_attributes_to_hdf5_group: split lists whose array form exceeds the object header limit."""
    data_npy = np.asarray(data)
    num_chunks = 1
    chunked = np.array_split(data_npy, num_chunks)
    while any(x.nbytes > HDF5_OBJECT_HEADER_LIMIT for x in chunked):
        num_chunks += 1
        chunked = np.array_split(data_npy, num_chunks)
    if num_chunks > 1:
        for i, c in enumerate(chunked):
            group.attrs["%s%d" % (name, i)] = c
    else:
        group.attrs[name] = data


def write_legacy(g, layers, fixed_strings=False, special=None):
    """save_weights_to_hdf5_group; returns the expected layer list (all layers, in layer_names order)."""
    names = [n.encode("utf8") for n, _, _ in layers]
    if fixed_strings:
        g.attrs["layer_names"] = np.array(names, dtype="S")
        g.attrs["backend"] = np.bytes_(b"tensorflow")
        g.attrs["keras_version"] = np.bytes_(b"2.3.0-tf")
    else:
        save_attr(g, "layer_names", names)
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.15.0"
    per_layer = {}
    for name, _, ws in sorted(layers, key=lambda l: l[0]):
        lg = g.create_group(name)
        weight_names = [f"{name}/{w}:0".encode("utf8") for w, _, _ in ws]
        if fixed_strings:
            lg.attrs["weight_names"] = np.array(weight_names, dtype="S") if ws else np.array([], dtype="S1")
        else:
            save_attr(lg, "weight_names", weight_names)
        out = []
        for (w, shape, dtype), wn in zip(ws, weight_names):
            v = value(shape, dtype)
            kwargs = (special or {}).get(f"{name}/{w}", {})
            d = lg.create_dataset(wn.decode(), v.shape, dtype=v.dtype, **kwargs)
            d[()] = v
            out.append({"name": f"{name}/{w}", "shape": list(v.shape), "values": values_json(v)})
        per_layer[name] = out
    g.create_group("top_level_model_weights").attrs["weight_names"] = []
    return [{"name": n, "group": (g.name.rstrip("/") + "/" + n), "weights": per_layer[n]} for n, _, _ in layers]


def legacy_entry(fmt, layers, version, backend="tensorflow", config=None):
    return {"format": fmt, "keras_version": version, "backend": backend, "model_config": config, "layers": layers}


# --- legacy save_weights -----------------------------------------------------------------------------------------
with h5py.File(os.path.join(OUT, "legacy_weights.h5"), "w") as f:
    expected["legacy_weights.h5"] = legacy_entry("Legacy", write_legacy(f, LAYERS), "2.15.0")

# --- legacy model.save ---------------------------------------------------------------------------------------------
with h5py.File(os.path.join(OUT, "legacy_model.h5"), "w") as f:
    config = {"class_name": "Functional", "config": {"name": "tiny", "layers": [
        {"class_name": k, "config": {"name": n, "pad": "\u00e9" + "x" * 6000}, "name": n} for n, k, _ in LAYERS]}}
    config_json = json.dumps(config)
    f.attrs["keras_version"] = "2.15.0"
    f.attrs["backend"] = "tensorflow"
    f.attrs["model_config"] = config_json.encode("utf8")
    layers = write_legacy(f.create_group("model_weights"), LAYERS)
    expected["legacy_model.h5"] = legacy_entry("Legacy", layers, "2.15.0", config=config_json)

# --- h5py 2.x fixed-length strings ---------------------------------------------------------------------------------
with h5py.File(os.path.join(OUT, "fixedstr.h5"), "w") as f:
    expected["fixedstr.h5"] = legacy_entry("Legacy", write_legacy(f, LAYERS, fixed_strings=True), "2.3.0-tf")

# --- split layer_names, many groups -------------------------------------------------------------------------------
many = [(f"layer_with_a_rather_long_generated_name_{i:05d}", "dense",
         [("kernel", (2, 3), F32), ("bias", (3,), F32)] if i % 250 == 7 else []) for i in range(1500)]
with h5py.File(os.path.join(OUT, "split_names.h5"), "w") as f:
    expected["split_names.h5"] = legacy_entry("Legacy", write_legacy(f, many), "2.15.0")
    assert "layer_names0" in f.attrs and "layer_names1" in f.attrs

# --- chunked / compressed ------------------------------------------------------------------------------------------
with h5py.File(os.path.join(OUT, "chunked.h5"), "w") as f:
    write_legacy(f, LAYERS, special={"stem_conv/kernel": {"chunks": (3, 3, 3, 4)},
                                     "predictions/kernel": {"compression": "gzip"}})
expected["chunked.h5"] = {"chunked": "/stem_conv/stem_conv/kernel:0", "compressed": "/predictions/predictions/kernel:0"}


# --- Keras 3 ---------------------------------------------------------------------------------------------------------
def natural_key(key):
    m = re.fullmatch(r"(.*)_(\d+)", key)
    return (m.group(1), int(m.group(2))) if m else (key, 0)


K3_LAYERS = LAYERS + [(f"extra_conv_{i}", "conv2d", [("kernel", (1, 1, 2, 2), F32)]) for i in range(10)]


def write_keras3(path, with_names):
    used, rows = {}, []
    with h5py.File(path, "w") as f:
        f.create_group("vars")  # the model's own (empty) state
        for name, cls, ws in K3_LAYERS:
            key = cls if cls not in used else f"{cls}_{used[cls] + 1}"
            used[cls] = used.get(cls, -1) + 1
            if not ws and not with_names:
                continue
            g = f.create_group(f"layers/{key}/vars")
            if with_names:
                g.attrs["name"] = name
            out = []
            for i, (w, shape, dtype) in enumerate(ws):
                v = value(shape, dtype)
                g[str(i)] = v
                out.append({"name": f"{name if with_names else key}/vars/{i}", "shape": list(v.shape), "values": values_json(v)})
            rows.append((natural_key(key), {"name": name if with_names else key, "group": f"/layers/{key}", "weights": out}))
        f.create_group("optimizer/vars")
    return [r for _, r in sorted(rows, key=lambda r: r[0])]


expected["keras3.weights.h5"] = {"format": "Keras3", "keras_version": None, "backend": None, "model_config": None,
                                 "layers": write_keras3(os.path.join(OUT, "keras3.weights.h5"), True)}
expected["keras3_old.weights.h5"] = {"format": "Keras3", "keras_version": None, "backend": None, "model_config": None,
                                     "layers": write_keras3(os.path.join(OUT, "keras3_old.weights.h5"), False)}


# --- generic features ------------------------------------------------------------------------------------------------
def write_generic(f):
    g = {}
    be = rng.standard_normal((2, 3)).astype(">f4")
    f["big_endian"] = be
    g["big_endian"] = values_json(be)
    ints = rng.integers(-1000, 1000, size=(7,)).astype(np.int32)
    f["ints"] = ints
    g["ints"] = values_json(ints)
    u8 = np.arange(5, dtype=np.uint8) * 50
    f["nested/deeper/u8"] = u8
    g["nested/deeper/u8"] = values_json(u8)
    f["scalar"] = np.float64(2.5)
    g["scalar"] = [2.5]
    f["empty"] = np.zeros((0, 3), np.float32)
    g["empty"] = []
    f.attrs["numbers"] = np.array([1.5, -2.0, 3.25])
    f.attrs["vlen_list"] = ["alpha", "\u03b2eta", ""]
    f.attrs["fixed_scalar"] = np.bytes_(b"fixed")
    f.attrs["trailing_spaces"] = np.array([b"ab  "], dtype="S4")  # NULLPAD: the spaces are data
    f.attrs["null_space"] = h5py.Empty("f4")
    space = h5py.h5s.create_simple((4,))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    compact = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
    cv = np.array([0.5, -1.5, 2.5, 1e-3], np.float32)
    compact.write(h5py.h5s.ALL, h5py.h5s.ALL, cv)
    g["compact"] = values_json(cv)
    return g


with h5py.File(os.path.join(OUT, "generic.h5"), "w") as f:
    generic = write_generic(f)
    expected["generic.h5"] = generic

with h5py.File(os.path.join(OUT, "latest.h5"), "w", libver="latest") as f:
    latest = write_generic(f)
    dense = f.create_group("dense_attributes")
    for i in range(20):
        dense.attrs[f"a{i}"] = i
    many_links = f.create_group("extra/dense_links")  # under "extra" so that the root keeps at most 8 (compact) links
    for i in range(20):
        many_links.create_group(f"g{i}")
    ordered = f["extra"].create_group("ordered", track_order=True)
    for name in ("zeta", "alpha", "mid"):
        v = rng.standard_normal((2,)).astype(np.float32)
        ordered[name] = v
        latest[f"extra/ordered/{name}"] = values_json(v)
    expected["latest.h5"] = latest

with open(os.path.join(OUT, "expected.json"), "w") as fp:
    json.dump(expected, fp, indent=0)
