"""Float64 PyTorch autograd gradients for the backward-kernel cross-checks (NativeCnn.Tests, PyTorchBackwardCrossCheckTests).

usage: backward_reference.py conv|depthwise DIR STRIDE DILATION TOP BOTTOM LEFT RIGHT
       backward_reference.py batchnorm DIR EPSILON

Reads x.npy (NHWC), w.npy (HWIO, or (kh, kw, C, multiplier)), b.npy and dy.npy (NHWC) from DIR; batchnorm reads
x.npy, gamma.npy, beta.npy and dy.npy. Writes y.npy, dx.npy, dw.npy/dgamma.npy and db.npy/dbeta.npy, NHWC and
Keras layouts, float64. The explicit pads put TensorFlow's 'same' extra pixel at the bottom/right.
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F


def load(directory, name, grad=True):
    t = torch.from_numpy(np.load(f"{directory}/{name}.npy").astype(np.float64))
    return t.requires_grad_(grad)


def save(directory, name, t):
    np.save(f"{directory}/{name}.npy", t.detach().contiguous().numpy())


def convolution(op, directory, stride, dilation, top, bottom, left, right):
    x, w, b = load(directory, "x"), load(directory, "w"), load(directory, "b")
    dy = load(directory, "dy", grad=False).permute(0, 3, 1, 2)
    xp = F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom))
    if op == "conv":
        y = F.conv2d(xp, w.permute(3, 2, 0, 1), b, stride=stride, dilation=dilation)
    else:
        kh, kw, c, m = w.shape
        # Output channel c*m + q belongs to group c: (c, m, kh, kw) flattened in that order.
        y = F.conv2d(xp, w.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw), b, stride=stride, dilation=dilation, groups=c)
    y.backward(dy)
    save(directory, "y", y.permute(0, 2, 3, 1))
    save(directory, "dx", x.grad)
    save(directory, "dw", w.grad)
    save(directory, "db", b.grad)


def batchnorm(directory, epsilon):
    x, gamma, beta = load(directory, "x"), load(directory, "gamma"), load(directory, "beta")
    dy = load(directory, "dy", grad=False)
    y = F.batch_norm(x.permute(0, 3, 1, 2), None, None, gamma, beta, training=True, eps=epsilon).permute(0, 2, 3, 1)
    y.backward(dy)
    save(directory, "y", y)
    save(directory, "dx", x.grad)
    save(directory, "dgamma", gamma.grad)
    save(directory, "dbeta", beta.grad)
    save(directory, "variance", x.detach().var(dim=(0, 1, 2), unbiased=False))


def main():
    op, directory = sys.argv[1], sys.argv[2]
    if op in ("conv", "depthwise"):
        convolution(op, directory, *map(int, sys.argv[3:9]))
    elif op == "batchnorm":
        batchnorm(directory, float(sys.argv[3]))
    else:
        raise SystemExit(f"unknown op {op}")


if __name__ == "__main__":
    main()
