#!/usr/bin/env bash
# Install the built tree into a scratch prefix, build examples/embed against the installed CMake
# package (find_package(diffbench) -> diffbench::core), and run it and the installed CLI.
#   install_embed.sh BUILD_DIR SOURCE_DIR TORCH_DIR
set -euo pipefail
build=$1 src=$2 torch_dir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
test -f "$tmp/prefix/include/diffbench/runner.h"
test -f "$tmp/prefix/share/diffbench/models/digits/unet.pt"
cmake -S "$src/examples/embed" -B "$tmp/embed" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DTorch_DIR="$torch_dir" \
  -DCMAKE_BUILD_TYPE=Release > "$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/embed" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
out=$("$tmp/embed/embed" "$tmp/prefix/share/diffbench/models/tiny.pt" ddim 4)
echo "$out"
[[ $out == "ddim, 4 steps: ok, median "*" ms per run over 3 repeats" ]]
"$tmp/prefix/bin/diffbench" list > /dev/null
echo "installed package, example and CLI: ok"
