#!/usr/bin/env bash
# README's test command. Installs the independent references the tests compare against where they are missing
# (Debian's NumPy, h5py, PIL and PyTorch (CPU, float64 gradients), the Fashion-MNIST dataset, PoCL for the
# ILGPU backend's OpenCL kernels, Node.js and TensorFlow.js from npm), then runs every test. Arguments go on to 'dotnet test' (e.g. --filter Weights). A reference that cannot be installed here (not
# root, no network) is reported, and the tests that need it are skipped with the reason, except under CI=true, where
# they must run: there a failed install stops the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
ci=$([ "${CI:-}" = true ] && echo 1 || echo 0)

missing() { # what failed, how to install it
  if [ "$ci" = 1 ]; then echo "tests/run.sh: $1 ($2); CI needs every reference" >&2; exit 1; fi
  echo "tests/run.sh: $1; the tests that need it are skipped ($2)" >&2
}

packages=()
/usr/bin/python3 -c 'import numpy, h5py, PIL' 2>/dev/null || packages+=(python3-numpy python3-h5py python3-pil)
/usr/bin/python3 -c 'import torch' 2>/dev/null || packages+=(python3-torch)
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || packages+=(dataset-fashion-mnist)
[ -e /etc/OpenCL/vendors/pocl.icd ] || packages+=(pocl-opencl-icd ocl-icd-libopencl1)
command -v npm >/dev/null || packages+=(nodejs npm)
if [ ${#packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if command -v apt-get >/dev/null && { [ -z "$sudo" ] || sudo -n true 2>/dev/null; }; then
    echo "tests/run.sh: installing ${packages[*]}"
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; } \
      || missing "could not install ${packages[*]}" "apt-get install ${packages[*]}"
  else
    missing "${packages[*]} not installed" "apt-get install ${packages[*]} as root"
  fi
fi

# TensorFlow.js, pinned by package-lock.json; npm ci again whenever the lock file's content changed since the last
# install (a content stamp, not file times: a fresh checkout or a git worktree has a newer lock file of the same content).
tfjs=tests/reference/tfjs
if command -v npm >/dev/null; then
  lock_sum="$(sha256sum "$tfjs/package-lock.json" | cut -d' ' -f1)"
  stamp="$tfjs/node_modules/.nativecnn-lock-sha256"
  if [ ! -f "$tfjs/node_modules/@tensorflow/tfjs/package.json" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
    echo "tests/run.sh: installing TensorFlow.js (npm ci in $tfjs)"
    (cd "$tfjs" && npm ci --no-audit --no-fund --loglevel=error) || missing "npm ci failed in $tfjs" "cd $tfjs && npm ci"
    [ -d "$tfjs/node_modules" ] && echo "$lock_sum" > "$stamp"
  fi
fi

# PoCL caches compiled kernels and reports no device at all when it cannot write its cache.
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-${TMPDIR:-/tmp}/nativecnn-pocl-cache}"
mkdir -p "$POCL_CACHE_DIR"

exec dotnet test NativeCnn.sln -c Release "$@"
