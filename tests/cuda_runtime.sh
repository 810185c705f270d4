#!/usr/bin/env bash
# The CUDA build links one CUDA runtime: the binary needs LibTorch's CUDA half and resolves exactly
# one libcudart (the toolkit's and the wheel's agree on the major version, so the loader shares one).
#   cuda_runtime.sh BINARY
set -euo pipefail
deps=$(ldd "$1")
echo "$deps" | grep -E "cudart|torch_cuda|not found" || true
if echo "$deps" | grep -q "not found"; then echo "FAIL: a library is not found"; exit 1; fi
echo "$deps" | grep -q "libtorch_cuda.so" || { echo "FAIL: $1 does not link LibTorch's CUDA library"; exit 1; }
runtimes=$(echo "$deps" | grep -c "libcudart\.so" || true)
[[ $runtimes == 1 ]] || { echo "FAIL: $runtimes CUDA runtimes (libcudart) in $1, want 1"; exit 1; }
echo "one CUDA runtime: ok"
