#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, in one command:
#   bash scripts/gpu-check.sh            (MIB=4096 for a larger transfer)
# Installs the packages, builds the gpu module with CUDA (nvcc from PATH or
# /usr/local/cuda/bin), runs the gpu test suite on the real device
# (tst_gpu_cuda) and on the emulated one (tst_gpu), then bench_gpu on the
# CUDA backend, which prints side by side: the device's own pinned
# device->host and host->device copy rate, offload and load through the
# cache, and plain file write and read of the same bytes. The figures are
# also written to build-cuda/bench_gpu_cuda.json.
# Exit 3 when no GPU is visible or CUDA could not be built.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no GPU visible (nvidia-smi -L failed); the emulated device is tested by scripts/test.sh" >&2
  exit 3
fi
nvidia-smi -L

bash scripts/setup.sh
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DDISKCACHE_CUDA=ON -DDISKCACHE_BUILD_APP=OFF >/dev/null
if ! cmake --build build-cuda -j"$(nproc)" --target tst_gpu tst_gpu_cuda bench_gpu; then
  echo "gpu-check: the CUDA backend did not build (is nvcc installed and found?)" >&2
  exit 3
fi
ctest --test-dir build-cuda -R '^tst_gpu(_cuda)?$' --output-on-failure

dir="$(mktemp -d "${TMPDIR:-/tmp}/diskcache-gpu-check-XXXXXX")"
trap 'rm -rf "$dir"' EXIT
build-cuda/bench/bench_gpu --backend cuda --mib "${MIB:-1024}" --reps 5 \
  --json build-cuda/bench_gpu_cuda.json "$dir"
