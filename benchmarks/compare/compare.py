#!/usr/bin/python3
"""Runs NativeCnn and its peers side by side, configuration by configuration, and prints the ratio NativeCnn ms / peer ms
(below 1 means NativeCnn is faster). Every number in one table comes from the same run. Each configuration is measured
in --rounds alternating rounds (NativeCnn, then each peer, again and again), so that the slow and fast phases of a
shared machine fall on both sides; a ratio is the median of the rounds' ratios, a time the median of the rounds' medians.

Peers (--peers, all by default), each on the same ONNX export of the torchvision model where it runs ONNX:
  onnxruntime         ONNX Runtime from Node.js (onnxruntime-node, ort-latency.mjs)
  onnxruntime-dotnet  ONNX Runtime's .NET package in-process (Microsoft.ML.OnnxRuntime, OrtPeer/), input and output
                      pre-bound to pinned arrays: what a C# user would pick
  pytorch             PyTorch, TorchScript-traced and frozen (torch_peer.py)

--baseline REF adds NativeCnn at git REF as one more column, nativecnn@REF, measured in the same alternating rounds,
and the ratio new / baseline (below 1 means the working tree is faster): one run says whether a change made any model
slower. The baseline's Inspect tool is built in a worktree under benchmarks/.cache/baseline (benchmarks/baseline-worktree;
reused by later runs, `benchmarks/baseline-worktree --remove-all` removes them).

usage: compare.py [--models resnet50,mobilenetv2,...] [--threads 1,2] [--batch 1,8] [--runs N] [--rounds R]
                  [--peers onnxruntime,onnxruntime-dotnet,pytorch] [--baseline REF] [--json]
  e.g. benchmarks/compare/run --models mobilenetv2,efficientnet-b0 --threads 1 --batch 1 --rounds 2 --baseline main
(benchmarks/compare/run installs the peers and builds NativeCnn's Inspect tool and OrtPeer first, then runs this.)
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
ORT_PEER = os.path.join(HERE, "OrtPeer", "bin", "Release", "net10.0", "OrtPeer.dll")
PEERS = ("onnxruntime", "onnxruntime-dotnet", "pytorch")

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


def baseline_inspect(ref):
    """Inspect.dll built at git `ref` in a reused worktree, and the commit it resolved to."""
    worktree = subprocess.run([os.path.join(ROOT, "benchmarks", "baseline-worktree"), ref], check=True,
                              capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", worktree, "rev-parse", "--short", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    print(f"building NativeCnn's Inspect tool at {ref} ({commit}) in {worktree} ...", file=sys.stderr)
    build = subprocess.run(["dotnet", "build", os.path.join(worktree, "samples", "Inspect"), "-c", "Release", "-v", "quiet",
                            "-nologo"], capture_output=True, text=True)
    if build.returncode != 0:
        raise SystemExit(f"building Inspect at {ref} failed:\n{build.stdout}{build.stderr}")
    return os.path.join(worktree, "samples", "Inspect", "bin", "Release", "net10.0", "Inspect.dll"), commit


def measure(peer, model, threads, batch, runs, inspect=INSPECT):
    resolution = str(RESOLUTIONS[model])
    common = ["--resolution", resolution, "--batch", str(batch), "--threads", str(threads), "--runs", str(runs)]
    if peer == "nativecnn":
        # Inspect's profile warms up once, then times `runs` forward passes on seeded random weights.
        return run_json(["dotnet", inspect, "profile", model, *common, "--json"])
    if peer == "onnxruntime":
        return run_json(["node", os.path.join(HERE, "ort-latency.mjs"), "--model", onnx_file(model), *common])
    if peer == "onnxruntime-dotnet":
        if not os.path.exists(ORT_PEER):
            raise SystemExit(f"{ORT_PEER} is missing: dotnet build {os.path.join(HERE, 'OrtPeer')} -c Release (run does)")
        return run_json(["dotnet", ORT_PEER, "--model", onnx_file(model), *common])
    return run_json([sys.executable, os.path.join(HERE, "torch_peer.py"), "latency", "--arch", model, *common])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch", default="1,8")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per measurement (B4-B7 use a third)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per configuration")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--baseline", metavar="REF", help="also measure NativeCnn at this git commit, branch or tag")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in RESOLUTIONS:
            raise SystemExit(f"unknown model {m}; expected one of {', '.join(RESOLUTIONS)}")
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in PEERS:
            raise SystemExit(f"unknown peer {p}; expected some of {', '.join(PEERS)}")
    baseline = None
    if args.baseline:
        # The baseline column is one more side of the same alternating rounds, right after the working tree's.
        inspect, commit = baseline_inspect(args.baseline)
        baseline = {"label": f"nativecnn@{args.baseline}", "ref": args.baseline, "commit": commit, "inspect": inspect}
    columns = ([baseline["label"]] if baseline else []) + peers
    rows = []
    if not args.json:
        print(header(columns), flush=True)
    for model in models:
        heavy = model in ("efficientnet-b4", "efficientnet-b5", "efficientnet-b6", "efficientnet-b7")
        runs = max(3, args.runs // 3) if heavy else args.runs
        for threads in (int(t) for t in args.threads.split(",")):
            for batch in (int(b) for b in args.batch.split(",")):
                row = {"model": model, "resolution": RESOLUTIONS[model], "threads": threads, "batch": batch}
                rounds = {column: [] for column in ["nativecnn", *columns]}
                for _ in range(max(1, args.rounds)):
                    for column in rounds:
                        if baseline and column == baseline["label"]:
                            result = measure("nativecnn", model, threads, batch, runs, inspect=baseline["inspect"])
                        else:
                            result = measure(column, model, threads, batch, runs)
                        rounds[column].append(result["median_ms"])
                for column, times in rounds.items():
                    row[f"{column}_ms"] = statistics.median(times)
                    row[f"{column}_rounds_ms"] = times
                for column in columns:
                    row[f"ratio_vs_{column}"] = statistics.median(n / p for n, p in zip(rounds["nativecnn"], rounds[column]))
                rows.append(row)
                if not args.json:
                    print(format_row(row, columns), flush=True)
    if args.json:
        info = {"machine": machine(), "rows": rows}
        if baseline:
            info["baseline"] = {k: baseline[k] for k in ("label", "ref", "commit")}
        print(json.dumps(info, indent=2))
    else:
        against = f"; {baseline['label']} is {baseline['commit']}, vs it = new / baseline (< 1: faster now)" if baseline else ""
        print(f"\n{machine()}; ratio = NativeCnn ms / peer ms (< 1: NativeCnn faster); medians of {args.rounds} alternating rounds of {args.runs} runs{against}")


def header(columns):
    width = max([16, *(len(c) + 4 for c in columns)])
    cols = "".join(f" {c + ' ms':>{width}}" for c in columns) + "".join(f" {'vs ' + c:>{width}}" for c in columns)
    return f"{'model':<18} {'res':>4} {'thr':>3} {'batch':>5} {'nativecnn ms':>13}{cols}"


def format_row(row, columns):
    width = max([16, *(len(c) + 4 for c in columns)])
    cols = "".join(f" {row[c + '_ms']:>{width}.2f}" for c in columns) + "".join(f" {row['ratio_vs_' + c]:>{width}.2f}" for c in columns)
    return f"{row['model']:<18} {row['resolution']:>4} {row['threads']:>3} {row['batch']:>5} {row['nativecnn_ms']:>13.2f}{cols}"


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}, load average {os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
