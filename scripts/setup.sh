#!/usr/bin/env bash
# Install what diffbench needs, then configure and build it. Idempotent; run as root on Debian 12.
#   scripts/setup.sh [--libtorch pip|debian] [BUILD_DIR]
# pip (the default, the main build): LibTorch from the pinned torch wheel (scripts/requirements.txt)
#   in .venv/, built in build/, with CUDA when the machine has the CUDA toolkit of the wheel's major
#   version (nvcc on PATH or in /usr/local/cuda), CPU-only otherwise (one line says which and why).
# debian: Debian 12's LibTorch 1.13 (libtorch-dev, CPU) and its python3-torch, built in build-1.13/:
#   the second supported build; the models in models/ were saved by torch 1.13, so both load them.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "setup: $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

libtorch=pip
while [[ ${1:-} == --* ]]; do
  case $1 in
    --libtorch) [[ ${2:-} == pip || ${2:-} == debian ]] || die "--libtorch takes pip or debian, got '${2:-}'"
                libtorch=$2; shift 2 ;;
    --libtorch=*) libtorch=${1#*=}; [[ $libtorch == pip || $libtorch == debian ]] ||
                    die "--libtorch takes pip or debian, got '$libtorch'"; shift ;;
    *) die "unknown option '$1'; usage: scripts/setup.sh [--libtorch pip|debian] [BUILD_DIR]" ;;
  esac
done
default_dir=build
[[ $libtorch == debian ]] && default_dir=build-1.13
build_dir=${1:-$default_dir}

packages=(
  build-essential cmake ccache git
  ninja-build             # schedules the few large compile units better than make: 85 s vs 97 s clean
  libcli11-dev libfmt-dev nlohmann-json3-dev libgtest-dev libstb-dev
  slurm-wlm munge parallel   # scale-out: the tests start a one-host Slurm cluster and run GNU parallel
)
if [[ $libtorch == pip ]]; then
  packages+=(python3-venv)   # .venv/ with Debian's python3: torch, diffusers, numpy, matplotlib, jsonschema
else
  packages+=(
    libtorch-dev            # LibTorch 1.13 (CPU), provides TorchConfig.cmake
    libopenblas0-openmp     # without it LibTorch falls back to the ~4x slower reference BLAS
    python3-torch python3-numpy python3-matplotlib python3-jsonschema  # the tests' Python, torch 1.13
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [[ $libtorch == pip ]]; then
  venv=$PWD/.venv
  stamp=$venv/.requirements.sha256
  want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
  if [[ ! -x $venv/bin/python || $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
    say "installing the pinned Python packages into .venv/ (scripts/requirements.txt; torch with its CUDA libraries is about 3 GB)"
    [[ -x $venv/bin/python ]] || /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r scripts/requirements.txt
    echo "$want" > "$stamp"
  fi
  py=$venv/bin/python
  torch_root=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
  torch_cuda=$("$py" -c 'import torch; print(torch.version.cuda or "")')
  # The wheel's own folder first, so that its libtorch.so is found before any system one.
  cmake_args+=("-DCMAKE_PREFIX_PATH=$torch_root/share/cmake;$torch_root" "-DPython_EXECUTABLE=$py"
               "-DDIFFBENCH_PYTHON=$py")
  nvcc=$(command -v nvcc || true)
  [[ -z $nvcc && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
  nvcc_version=
  [[ -n $nvcc ]] && nvcc_version=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\),.*/\1/p')
  if [[ -z $torch_cuda ]]; then
    say "torch $("$py" -c 'import torch; print(torch.__version__)') has no CUDA: CPU-only build"
    cmake_args+=(-DDIFFBENCH_TORCH_CPU_ONLY=OFF)
  elif [[ -z $nvcc ]]; then
    say "no CUDA toolkit (nvcc) on this machine: CPU-only build (install CUDA $torch_cuda's toolkit for the CUDA build)"
    cmake_args+=(-DDIFFBENCH_TORCH_CPU_ONLY=ON)
  elif [[ ${nvcc_version%%.*} != "${torch_cuda%%.*}" ]]; then
    say "nvcc $nvcc_version and torch's CUDA $torch_cuda differ in major version (two CUDA runtimes in one process): CPU-only build"
    cmake_args+=(-DDIFFBENCH_TORCH_CPU_ONLY=ON)
  else
    say "CUDA build: nvcc $nvcc_version ($nvcc), torch's CUDA $torch_cuda"
    # Architectures only matter to .cu files, which diffbench has none of; Hopper and Ampere.
    cmake_args+=(-DDIFFBENCH_TORCH_CPU_ONLY=OFF "-DCMAKE_CUDA_COMPILER=$nvcc" "-DTORCH_CUDA_ARCH_LIST=8.0;9.0")
  fi
else
  cmake_args+=(-DDIFFBENCH_PYTHON=/usr/bin/python3 -DDIFFBENCH_TORCH_CPU_ONLY=OFF)
fi

# Ninja for a new build folder; one made earlier keeps its generator (CMake refuses to switch).
generator=()
[[ -f $build_dir/CMakeCache.txt ]] || generator=(-G Ninja)
mkdir -p "$build_dir"
cmake -S . -B "$build_dir" "${generator[@]}" "${cmake_args[@]}" >"$build_dir/configure.log" 2>&1 ||
  { tail -n 30 "$build_dir/configure.log" >&2; die "configuring $build_dir failed (log: $build_dir/configure.log)"; }
cmake --build "$build_dir" -j "$(nproc)"
say "$build_dir/ built in $((SECONDS / 60))m$((SECONDS % 60))s (set-up included)"
