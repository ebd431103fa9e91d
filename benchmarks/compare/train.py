#!/usr/bin/python3
"""Training-step benchmark: NativeCnn (Inspect train-step) against PyTorch eager float32 (torch_train_peer.py, the same
architecture built from the Keras config NativeCnn writes) in the same run, model by model, in --rounds alternating
rounds (NativeCnn, [baseline,] PyTorch, again), so that the slow and fast phases of a shared machine fall on every side.

A step is forward in training mode + sparse categorical cross-entropy + backward + the optimizer update (SGD with
momentum 0.9 by default, or Adam), on random weights, inputs and labels, after --warmup untimed steps. Each side is its
own process; its time is the median of its --steps steps, and a ratio (NativeCnn / PyTorch, below 1: NativeCnn faster)
is the median of the rounds' ratios. Memory: each process resets its peak resident size (VmHWM, via /proc/self/clear_refs)
once its model and batch exist, and reports VmHWM after the steps and the delta over its resident size at the reset:
the delta is what training added (activations, gradients, optimizer state, workspaces), without either runtime's own
footprint (the .NET runtime vs Python + libtorch).

--baseline REF adds NativeCnn at git REF (exported with `git archive` into benchmarks/.cache/train-baseline/<hash> and
built there) as one more side of the same rounds: one run says what a change did to step time and memory.

usage: train.py [--models mobilenetv2,efficientnet-b0,fashion-mnist-cnn] [--threads 2] [--steps 3] [--warmup 2]
                [--rounds 2] [--optimizer sgd|adam] [--baseline REF] [--json]
(benchmarks/compare/train builds NativeCnn's Inspect tool first, then runs this.)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(HERE, ".cache")
INSPECT = os.path.join(ROOT, "samples", "Inspect", "bin", "Release", "net10.0", "Inspect.dll")
sys.path.insert(0, HERE)
from compare import machine, run_json  # noqa: E402

# Model -> (batch, note) as issue 15 asks: the zoo at 224 x 224, batch 16; the Fashion-MNIST CNN at 28 x 28 x 1, batch 64.
MODELS = {"mobilenetv2": 16, "efficientnet-b0": 16, "fashion-mnist-cnn": 64}


def baseline_inspect(ref):
    """Inspect.dll built from git `ref` exported into a plain folder (no worktree), and the commit it resolved to."""
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--verify", f"{ref}^{{commit}}"], check=True,
                            capture_output=True, text=True).stdout.strip()
    folder = os.path.join(CACHE, "train-baseline", commit)
    dll = os.path.join(folder, "samples", "Inspect", "bin", "Release", "net10.0", "Inspect.dll")
    if not os.path.exists(os.path.join(folder, ".exported")):
        os.makedirs(folder, exist_ok=True)
        archive = subprocess.Popen(["git", "-C", ROOT, "archive", commit], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", folder], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise SystemExit(f"git archive {commit} failed")
        open(os.path.join(folder, ".exported"), "w").close()
    print(f"building NativeCnn's Inspect tool at {ref} ({commit[:10]}) in {folder} ...", file=sys.stderr)
    build = subprocess.run(["dotnet", "build", os.path.join(folder, "samples", "Inspect"), "-c", "Release", "-v", "quiet",
                            "-nologo"], capture_output=True, text=True)
    if build.returncode != 0:
        raise SystemExit(f"building Inspect at {ref} failed:\n{build.stdout}{build.stderr}")
    return dll, commit[:10]


def config_file(model):
    path = os.path.join(CACHE, f"train-{model}.json")
    os.makedirs(CACHE, exist_ok=True)
    subprocess.run(["dotnet", INSPECT, "train-step", model, "--write-config", path], check=True)
    return path


def measure(side, model, args, inspect=INSPECT):
    common = ["--batch", str(MODELS[model]), "--threads", str(args.threads), "--steps", str(args.steps),
              "--warmup", str(args.warmup), "--optimizer", args.optimizer]
    if side == "pytorch":
        return run_json([sys.executable, os.path.join(HERE, "torch_train_peer.py"), "--config", config_file(model), *common])
    return run_json(["dotnet", inspect, "train-step", model, *common, "--json"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per model")
    parser.add_argument("--optimizer", default="sgd", choices=("sgd", "adam"))
    parser.add_argument("--baseline", metavar="REF", help="also measure NativeCnn at this git commit, branch or tag")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            raise SystemExit(f"unknown model {m}; expected some of {', '.join(MODELS)}")
    sides = ["nativecnn"]
    baseline = None
    if args.baseline:
        dll, commit = baseline_inspect(args.baseline)
        baseline = {"label": f"nativecnn@{args.baseline}", "ref": args.baseline, "commit": commit, "inspect": dll}
        sides.append(baseline["label"])
    sides.append("pytorch")
    rows = []
    if not args.json:
        print(header(sides), flush=True)
    for model in models:
        results = {side: [] for side in sides}
        for _ in range(max(1, args.rounds)):
            for side in sides:
                if baseline and side == baseline["label"]:
                    results[side].append(measure("nativecnn", model, args, inspect=baseline["inspect"]))
                else:
                    results[side].append(measure(side, model, args))
        row = {"model": model, "batch": MODELS[model], "threads": args.threads, "optimizer": args.optimizer}
        for side, runs in results.items():
            row[f"{side}_ms"] = statistics.median(r["median_ms"] for r in runs)
            row[f"{side}_rounds_ms"] = [r["median_ms"] for r in runs]
            row[f"{side}_peak_rss_bytes"] = max(r["peak_rss_bytes"] for r in runs)
            row[f"{side}_peak_delta_bytes"] = max(r["peak_delta_bytes"] for r in runs)
        for side in sides[1:]:
            row[f"ratio_vs_{side}"] = statistics.median(n["median_ms"] / p["median_ms"] for n, p in zip(results["nativecnn"], results[side]))
            row[f"memory_ratio_vs_{side}"] = row["nativecnn_peak_delta_bytes"] / row[f"{side}_peak_delta_bytes"]
        rows.append(row)
        if not args.json:
            print(format_row(row, sides), flush=True)
            print(f"{'':<18} rounds ms: " + "; ".join(f"{s} " + ", ".join(f"{t:.0f}" for t in row[f"{s}_rounds_ms"]) for s in sides), flush=True)
    if args.json:
        info = {"machine": machine(), "rows": rows}
        if baseline:
            info["baseline"] = {k: baseline[k] for k in ("label", "ref", "commit")}
        print(json.dumps(info, indent=2))
    else:
        against = f"; {baseline['label']} is {baseline['commit']}" if baseline else ""
        print(f"\n{machine()}; {args.optimizer}, {args.threads} threads; step = forward + loss + backward + update, median of "
              f"{args.steps} steps after {args.warmup} warm-up steps; ms = median of {args.rounds} alternating rounds, "
              f"ratio = NativeCnn / other (< 1: NativeCnn faster or smaller); memory = peak RSS above the resident size once "
              f"model and batch exist (VmHWM delta, largest of the rounds), 'peak' = the process's VmHWM{against}")


def mib(value):
    return f"{value / 2**20:.0f}"


def header(sides):
    cols = "".join(f" {s + ' ms':>22} {'mem MiB':>8} {'peak MiB':>8}" for s in sides)
    ratios = "".join(f" {'time vs ' + s:>24} {'mem vs ' + s:>22}" for s in sides[1:])
    return f"{'model':<18} {'batch':>5}{cols}{ratios}"


def format_row(row, sides):
    cols = "".join(f" {row[s + '_ms']:>22.1f} {mib(row[s + '_peak_delta_bytes']):>8} {mib(row[s + '_peak_rss_bytes']):>8}" for s in sides)
    ratios = "".join(f" {row['ratio_vs_' + s]:>24.2f} {row['memory_ratio_vs_' + s]:>22.2f}" for s in sides[1:])
    return f"{row['model']:<18} {row['batch']:>5}{cols}{ratios}"


if __name__ == "__main__":
    main()
