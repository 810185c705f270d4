#!/usr/bin/env bash
# One disturbed block in a real `diffbench ab` between processes (issue #27): the base side's binary
# is this script; its 3rd process runs at nice 19 beside two busy loops (a neighbour hogging the
# cores), so that block's new/base ratio falls far below 1 while every other block shows the real
# slowdown (16x the latent pixels). Prints each block's ratio and the verdict, for at most 6 and 10 blocks.
#   bench/disturbed_pair.sh [BUILD_DIR]      (run from the repository root)
set -euo pipefail
if [[ "${DISTURBED_PAIR_CHILD:-}" == 1 ]]; then  # called by ab as the base binary
  n=$(($(cat "$DISTURBED_PAIR_DIR/count" 2>/dev/null || echo 0) + 1))
  echo "$n" >"$DISTURBED_PAIR_DIR/count"
  if [[ $n == 3 ]]; then
    sh -c 'while :; do :; done' & a=$!
    sh -c 'while :; do :; done' & b=$!
    rc=0; nice -n 19 "$DISTURBED_PAIR_BIN" "$@" || rc=$?
    kill "$a" "$b"; exit "$rc"
  fi
  exec "$DISTURBED_PAIR_BIN" "$@"
fi
build=$(realpath "${1:-build}")
export DISTURBED_PAIR_CHILD=1 DISTURBED_PAIR_BIN="$build/diffbench" DISTURBED_PAIR_DIR
DISTURBED_PAIR_DIR=$(mktemp -d /tmp/diffbench-disturbed.XXXXXX)
trap 'rm -rf "$DISTURBED_PAIR_DIR"' EXIT
for n in 6 10; do
  rm -f "$DISTURBED_PAIR_DIR/count"
  code=0
  "$build/diffbench" ab --alpha 0.05 --max-blocks "$n" --warmup-blocks 0 -q --base-bin "$(realpath "$0")" --ignore shape \
    --new-args "--shape 1,4,64,64" --save-base "$DISTURBED_PAIR_DIR/b.json" --save-new "$DISTURBED_PAIR_DIR/n.json" \
    --json "$DISTURBED_PAIR_DIR/c.json" -- --unet models/tiny.pt --threads 1 --sampler ddim --steps 4 --warmup 0 \
    --repeat 2 >/dev/null 2>&1 || code=$?
  /usr/bin/python3 - "$DISTURBED_PAIR_DIR" "$n" "$code" <<'PY'
import json, statistics, sys
d, n, code = sys.argv[1:]
level = lambda f: {r["process"]["pair"]: statistics.median(r["stats"]["total_s"]["samples"]) for r in json.load(open(f"{d}/{f}"))["runs"]}
b, m = level("b.json"), level("n.json")
c = json.load(open(f"{d}/c.json"))["cells"][0]["decision"]
print(f"at most {n} blocks: ratios {[round(m[k] / b[k], 2) for k in sorted(b)]} -> {c['verdict']} after {c['n']} "
      f"(change {100 * c['change']:+.1f}%, exit {code})")
PY
done
