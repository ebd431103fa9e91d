#!/usr/bin/python3
"""PyTorch (Debian python3-torch, CPU) as a peer: exports torchvision models to ONNX for ONNX Runtime, and measures
its own latency (TorchScript-traced, frozen, inference mode). Random weights: latency does not depend on their values.

usage: torch_peer.py export  --arch NAME --resolution N --out FILE.onnx
       torch_peer.py latency --arch NAME --resolution N [--batch B] [--threads T] [--runs R] [--warmup W]
"""
import argparse
import json
import os
import statistics
import sys
import time


def _threads_from_argv():
    # OpenMP and OpenBLAS size their pools when torch is imported; set them first, or 1-thread runs oversubscribe.
    if "--threads" in sys.argv:
        return sys.argv[sys.argv.index("--threads") + 1]
    return "1"


for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = _threads_from_argv()

import torch  # noqa: E402  (after the thread settings above)
import torchvision  # noqa: E402

# torchvision builders with the same architecture as the Keras applications NativeCnn builds.
ARCHS = {
    "resnet50": torchvision.models.resnet50,
    "resnet101": torchvision.models.resnet101,
    "resnet152": torchvision.models.resnet152,
    "mobilenetv2": torchvision.models.mobilenet_v2,
    **{f"efficientnet-b{i}": getattr(torchvision.models, f"efficientnet_b{i}") for i in range(8)},
}


def build(arch):
    if arch not in ARCHS:
        raise SystemExit(f"unknown --arch {arch}; expected one of {', '.join(ARCHS)}")
    return ARCHS[arch](weights=None).eval()


def export(args):
    model = build(args.arch)
    x = torch.zeros(1, 3, args.resolution, args.resolution)
    torch.onnx.export(model, x, args.out, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def latency(args):
    torch.set_num_threads(args.threads)
    model = build(args.arch)
    x = torch.rand(args.batch, 3, args.resolution, args.resolution) - 0.5
    with torch.inference_mode():
        frozen = torch.jit.freeze(torch.jit.trace(model, x))
        for _ in range(args.warmup):
            frozen(x)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            frozen(x)
            times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"peer": "pytorch", "version": torch.__version__, "median_ms": statistics.median(times),
                      "min_ms": min(times), "runs": args.runs}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["export", "latency"])
    parser.add_argument("--arch", required=True)
    parser.add_argument("--resolution", type=int, required=True)
    parser.add_argument("--out")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if args.command == "export":
        if not args.out:
            raise SystemExit("export needs --out")
        export(args)
    else:
        latency(args)


if __name__ == "__main__":
    main()
