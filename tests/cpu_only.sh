#!/usr/bin/env bash
# Builds tests/cpu_only against the pip LibTorch's CPU half (no CUDA toolkit used), runs it on a
# shipped model, and checks that LibTorch's CUDA backend (libtorch_cuda, libc10_cuda) is not loaded.
# (libtorch_cpu itself needs the wheel's libcudart and libcupti, for its profiler: they come with
# the wheel and run without a GPU.)
#   cpu_only.sh SOURCE_DIR TORCH_DIR
set -euo pipefail
src=$1 torch_dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake -S "$src/tests/cpu_only" -B "$tmp/build" -DDIFFBENCH_SOURCE_DIR="$src" -DTorch_DIR="$torch_dir" \
  -DCMAKE_BUILD_TYPE=Release > "$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
grep -q "CPU libraries only" "$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
if grep -qi "cuda" "$tmp/build/CMakeCache.txt"; then echo "FAIL: the CPU-only configure looked at CUDA"; exit 1; fi
cmake --build "$tmp/build" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
"$tmp/build/cpu_only" "$src/models/tiny.pt"
if ldd "$tmp/build/cpu_only" | grep -E "torch_cuda|c10_cuda"; then echo "FAIL: LibTorch's CUDA backend loaded"; exit 1; fi
echo "CPU-only against a CUDA LibTorch: ok"
