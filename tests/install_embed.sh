#!/usr/bin/env bash
# Install the built tree into a scratch prefix, build examples/embed against the installed CMake
# package (find_package(diffbench) -> diffbench::core), and run it and the installed CLI.
#   install_embed.sh BUILD_DIR SOURCE_DIR TORCH_DIR
set -euo pipefail
build=$1 src=$2 torch_dir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
test -f "$tmp/prefix/include/diffbench/measure/runner.h"
test -f "$tmp/prefix/share/diffbench/models/digits/unet.pt"
# LibTorch's own folder on the prefix path too, so that its libtorch.so is found before any system
# one (pip's LibTorch beside Debian's); the build's CUDA compiler, where it has one.
torch_root=$(realpath -m "$torch_dir/../../..")
cuda=()
[[ -n ${CUDA_COMPILER:-} ]] && cuda=(-DCMAKE_CUDA_COMPILER="$CUDA_COMPILER")
cmake -S "$src/examples/embed" -B "$tmp/embed" -DCMAKE_PREFIX_PATH="$tmp/prefix;$torch_root" -DTorch_DIR="$torch_dir" \
  "${cuda[@]}" -DCMAKE_BUILD_TYPE=Release > "$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/embed" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
# The example runs a measurement, two sweep cells and an A/A ab decision through the public API
# (issue #43), on an unconditional UNet and on the conditional digit teacher (whose manifest supplies
# its conditioning, as for the CLI).
for model in tiny.pt digits/unet.pt; do
  out=$("$tmp/embed/embed" "$tmp/prefix/share/diffbench/models/$model" ddim 4)
  echo "$out"
  [[ $out == "ddim, 4 steps: ok, median "*" ms per run over 3 repeats"* ]] || exit 1
  [[ $out == *"sweep cell ddim 4 steps: ok, median "*"sweep cell ddim 8 steps: ok, median "* ]] || exit 1
  [[ $out =~ "ab (A/A): "(not slower|undecided|faster|slower)" after "[1-9][0-9]*" blocks" ]] || exit 1
done
# The example's errors are one line each: a bad step count is a usage error (exit 2), not "stoi".
set +e
err=$("$tmp/embed/embed" "$tmp/prefix/share/diffbench/models/tiny.pt" ddim four 2>&1); code=$?
[[ $code == 2 && $err == "error: STEPS must be a whole number >= 1, got 'four'"* ]] || { echo "$err"; exit 1; }
set -e
"$tmp/prefix/bin/diffbench" list > /dev/null
# The installed binary uses its own share/ (models, configs, sweep grids) from any directory, even
# with the source tree it was built from still on disk.
test -f "$tmp/prefix/share/diffbench/configs/sweeps/lecture-table.json"
(cd "$tmp" && "$tmp/prefix/bin/diffbench" --sampler ddim --steps 2 --warmup 0 --repeat 1 --threads 1 -q \
  --config configs/sd15.json --json "$tmp/r.json")
/usr/bin/python3 - "$tmp" <<'PY'
import json, os, sys
run = json.load(open(sys.argv[1] + "/r.json"))["runs"][0]
unet = os.path.realpath(run["config"]["unet"])
assert unet == os.path.realpath(sys.argv[1] + "/prefix/share/diffbench/models/digits/unet.pt"), unet
PY
(cd "$tmp" && "$tmp/prefix/bin/diffbench" sweep --grid configs/sweeps/lecture-table.json --shard-plan 2 > "$tmp/plan.txt")
grep -q "lcm" "$tmp/plan.txt"
echo "installed package, example and CLI: ok"
