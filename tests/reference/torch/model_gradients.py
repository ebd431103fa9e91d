"""Whole-model training step in PyTorch float64 autograd, from a Keras functional config.

Reads FOLDER/config.json (a Keras functional model config as NativeCnn writes it), FOLDER/weights/LAYER__WEIGHT.npy
(Keras layouts), FOLDER/x.npy (NHWC inputs) and FOLDER/y.npy (class indices); runs the model forward in Keras's
training mode (BatchNormalization with batch statistics and biased variance, except in the layers named frozen),
computes sparse categorical cross-entropy from probabilities as Keras does (clipped to [1e-7, 1 - 1e-7]), and writes
FOLDER/out/loss.npy, FOLDER/out/LAYER__WEIGHT.npy (the gradient of every trained weight) and
FOLDER/out/moving__LAYER__moving_mean.npy / moving_variance.npy (Keras's moving-average update).

Usage: model_gradients.py FOLDER [FROZEN_LAYER,FROZEN_LAYER,...]
With NATIVECNN_DUMP_ACTIVATIONS=1 in the environment it also writes every layer's output as FOLDER/out/act__LAYER.npy.
Independent of NativeCnn: it reimplements each layer from Keras's definitions, TensorFlow's 'same' padding included
(the extra pixel at the bottom/right).
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
folder = sys.argv[1]
frozen = set(filter(None, sys.argv[2].split(","))) if len(sys.argv) > 2 else set()
config = json.load(open(os.path.join(folder, "config.json")))["config"]
out_dir = os.path.join(folder, "out")
os.makedirs(out_dir, exist_ok=True)

weights = {}


def weight(layer, name, trainable=True):
    key = f"{layer}__{name}"
    if key not in weights:
        value = np.load(os.path.join(folder, "weights", key + ".npy")).astype(np.float64)
        weights[key] = torch.tensor(value, requires_grad=trainable and layer not in frozen)
    return weights[key]


def activation(name, x):
    if isinstance(name, dict):
        name = name.get("config", {}).get("name", name.get("class_name"))
    return {
        "linear": lambda v: v,
        "relu": F.relu,
        "relu6": lambda v: torch.clamp(v, 0, 6),
        "sigmoid": torch.sigmoid,
        "swish": F.silu,
        "silu": F.silu,
        "tanh": torch.tanh,
        "softmax": lambda v: torch.softmax(v, dim=-1),
        "hard_silu": lambda v: v * torch.clamp(v + 3, 0, 6) / 6,
        "hard_swish": lambda v: v * torch.clamp(v + 3, 0, 6) / 6,
        "hard_sigmoid": lambda v: torch.clamp(v + 3, 0, 6) / 6,
        "gelu": lambda v: F.gelu(v),
        "elu": F.elu,
        "selu": F.selu,
        "softplus": F.softplus,
    }[name](x)


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def same_pads(size, kernel, stride, dilation):
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pad_nchw(x, c, kernel, stride, dilation, value=0.0):
    """Pads an NCHW tensor for Keras padding c['padding'] ('valid' or 'same')."""
    if c.get("padding", "valid") != "same":
        return x
    top, bottom = same_pads(x.shape[2], kernel[0], stride[0], dilation[0])
    left, right = same_pads(x.shape[3], kernel[1], stride[1], dilation[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def run(cls, c, name, inputs):
    x = inputs[0]
    if cls == "Conv2D":
        k, s, d = pair(c["kernel_size"]), pair(c["strides"]), pair(c.get("dilation_rate", 1))
        kernel = weight(name, "kernel").permute(3, 2, 0, 1)
        bias = weight(name, "bias") if c.get("use_bias", True) else None
        y = F.conv2d(pad_nchw(nchw(x), c, k, s, d), kernel, bias, stride=s, dilation=d)
        return activation(c.get("activation", "linear"), nhwc(y))
    if cls == "DepthwiseConv2D":
        k, s, d = pair(c["kernel_size"]), pair(c["strides"]), pair(c.get("dilation_rate", 1))
        kh, kw, cin, m = weight(name, "depthwise_kernel").shape
        kernel = weight(name, "depthwise_kernel").reshape(kh, kw, cin * m).permute(2, 0, 1).unsqueeze(1)
        bias = weight(name, "bias") if c.get("use_bias", True) else None
        y = F.conv2d(pad_nchw(nchw(x), c, k, s, d), kernel, bias, stride=s, dilation=d, groups=cin)
        return activation(c.get("activation", "linear"), nhwc(y))
    if cls == "Dense":
        y = x @ weight(name, "kernel")
        if c.get("use_bias", True):
            y = y + weight(name, "bias")
        return activation(c.get("activation", "linear"), y)
    if cls == "BatchNormalization":
        eps, momentum = c.get("epsilon", 1e-3), c.get("momentum", 0.99)
        gamma = weight(name, "gamma") if c.get("scale", True) else 1.0
        beta = weight(name, "beta") if c.get("center", True) else 0.0
        moving_mean = weight(name, "moving_mean", trainable=False)
        moving_variance = weight(name, "moving_variance", trainable=False)
        if name in frozen:
            return (x - moving_mean) / torch.sqrt(moving_variance + eps) * gamma + beta
        axes = tuple(range(x.dim() - 1))
        mean = x.mean(dim=axes)
        variance = ((x - mean) ** 2).mean(dim=axes)
        np.save(os.path.join(out_dir, f"moving__{name}__moving_mean.npy"),
                (moving_mean * momentum + mean * (1 - momentum)).detach().numpy().astype(np.float32))
        np.save(os.path.join(out_dir, f"moving__{name}__moving_variance.npy"),
                (moving_variance * momentum + variance * (1 - momentum)).detach().numpy().astype(np.float32))
        return (x - mean) / torch.sqrt(variance + eps) * gamma + beta
    if cls == "Activation":
        return activation(c["activation"], x)
    if cls == "ReLU":
        y = F.relu(x)
        if c.get("max_value") is not None:
            y = torch.clamp(y, max=c["max_value"])
        return y
    if cls == "Add":
        return sum(inputs[1:], inputs[0])
    if cls == "Multiply":
        return inputs[0] * inputs[1]
    if cls == "Concatenate":
        return torch.cat(inputs, dim=c.get("axis", -1))
    if cls == "GlobalAveragePooling2D":
        return x.mean(dim=(1, 2), keepdim=bool(c.get("keepdims", False)))
    if cls == "GlobalMaxPooling2D":
        return x.amax(dim=(1, 2), keepdim=bool(c.get("keepdims", False)))
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        k = pair(c["pool_size"])
        s = pair(c.get("strides") or c["pool_size"])
        if cls == "MaxPooling2D":
            return nhwc(F.max_pool2d(pad_nchw(nchw(x), c, k, s, (1, 1), value=-math.inf), k, s))
        # Keras's 'same' average excludes the padded cells: a sum over the window divided by its in-bounds count.
        total = F.avg_pool2d(pad_nchw(nchw(x), c, k, s, (1, 1)), k, s, divisor_override=1)
        count = F.avg_pool2d(pad_nchw(torch.ones_like(nchw(x)), c, k, s, (1, 1)), k, s, divisor_override=1)
        return nhwc(total / count)
    if cls == "ZeroPadding2D":
        (top, bottom), (left, right) = c["padding"]
        return nhwc(F.pad(nchw(x), (left, right, top, bottom)))
    if cls == "SeparableConv2D":
        k, s, d = pair(c["kernel_size"]), pair(c["strides"]), pair(c.get("dilation_rate", 1))
        kh, kw, cin, m = weight(name, "depthwise_kernel").shape
        depthwise = weight(name, "depthwise_kernel").reshape(kh, kw, cin * m).permute(2, 0, 1).unsqueeze(1)
        y = F.conv2d(pad_nchw(nchw(x), c, k, s, d), depthwise, None, stride=s, dilation=d, groups=cin)
        pointwise = weight(name, "pointwise_kernel").permute(3, 2, 0, 1)
        bias = weight(name, "bias") if c.get("use_bias", True) else None
        y = F.conv2d(y, pointwise, bias)
        return activation(c.get("activation", "linear"), nhwc(y))
    if cls == "Conv2DTranspose":
        # TensorFlow's conv2d_transpose: scatter every input pixel's window (the full (in - 1)·s + k output), then keep the
        # output window that starts at the forward convolution's 'same' pad (0 for 'valid'), zero-extended where Keras's
        # output is longer than the full scatter (a 'valid' kernel smaller than its stride, or output_padding).
        k, s = pair(c["kernel_size"]), pair(c["strides"])
        kernel = weight(name, "kernel")  # (kh, kw, filters, in)
        y = F.conv_transpose2d(nchw(x), kernel.permute(3, 2, 0, 1), None, stride=s)
        sizes, pads = [], []
        for axis in range(2):
            size = x.shape[1 + axis]
            output_padding = c.get("output_padding")
            if output_padding is not None:
                out = (size - 1) * s[axis] + k[axis] - 2 * (k[axis] // 2 if c["padding"] == "same" else 0) + pair(output_padding)[axis]
            elif c["padding"] == "valid":
                out = size * s[axis] + max(k[axis] - s[axis], 0)
            else:
                out = size * s[axis]
            pad = max((size - 1) * s[axis] + k[axis] - out, 0) // 2 if c["padding"] == "same" else 0
            sizes.append(out)
            pads.append(pad)
        full_h, full_w = y.shape[2], y.shape[3]
        y = F.pad(y, (0, max(0, pads[1] + sizes[1] - full_w), 0, max(0, pads[0] + sizes[0] - full_h)))
        y = y[:, :, pads[0]:pads[0] + sizes[0], pads[1]:pads[1] + sizes[1]]
        if c.get("use_bias", True):
            y = y + weight(name, "bias").reshape(1, -1, 1, 1)
        return activation(c.get("activation", "linear"), nhwc(y))
    if cls == "UpSampling2D":
        size = pair(c.get("size", 2))
        out = (x.shape[1] * size[0], x.shape[2] * size[1])
        if c.get("interpolation", "nearest") == "nearest":
            return x.repeat_interleave(size[0], dim=1).repeat_interleave(size[1], dim=2)
        # tf.image.resize bilinear with half-pixel centres = PyTorch's align_corners=False at an exact integer scale.
        return nhwc(F.interpolate(nchw(x), size=out, mode="bilinear", align_corners=False))
    if cls == "LayerNormalization":
        axis = c.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) else axis
        if axis not in (-1, x.dim() - 1):
            raise SystemExit(f"model_gradients.py: LayerNormalization over axis {axis} is not implemented")
        eps = c.get("epsilon", 1e-3)
        mean = x.mean(dim=-1, keepdim=True)
        variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        y = (x - mean) / torch.sqrt(variance + eps)
        if c.get("scale", True):
            y = y * weight(name, "gamma")
        if c.get("center", True):
            y = y + weight(name, "beta")
        return y
    if cls == "PReLU":
        # Keras: relu(x) - alpha * relu(-x); alpha has the sample's shape with the shared axes of size 1 (broadcast).
        alpha = weight(name, "alpha")
        return F.relu(x) - alpha * F.relu(-x)
    if cls == "Permute":
        return x.permute(0, *c["dims"])
    if cls == "Reshape":
        return x.reshape(x.shape[0], *c["target_shape"])
    if cls == "Subtract":
        return inputs[0] - inputs[1]
    if cls in ("Maximum", "Minimum"):
        # Keras folds the inputs left to right; TensorFlow's MaximumGrad gives a tie to the left operand (x >= y), which
        # torch.where reproduces (torch.maximum would split a tie's gradient in halves).
        y = inputs[0]
        for other in inputs[1:]:
            y = torch.where(y >= other, y, other) if cls == "Maximum" else torch.where(y <= other, y, other)
        return y
    if cls == "Average":
        return sum(inputs[1:], inputs[0]) / len(inputs)
    if cls in ("Flatten",):
        return x.reshape(x.shape[0], -1)
    if cls == "Dropout":
        # Training-mode dropout needs the caller's mask (FOLDER/masks/LAYER.npy: 0 or 1/(1-rate), broadcast over the
        # noise shape, e.g. (N, 1, 1, 1) for drop-connect); without one the layer is the identity.
        mask_path = os.path.join(folder, "masks", name + ".npy")
        if os.path.exists(mask_path):
            return x * torch.tensor(np.load(mask_path).astype(np.float64))
        return x
    if cls == "Rescaling":
        scale, offset = c["scale"], c.get("offset", 0.0)
        return x * torch.tensor(scale, dtype=torch.float64) + torch.tensor(offset, dtype=torch.float64)
    if cls == "Normalization":
        if c.get("mean") is not None:
            mean, variance = torch.tensor(c["mean"], dtype=torch.float64), torch.tensor(c["variance"], dtype=torch.float64)
        else:
            mean, variance = weight(name, "mean", trainable=False), weight(name, "variance", trainable=False)
        return (x - mean) / torch.clamp(torch.sqrt(variance), min=1e-7)
    raise SystemExit(f"model_gradients.py: layer class {cls} is not implemented")


values = {}
x = torch.tensor(np.load(os.path.join(folder, "x.npy")).astype(np.float64))
labels = torch.tensor(np.load(os.path.join(folder, "y.npy")).astype(np.int64))
output_name = None
for layer in config["layers"]:
    cls, c, name = layer["class_name"], layer["config"], layer["name"]
    if cls == "InputLayer":
        values[name] = x
        continue
    inbound = layer["inbound_nodes"][0]
    values[name] = run(cls, c, name, [values[i[0]] for i in inbound])
    output_name = name
    if os.environ.get("NATIVECNN_DUMP_ACTIVATIONS"):
        np.save(os.path.join(out_dir, f"act__{name}.npy"), values[name].detach().numpy().astype(np.float32))

probabilities = values[config["output_layers"][0][0]]
probabilities = probabilities / probabilities.sum(dim=-1, keepdim=True)
clipped = torch.clamp(probabilities, 1e-7, 1 - 1e-7)
loss = -torch.log(clipped[torch.arange(len(labels)), labels]).mean()
loss.backward()
np.save(os.path.join(out_dir, "loss.npy"), np.array([loss.item()], dtype=np.float32))
np.save(os.path.join(out_dir, "output.npy"), values[output_name].detach().numpy().astype(np.float32))
for key, tensor in weights.items():
    if tensor.requires_grad:
        np.save(os.path.join(out_dir, key + ".npy"), tensor.grad.numpy().astype(np.float32))
