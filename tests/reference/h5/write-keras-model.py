"""Writes one model (a Keras config + a directory of <layer>__<weight>.npy files) in every Keras file layout, the way
Keras's own writers lay them out (docs KERAS.md section 4), so that the C# loaders can be checked end to end against
the prediction TensorFlow.js made with the same weights.

  legacy-model.h5       Keras 2 model.save: root keras_version/backend/model_config, group model_weights
  legacy-weights.h5     Keras 2 save_weights: root layer_names, weight names "<layer>/<weight>:0"
  keras3-old.weights.h5 Keras 3 < 3.6: layers/<snake_case class>[_k]/vars/<i>, no names
  keras3.weights.h5     Keras 3 >= 3.6: the same with a 'name' attribute on each vars group
  model.keras           Keras 3 archive: config.json + model.weights.h5 (stored, uncompressed) + metadata.json

Usage: /usr/bin/python3 write-keras-model.py CONFIG.json WEIGHT_DIR OUT_DIR
"""
import json
import os
import re
import sys
import zipfile

import h5py
import numpy as np

config_path, weight_dir, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
with open(config_path) as f:
    config_text = f.read()
config = json.loads(config_text)

# Keras's per-layer weight order: trainable, then non-trainable.
ORDER = ["kernel", "depthwise_kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "mean", "variance", "count"]
files = {f[:-4]: f for f in os.listdir(weight_dir) if f.endswith(".npy")}
layers = []  # (name, class_name, [(weight, array)])
for layer in config["config"]["layers"]:
    name = layer["config"]["name"]
    weights = [(w, np.load(os.path.join(weight_dir, files[f"{name}__{w}"]))) for w in ORDER if f"{name}__{w}" in files]
    layers.append((name, layer["class_name"], weights))
used = sum(len(w) for _, _, w in layers)
assert used == len(files), f"{len(files) - used} weight files belong to no layer"


def to_snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def write_legacy(group):
    # As hdf5_format.save_weights_to_hdf5_group: layer_names in model.layers order, groups created in sorted order.
    group.attrs["layer_names"] = [n.encode("utf8") for n, _, _ in layers]
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = b"2.15.0"
    for name, _, weights in sorted(layers, key=lambda l: l[0]):
        g = group.create_group(name)
        g.attrs["weight_names"] = [f"{name}/{w}:0".encode("utf8") for w, _ in weights]
        for w, value in weights:
            g.create_dataset(f"{name}/{w}:0", value.shape, dtype=value.dtype)[...] = value


def write_keras3(path, with_names):
    counts = {}
    with h5py.File(path, "w") as f:
        root = f.create_group("layers")
        for name, class_name, weights in layers:
            base = to_snake_case(class_name)
            k = counts.get(base, 0)
            counts[base] = k + 1
            key = base if k == 0 else f"{base}_{k}"
            if not weights and not with_names:
                continue
            vars_group = root.create_group(key).create_group("vars")
            if with_names:
                vars_group.attrs["name"] = name
            for i, (_, value) in enumerate(weights):
                vars_group.create_dataset(str(i), data=value)
        f.create_group("vars")


with h5py.File(os.path.join(out, "legacy-model.h5"), "w") as f:
    f.attrs["keras_version"] = "2.15.0"
    f.attrs["backend"] = "tensorflow"
    f.attrs["model_config"] = config_text.encode("utf8")
    write_legacy(f.create_group("model_weights"))
with h5py.File(os.path.join(out, "legacy-weights.h5"), "w") as f:
    write_legacy(f)
write_keras3(os.path.join(out, "keras3-old.weights.h5"), with_names=False)
write_keras3(os.path.join(out, "keras3.weights.h5"), with_names=True)
with zipfile.ZipFile(os.path.join(out, "model.keras"), "w", compression=zipfile.ZIP_STORED) as z:
    z.writestr("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2026-11-23@00:00:00"}))
    z.writestr("config.json", config_text)
    z.write(os.path.join(out, "keras3.weights.h5"), "model.weights.h5")
