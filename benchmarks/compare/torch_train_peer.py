#!/usr/bin/python3
"""PyTorch (Debian python3-torch, CPU, eager float32) as a training peer: builds the architecture of a Keras functional
config that NativeCnn writes (`Inspect train-step ARCH --write-config FILE`) as torch modules, layer for layer, and times
training steps (forward in training mode, Keras's sparse categorical cross-entropy from probabilities, backward, optimizer
update) on random weights, inputs and labels.

The model runs in PyTorch's own layout (NCHW, nn.Conv2d/nn.BatchNorm2d/nn.Linear, the default memory format), so the peer
is what a PyTorch user gets; the layers, shapes, paddings, strides, activations, drop-connect and parameter counts follow
the config exactly (Keras's 'same' padding that puts the extra pixel right/bottom comes from ZeroPadding2D layers in the
zoo; a 'same' convolution that needs it is padded explicitly). Normalization and Rescaling are constant affine maps.

Memory: after the model and the batch exist, the peak resident size is reset (5 into /proc/self/clear_refs) and VmRSS
read; after the steps, VmHWM is the peak: peak_delta_bytes = VmHWM - that VmRSS is what training added.

usage: torch_train_peer.py --config FILE.json [--batch B] [--threads T] [--steps S] [--warmup W]
                           [--optimizer sgd|adam] [--learning-rate R]
Prints one JSON line: median_ms, step_ms, rss_before_bytes, peak_rss_bytes, peak_delta_bytes, parameters.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time


def _threads_from_argv():
    # OpenMP sizes its pool when torch is imported; set it first, or runs oversubscribe the 2 cores.
    if "--threads" in sys.argv:
        return sys.argv[sys.argv.index("--threads") + 1]
    return "2"


for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = _threads_from_argv()

import torch  # noqa: E402  (after the thread settings above)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def same_pads(size, kernel, stride, dilation):
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


ACTIVATIONS = {
    "linear": lambda v: v,
    "relu": F.relu,
    "relu6": F.relu6,
    "sigmoid": torch.sigmoid,
    "swish": F.silu,
    "silu": F.silu,
    "tanh": torch.tanh,
    "softmax": lambda v: torch.softmax(v, dim=1),
    "hard_swish": F.hardswish,
    "hard_silu": F.hardswish,
    "hard_sigmoid": F.hardsigmoid,
    "gelu": F.gelu,
}


def activation_of(c):
    name = c.get("activation", "linear")
    if isinstance(name, dict):
        name = name.get("config", {}).get("name", name.get("class_name"))
    return ACTIVATIONS[name]


class KerasGraph(nn.Module):
    """The layers of a Keras functional config as torch modules, run in config order on NCHW tensors."""

    def __init__(self, config):
        super().__init__()
        self.layers = config["layers"]
        self.output_name = config["output_layers"][0][0]
        self.modules_by_name = nn.ModuleDict()
        self.constants = {}
        shapes = {}  # layer name -> (channels, height, width) or (features,)
        for layer in self.layers:
            cls, c, name = layer["class_name"], layer["config"], layer["name"]
            if cls == "InputLayer":
                _, h, w, ch = c["batch_input_shape"]
                shapes[name] = (ch, h, w)
                continue
            inputs = [shapes[i[0]] for i in layer["inbound_nodes"][0]]
            shapes[name] = self._add(cls, c, name, inputs)

    def _add(self, cls, c, name, inputs):
        shape = inputs[0]
        key = name.replace(".", "_")
        if cls in ("Conv2D", "DepthwiseConv2D"):
            channels, h, w = shape
            k, s, d = pair(c["kernel_size"]), pair(c["strides"]), pair(c.get("dilation_rate", 1))
            if cls == "Conv2D":
                out_channels, groups = c["filters"], c.get("groups", 1)
            else:
                out_channels, groups = channels * c.get("depth_multiplier", 1), channels
            pad, explicit = (0, 0), None
            if c.get("padding", "valid") == "same":
                (top, bottom), (left, right) = same_pads(h, k[0], s[0], d[0]), same_pads(w, k[1], s[1], d[1])
                if top == bottom and left == right:
                    pad = (top, left)
                else:
                    explicit = (left, right, top, bottom)
            conv = nn.Conv2d(channels, out_channels, k, s, pad, d, groups, bias=c.get("use_bias", True))
            self.modules_by_name[key] = conv
            self.constants[name] = (explicit, activation_of(c))
            if explicit:
                h, w = h + explicit[2] + explicit[3], w + explicit[0] + explicit[1]
            oh = (h + 2 * pad[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
            ow = (w + 2 * pad[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
            return (out_channels, oh, ow)
        if cls == "Dense":
            self.modules_by_name[key] = nn.Linear(shape[0], c["units"], bias=c.get("use_bias", True))
            self.constants[name] = activation_of(c)
            return (c["units"],)
        if cls == "BatchNormalization":
            # Keras's momentum m keeps m of the moving average; PyTorch's momentum is the share of the batch.
            self.modules_by_name[key] = nn.BatchNorm2d(shape[0], eps=c.get("epsilon", 1e-3), momentum=1 - c.get("momentum", 0.99),
                                                       affine=c.get("scale", True) or c.get("center", True))
            return shape
        if cls in ("Rescaling",):
            # A scale or offset per channel (EfficientNet's second Rescaling, 1/sqrt(std)) broadcasts over NCHW.
            def per_channel(value):
                return torch.tensor(value, dtype=torch.float32).reshape(1, -1, 1, 1) if isinstance(value, list) else value
            self.constants[name] = (per_channel(c.get("scale", 1.0)), per_channel(c.get("offset", 0.0)))
            return shape
        if cls == "Normalization":
            # Constant per-channel mean and variance (ImageNet's for EfficientNet): a fixed affine map, nothing trained.
            self.register_buffer(f"{key}_scale", torch.rand(1, shape[0], 1, 1) + 0.5)
            self.register_buffer(f"{key}_shift", torch.rand(1, shape[0], 1, 1) - 0.5)
            return shape
        if cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            self.constants[name] = bool(c.get("keepdims", False))
            return (shape[0], 1, 1) if c.get("keepdims", False) else (shape[0],)
        if cls == "Reshape":
            target = c["target_shape"]
            shape = (target[-1], *target[:-1]) if len(target) == 3 else tuple(target)
            self.constants[name] = shape
            return shape
        if cls == "ZeroPadding2D":
            (top, bottom), (left, right) = c["padding"]
            self.constants[name] = (left, right, top, bottom)
            return (shape[0], shape[1] + top + bottom, shape[2] + left + right)
        if cls in ("MaxPooling2D", "AveragePooling2D"):
            k = pair(c["pool_size"])
            s = pair(c.get("strides") or c["pool_size"])
            if c.get("padding", "valid") != "valid":
                raise SystemExit(f"torch_train_peer.py: {name}: 'same' pooling is not implemented")
            self.constants[name] = (k, s)
            return (shape[0], (shape[1] - k[0]) // s[0] + 1, (shape[2] - k[1]) // s[1] + 1)
        if cls == "Flatten":
            return (math.prod(shape),)
        if cls == "Dropout":
            noise = c.get("noise_shape")
            self.constants[name] = (c["rate"], noise is not None and all(v == 1 for v in noise[1:]))
            return shape
        if cls in ("Activation", "ReLU", "Add", "Multiply"):
            if cls == "Activation":
                self.constants[name] = activation_of(c)
            if cls == "ReLU":
                self.constants[name] = c.get("max_value")
            return shape if cls != "Multiply" else max(inputs, key=math.prod)
        raise SystemExit(f"torch_train_peer.py: layer class {cls} ({name}) is not implemented")

    def forward(self, x):
        values = {}
        for layer in self.layers:
            cls, c, name = layer["class_name"], layer["config"], layer["name"]
            if cls == "InputLayer":
                values[name] = x
                continue
            inputs = [values[i[0]] for i in layer["inbound_nodes"][0]]
            values[name] = self._run(cls, name, inputs)
        return values[self.output_name]

    def _run(self, cls, name, inputs):
        x = inputs[0]
        key = name.replace(".", "_")
        if cls in ("Conv2D", "DepthwiseConv2D"):
            explicit, act = self.constants[name]
            if explicit:
                x = F.pad(x, explicit)
            return act(self.modules_by_name[key](x))
        if cls == "Dense":
            return self.constants[name](self.modules_by_name[key](x))
        if cls == "BatchNormalization":
            return self.modules_by_name[key](x)
        if cls == "Rescaling":
            scale, offset = self.constants[name]
            return x * scale + offset
        if cls == "Normalization":
            return x * getattr(self, f"{key}_scale") + getattr(self, f"{key}_shift")
        if cls == "Activation":
            return self.constants[name](x)
        if cls == "ReLU":
            top = self.constants[name]
            return F.relu6(x) if top == 6 else (F.relu(x) if top is None else torch.clamp(x, 0, top))
        if cls == "Add":
            return sum(inputs[1:], inputs[0])
        if cls == "Multiply":
            return inputs[0] * inputs[1]
        if cls == "GlobalAveragePooling2D":
            return x.mean(dim=(2, 3), keepdim=self.constants[name])
        if cls == "GlobalMaxPooling2D":
            return x.amax(dim=(2, 3), keepdim=self.constants[name])
        if cls == "Reshape":
            return x.reshape(x.shape[0], *self.constants[name])
        if cls == "ZeroPadding2D":
            return F.pad(x, self.constants[name])
        if cls == "MaxPooling2D":
            return F.max_pool2d(x, *self.constants[name])
        if cls == "AveragePooling2D":
            return F.avg_pool2d(x, *self.constants[name])
        if cls == "Flatten":
            return x.flatten(1)
        if cls == "Dropout":
            rate, per_sample = self.constants[name]
            if not self.training or rate == 0:
                return x
            if per_sample:
                # EfficientNet's drop-connect, noise_shape (None, 1, 1, 1): one keep/drop per sample (torchvision's StochasticDepth).
                keep = torch.empty(x.shape[0], *([1] * (x.dim() - 1))).bernoulli_(1 - rate)
                return x * keep / (1 - rate)
            return F.dropout(x, rate, True)
        raise SystemExit(f"torch_train_peer.py: layer class {cls} is not implemented")


def status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return status_bytes("VmRSS:")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--optimizer", default="sgd", choices=("sgd", "adam"))
    parser.add_argument("--learning-rate", type=float, default=0.01)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(20261203)
    with open(args.config) as f:
        config = json.load(f)["config"]
    model = KerasGraph(config).train()
    _, h, w, ch = config["layers"][0]["config"]["batch_input_shape"]
    x = torch.rand(args.batch, ch, h, w)
    classes = model.modules_by_name[config["output_layers"][0][0].replace(".", "_")].out_features
    labels = torch.randint(0, classes, (args.batch,))
    if args.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate, momentum=0.9)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate, eps=1e-7)  # Keras's epsilon

    def step():
        optimizer.zero_grad(set_to_none=True)
        probabilities = model(x)
        # Keras's sparse categorical cross-entropy from probabilities: clipped to [1e-7, 1 - 1e-7], mean over the batch.
        loss = F.nll_loss(torch.log(torch.clamp(probabilities, 1e-7, 1 - 1e-7)), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    rss_before = reset_peak()
    for _ in range(args.warmup):
        step()
    times = []
    for s in range(args.steps):
        start = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - start) * 1000)
        if not math.isfinite(loss):
            raise SystemExit(f"the loss is {loss} at step {s}")
    peak = status_bytes("VmHWM:")
    print(json.dumps({
        "model": config["name"], "batch": args.batch, "threads": torch.get_num_threads(), "optimizer": args.optimizer,
        "warmup_steps": args.warmup, "steps": args.steps, "median_ms": statistics.median(times), "step_ms": times,
        "rss_before_bytes": rss_before, "peak_rss_bytes": peak, "peak_delta_bytes": peak - rss_before,
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
