#!/usr/bin/python3
"""Runs NativeCnn and its peers (ONNX Runtime, PyTorch) side by side, configuration by configuration, and prints the
ratio NativeCnn ms / peer ms (below 1 means NativeCnn is faster). Every number in one table comes from the same run.
Each configuration is measured in --rounds alternating rounds (NativeCnn, then each peer, again and again), so that the
slow and fast phases of a shared machine fall on both sides; a ratio is the median of the rounds' ratios, a time the
median of the rounds' medians.

usage: compare.py [--models resnet50,mobilenetv2,...] [--threads 1,2] [--batch 1,8] [--runs N] [--rounds R]
                  [--peers onnxruntime,pytorch] [--json]
"""
import statistics
import argparse
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(HERE, ".cache")
INSPECT = os.path.join(ROOT, "samples", "Inspect", "bin", "Release", "net10.0", "Inspect.dll")

# Model -> input resolution (Keras defaults; B3 and B7 at their own sizes).
RESOLUTIONS = {"resnet50": 224, "resnet101": 224, "resnet152": 224, "mobilenetv2": 224, "efficientnet-b0": 224,
               "efficientnet-b1": 240, "efficientnet-b2": 260, "efficientnet-b3": 300, "efficientnet-b4": 380,
               "efficientnet-b5": 456, "efficientnet-b6": 528, "efficientnet-b7": 600}
DEFAULT_MODELS = "resnet50,mobilenetv2,efficientnet-b0,efficientnet-b3,efficientnet-b7"


def run_json(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def onnx_file(model):
    path = os.path.join(CACHE, f"{model}-{RESOLUTIONS[model]}.onnx")
    if not os.path.exists(path):
        os.makedirs(CACHE, exist_ok=True)
        print(f"exporting {model} to ONNX ...", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(HERE, "torch_peer.py"), "export", "--arch", model,
                        "--resolution", str(RESOLUTIONS[model]), "--out", path + ".tmp"], check=True,
                       stdout=subprocess.DEVNULL)
        os.replace(path + ".tmp", path)
    return path


def measure(peer, model, threads, batch, runs):
    resolution = str(RESOLUTIONS[model])
    common = ["--resolution", resolution, "--batch", str(batch), "--threads", str(threads), "--runs", str(runs)]
    if peer == "nativecnn":
        # Inspect's profile warms up once, then times `runs` forward passes on seeded random weights.
        return run_json(["dotnet", INSPECT, "profile", model, *common, "--json"])
    if peer == "onnxruntime":
        return run_json(["node", os.path.join(HERE, "ort-latency.mjs"), "--model", onnx_file(model), *common])
    return run_json([sys.executable, os.path.join(HERE, "torch_peer.py"), "latency", "--arch", model, *common])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch", default="1,8")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per measurement (B4-B7 use a third)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per configuration")
    parser.add_argument("--peers", default="onnxruntime,pytorch")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in RESOLUTIONS:
            raise SystemExit(f"unknown model {m}; expected one of {', '.join(RESOLUTIONS)}")
    peers = [p for p in args.peers.split(",") if p]
    rows = []
    if not args.json:
        print(header(peers), flush=True)
    for model in models:
        heavy = model in ("efficientnet-b4", "efficientnet-b5", "efficientnet-b6", "efficientnet-b7")
        runs = max(3, args.runs // 3) if heavy else args.runs
        for threads in (int(t) for t in args.threads.split(",")):
            for batch in (int(b) for b in args.batch.split(",")):
                row = {"model": model, "resolution": RESOLUTIONS[model], "threads": threads, "batch": batch}
                rounds = {peer: [] for peer in ["nativecnn", *peers]}
                for _ in range(max(1, args.rounds)):
                    for peer in rounds:
                        rounds[peer].append(measure(peer, model, threads, batch, runs)["median_ms"])
                for peer, times in rounds.items():
                    row[f"{peer}_ms"] = statistics.median(times)
                    row[f"{peer}_rounds_ms"] = times
                for peer in peers:
                    row[f"ratio_vs_{peer}"] = statistics.median(n / p for n, p in zip(rounds["nativecnn"], rounds[peer]))
                rows.append(row)
                if not args.json:
                    print(format_row(row, peers), flush=True)
    if args.json:
        print(json.dumps({"machine": machine(), "rows": rows}, indent=2))
    else:
        print(f"\n{machine()}; ratio = NativeCnn ms / peer ms (< 1: NativeCnn faster); medians of {args.rounds} alternating rounds of {args.runs} runs")


def header(peers):
    cols = "".join(f" {p + ' ms':>16}" for p in peers) + "".join(f" {'vs ' + p:>16}" for p in peers)
    return f"{'model':<18} {'res':>4} {'thr':>3} {'batch':>5} {'nativecnn ms':>13}{cols}"


def format_row(row, peers):
    cols = "".join(f" {row[p + '_ms']:>16.2f}" for p in peers) + "".join(f" {row['ratio_vs_' + p]:>16.2f}" for p in peers)
    return f"{row['model']:<18} {row['resolution']:>4} {row['threads']:>3} {row['batch']:>5} {row['nativecnn_ms']:>13.2f}{cols}"


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}"


if __name__ == "__main__":
    main()
